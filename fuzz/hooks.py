"""Schemathesis hooks for `npm run fuzz` (scripts/fuzz.ts sets the FUZZ_* variables).

- A platform admin's token from the real Keycloak, renewed before it expires (tokens live 5 min).
- Schema-valid (positive) requests are steered to the fuzz accounts: `accountId` one of a fixed
  few, every clientId with the path's `<accountId>_` prefix, so that creates succeed and the
  stateful phase works on real clients. Negative requests are left exactly as generated.
- A schema-valid request the service refuses fails the run unless fuzz/expected-refusals.yaml
  lists it (operation, status, problem type and, for validation-failed, every failing field).
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import zlib
from collections import Counter
from pathlib import Path

import requests
import yaml

import schemathesis

TOKEN_URL = os.environ["FUZZ_TOKEN_URL"]
USERNAME = os.environ.get("FUZZ_USERNAME", "paula")
ACCOUNTS = os.environ.get("FUZZ_ACCOUNTS", "fuzz-a,fuzz-b").split(",")
# PUT limits goes to an account of its own: a generated limit of 0 must not starve the others
LIMITS_ACCOUNT = os.environ.get("FUZZ_LIMITS_ACCOUNT", "fuzz-limits")
SCRIPT_CLIENT_ID_MAX = 239  # see expected-refusals.yaml: service-account-<clientId> in 255 characters

REFUSALS = yaml.safe_load((Path(__file__).parent / "expected-refusals.yaml").read_text())["refusals"]
accepted: Counter[str] = Counter()


@schemathesis.auth(refresh_interval=120)
class PlatformAdminToken:
    """The demo platform admin, by the password grant of api-clients-cli."""

    def get(self, case, ctx):
        answer = requests.post(
            TOKEN_URL,
            data={"grant_type": "password", "client_id": "api-clients-cli", "username": USERNAME, "password": USERNAME},
            timeout=30,
        )
        answer.raise_for_status()
        return answer.json()["access_token"]

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


def _pick(value: object, choices: list[str]) -> str:
    """The same choice for the same generated value: hypothesis can replay and shrink."""
    return choices[zlib.crc32(repr(value).encode()) % len(choices)]


def _with_prefix(account: str, client_id: object, max_length: int = 255) -> str:
    text = client_id if isinstance(client_id, str) else str(client_id)
    if text.startswith(f"{account}_") and re.fullmatch(r"[A-Za-z0-9._-]+", text[len(account) + 1 :] or "-"):
        return text[:max_length]
    suffix = re.sub(r"[^A-Za-z0-9._-]", "", text) or "c"
    return f"{account}_{suffix}"[:max_length]


def _is_positive(case) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


@schemathesis.hook
def map_case(ctx, case):
    if not _is_positive(case):
        return case
    operation = case.operation.definition.raw.get("operationId")
    params = case.path_parameters
    if not params or "accountId" not in params:
        return case
    if case.meta.phase.name == "stateful" and "clientId" in params:
        # a step after a create: its accountId and clientId come from the create's answer (links);
        # rewriting them would ask for a client that was never created
        return case
    if operation == "setLimits":
        params["accountId"] = LIMITS_ACCOUNT
    elif params["accountId"] not in ACCOUNTS:
        params["accountId"] = _pick(params["accountId"], ACCOUNTS)
    account = params["accountId"]
    if "clientId" in params:
        params["clientId"] = _with_prefix(account, params["clientId"])
    body = case.body
    if isinstance(body, dict) and "clientId" in body:
        if "clientId" in params:  # PUT, PATCH: the clientId cannot change
            body["clientId"] = params["clientId"]
        else:
            script = "Script" in (body.get("capabilityTypes") or [])
            body["clientId"] = _with_prefix(account, body["clientId"], SCRIPT_CLIENT_ID_MAX if script else 255)
    if isinstance(body, dict) and isinstance(body.get("clientIds"), list):
        # distinct values may share a prefixed form: keep the list unique, as the schema says
        body["clientIds"] = list(dict.fromkeys(_with_prefix(account, item) for item in body["clientIds"]))
    return case


def _problem(response) -> dict:
    try:
        body = response.json()
    except Exception:
        return {}
    return body if isinstance(body, dict) else {}


def _matches(entry: dict, operation: str, status: int, problem: dict) -> bool:
    if operation not in entry["operations"] or status != entry["status"]:
        return False
    if problem.get("type") != entry["type"]:
        return False
    fields = entry.get("fields")
    if fields is None:
        return True
    errors = problem.get("errors") or []
    # every failing field must be one this rule names; an entry with fields covers none else
    return bool(errors) and all(
        any(re.fullmatch(pattern, f"{error.get('in')}:{error.get('pointer')}") for pattern in fields)
        for error in errors
    )


def _expected_refusal(case, response) -> str | None:
    operation = case.operation.definition.raw.get("operationId")
    problem = _problem(response)
    status = response.status_code
    if status == 400 and problem.get("type", "").endswith(":validation-failed"):
        # each failing field may be covered by a different rule: check them one by one
        errors = problem.get("errors") or []
        names = []
        for error in errors:
            single = {**problem, "errors": [error]}
            name = next((entry["rule"] for entry in REFUSALS if _matches(entry, operation, status, single)), None)
            if name is None:
                return None
            names.append(name)
        return ", ".join(sorted(set(names))) if names else None
    return next((entry["rule"] for entry in REFUSALS if _matches(entry, operation, status, problem)), None)


@schemathesis.hook
def filter_failure(ctx, failure, case, response) -> bool:
    """Keeps every failure except a refused schema-valid request that a listed domain rule explains."""
    if failure.code != "ST202" or response is None:
        return True
    rule = _expected_refusal(case, response)
    if rule is None:
        return True
    accepted[rule] += 1
    return False


@atexit.register
def _summary() -> None:
    if accepted:
        lines = "\n".join(f"  {count:5d}  {rule}" for rule, count in accepted.most_common())
        table = f"\nSchema-valid requests refused by a listed domain rule (fuzz/expected-refusals.yaml):\n{lines}\n"
        # scripts/fuzz.ts sends this process's output to a log file and prints the table itself
        if os.environ.get("FUZZ_REFUSALS_FILE"):
            Path(os.environ["FUZZ_REFUSALS_FILE"]).write_text(table)
        else:
            sys.stderr.write(table)
