#!/usr/bin/env bash
# Creates (or brings up to date) the Python virtual environment schemathesis runs from, outside
# the repository: $FUZZ_VENV, by default ~/.cache/api-clients-service/venv-fuzz. Installs exactly
# fuzz/requirements.txt from PyPI; a stamp (the requirements' and Python's fingerprint) makes a
# second run a no-op, and a changed pin recreates the environment. Prints the venv's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${FUZZ_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/api-clients-service/venv-fuzz}"
python="${PYTHON:-python3}"

command -v "$python" >/dev/null 2>&1 || { echo "fuzz: $python not found (Python 3.10 or newer)" >&2; exit 1; }
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' ||
  { echo "fuzz: schemathesis needs Python 3.10 or newer; $python is $("$python" --version 2>&1)" >&2; exit 1; }
"$python" -c 'import venv, ensurepip' 2>/dev/null ||
  { echo "fuzz: $python has no venv/ensurepip module (Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }

stamp="$( { "$python" --version 2>&1; cat "$here/requirements.txt"; } | sha256sum | cut -d' ' -f1)"
if [ -x "$venv/bin/schemathesis" ] && [ "$(cat "$venv/.fuzz-stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$venv"; exit 0
fi
echo "fuzz: creating $venv (schemathesis from PyPI, pinned in fuzz/requirements.txt)" >&2
# the stamp is written last: an interrupted install is redone from scratch next time
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$here/requirements.txt" >&2
echo "$stamp" >"$venv/.fuzz-stamp"
echo "$venv"
