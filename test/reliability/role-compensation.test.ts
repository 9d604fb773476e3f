// SPEC §4 "No half-done work" for roles: the role steps of create and update (the client's role
// scope, a Script client's service-account user) each failed in turn through the fault proxy;
// Keycloak is then looked at directly, and the client's own token tells what it may do.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_ATTRIBUTE } from '../../src/api-clients/activity/history.js';
import { masterAdmin } from '../security/realm-admin.js';
import { clientsUrl, clientUrl, uniqueAccount } from '../support/app.js';
import type { FaultRule } from '../support/fault-proxy.js';
import { scriptClient } from '../support/fixtures.js';
import {
  claims,
  clientCredentialsToken,
  keycloakAccountClientIds,
  keycloakClient,
  userToken,
} from '../support/keycloak.js';
import { expectKeycloakUnavailable, type ProxiedApp, paths, startProxiedApp } from './support.js';

let env: ProxiedApp;
let token: string;

beforeAll(async () => {
  env = await startProxiedApp();
  token = await userToken('paula');
});
afterAll(() => env?.close());
afterEach(() => env.proxy.reset());

const merge = { 'content-type': 'application/merge-patch+json' };

/** The roles Keycloak holds for a client: its role scope and its service account's realm roles. */
async function heldRoles(clientId: string) {
  const kc = await masterAdmin();
  const rep = await keycloakClient(clientId);
  if (!rep) return undefined;
  const account = await kc.clients.getServiceAccountUser({ id: rep.id });
  return {
    scope: (await kc.clients.listRealmScopeMappings({ id: rep.id })).map((r) => r.name).sort(),
    account: (await kc.users.listRealmRoleMappings({ id: account.id as string })).map((r) => r.name).sort(),
  };
}

const tokenRoles = async (clientId: string, secret: string) => {
  const answer = await clientCredentialsToken(clientId, secret);
  return (
    (claims(answer.body.access_token as string).realm_access as { roles?: string[] } | undefined)?.roles ?? []
  );
};

describe('create with roles: one failing role step leaves nothing behind', () => {
  const cases: { name: string; rule: FaultRule }[] = [
    {
      name: 'adding to the role scope: 500',
      rule: { method: 'POST', path: paths.roleScope, mode: 'status', status: 500 },
    },
    {
      name: 'reading the service-account user: reset',
      rule: { method: 'GET', path: paths.serviceAccountUser, mode: 'reset' },
    },
    {
      name: "mapping the service account's roles: 500",
      rule: { method: 'POST', path: paths.userRoles, mode: 'status', status: 500 },
    },
  ];
  for (const { name, rule } of cases) {
    it(name, async () => {
      const account = uniqueAccount('rcmp');
      const handle = env.proxy.failNext(rule);
      const answer = await env.t.call('POST', clientsUrl(account), {
        token,
        body: scriptClient(`${account}_new`, { roles: ['insights-viewer'] }),
      });
      expect(handle.hits).toBe(1);
      expectKeycloakUnavailable(answer, name);
      expect(await keycloakAccountClientIds(account)).toEqual([]);

      const again = await env.t.call<{ secret: string }>('POST', clientsUrl(account), {
        token,
        body: scriptClient(`${account}_new`, { roles: ['insights-viewer'] }),
      });
      expect(again.status).toBe(201);
      expect(await tokenRoles(`${account}_new`, again.body.secret)).toEqual(['insights-viewer']);
    });
  }
});

describe('update of roles: one failing role step puts everything back', () => {
  const cases: { name: string; rule: FaultRule }[] = [
    {
      name: 'adding to the role scope: 500',
      rule: { method: 'POST', path: paths.roleScope, mode: 'status', status: 500 },
    },
    {
      name: 'removing from the role scope: reset',
      rule: { method: 'DELETE', path: paths.roleScope, mode: 'reset' },
    },
    {
      name: 'reading the service-account user: 500',
      rule: { method: 'GET', path: paths.serviceAccountUser, mode: 'status', status: 500 },
    },
    {
      name: "adding the service account's role: reset",
      rule: { method: 'POST', path: paths.userRoles, mode: 'reset' },
    },
    {
      name: "removing the service account's role: 500",
      rule: { method: 'DELETE', path: paths.userRoles, mode: 'status', status: 500 },
    },
  ];
  for (const { name, rule } of cases) {
    it(name, async () => {
      const account = uniqueAccount('rupd');
      const clientId = `${account}_job`;
      const created = await env.t.call<{ secret: string }>('POST', clientsUrl(account), {
        token,
        body: scriptClient(clientId, { roles: ['insights-viewer'], scopes: ['datahub-api'] }),
      });
      expect(created.status).toBe(201);
      const before = await keycloakClient(clientId);
      const rolesBefore = await heldRoles(clientId);
      expect(rolesBefore?.scope).toEqual(['insights-viewer']);
      const got = await env.t.call('GET', clientUrl(account, clientId), { token });

      const change = { displayName: 'After', scopes: ['push-data'], roles: ['insights-editor'] };
      const handle = env.proxy.failNext(rule);
      const answer = await env.t.call('PATCH', clientUrl(account, clientId), {
        token,
        body: change,
        headers: merge,
      });
      expect(handle.hits).toBe(1);
      expectKeycloakUnavailable(answer, name);

      // Any write of the representation stores an absent rootUrl as "" (toClientRepresentation),
      // the undo's included: the same resource, so compare with that one difference levelled; and
      // less the record of the last change (activity/history.ts), which the undo writes as undone.
      const level = (rep: Record<string, unknown> | undefined) => {
        const { [CHANGE_ATTRIBUTE]: _record, ...attributes } = (rep?.attributes ?? {}) as Record<
          string,
          unknown
        >;
        return { ...rep, rootUrl: rep?.rootUrl ?? '', attributes };
      };
      expect(level(await keycloakClient(clientId))).toEqual(level(before));
      expect(await heldRoles(clientId)).toEqual(rolesBefore);
      expect(await tokenRoles(clientId, created.body.secret)).toEqual(['insights-viewer']);
      const after = await env.t.call('GET', clientUrl(account, clientId), { token });
      // the token just asked for moves lastUsedAt, which is usage, not configuration (outside the ETag)
      expect({ ...after.body, lastUsedAt: null }).toEqual({ ...got.body, lastUsedAt: null });
      expect(after.headers.etag).toBe(got.headers.etag);

      const retried = await env.t.call('PATCH', clientUrl(account, clientId), {
        token,
        body: change,
        headers: merge,
      });
      expect(retried.status).toBe(200);
      expect(await tokenRoles(clientId, created.body.secret)).toEqual(['insights-editor']);
      await env.t.call('DELETE', clientUrl(account, clientId), { token });
    });
  }
});
