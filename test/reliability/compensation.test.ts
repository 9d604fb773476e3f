// SPEC §4 "No half-done work": create, update and delete are several Keycloak calls; when one of
// them fails, what was done is undone and the caller gets an error. Each case fails exactly one
// call through the fault proxy, then looks at Keycloak directly (never through the proxy).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_ATTRIBUTE } from '../../src/api-clients/activity/history.js';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../support/app.js';
import type { FaultRule } from '../support/fault-proxy.js';
import { scriptClient } from '../support/fixtures.js';
import {
  type KeycloakClient,
  keycloakAccountClientIds,
  keycloakClient,
  keycloakUrl,
  userToken,
} from '../support/keycloak.js';
import {
  clientExists,
  configVia,
  expectKeycloakUnavailable,
  type LossyProxy,
  lockRoleExists,
  type ProxiedApp,
  paths,
  startLossyProxy,
  startProxiedApp,
} from './support.js';

/**
 * The client as Keycloak holds it, less the record of its last change (activity/history.ts): an undo
 * and a delete that Keycloak refused write one; what matters here is the client's configuration.
 * The history checks below show that neither counts as a change.
 */
async function configuration(clientId: string): Promise<KeycloakClient | undefined> {
  const rep = await keycloakClient(clientId);
  if (!rep?.attributes) return rep;
  const { [CHANGE_ATTRIBUTE]: _record, ...attributes } = rep.attributes;
  return { ...rep, attributes };
}

const actions = async (url: string): Promise<string[]> =>
  ((await env.t.call<{ items: { action: string }[] }>('GET', url, { token })).body.items ?? []).map(
    (row) => row.action,
  );

let env: ProxiedApp;
let token: string;

beforeAll(async () => {
  env = await startProxiedApp();
  token = await userToken('paula');
  // Warm every cache (JWKS, service token, service client id, catalogue, realm defaults), so
  // that the calls of a create are exactly the ones listed below.
  const warm = uniqueAccount('warm');
  const answer = await env.t.call('POST', clientsUrl(warm), {
    token,
    body: scriptClient(`${warm}_w`),
  });
  expect(answer.status).toBe(201);
});
afterAll(() => env?.close());
afterEach(() => env.proxy.reset());

const create = (account: string, suffix: string, body: Record<string, unknown> = {}) =>
  env.t.call<{ type?: string }>('POST', clientsUrl(account), {
    token,
    body: scriptClient(`${account}_${suffix}`, body),
  });

const used = async (account: string) =>
  (await env.t.call<{ used: number }>('GET', `/v1/accounts/${account}/limits`, { token })).body.used;

/** A Keycloak call as the create sequence names it. */
const callKind = ({ method, path, search }: { method: string; path: string; search: string }): string => {
  if (method === 'POST' && paths.roles.test(path)) return 'lock.acquire';
  if (method === 'GET' && paths.clients.test(path)) return /[?&]q=/.test(search) ? 'list-by-account' : 'find';
  if (method === 'GET' && paths.limitRole.test(path)) return 'limit.read';
  if (method === 'POST' && paths.clients.test(path)) return 'create';
  if (method === 'GET' && paths.secret.test(path)) return 'get-secret';
  if (method === 'DELETE' && paths.lockRole.test(path)) return 'lock.release';
  return `${method} ${path}${search}`;
};

describe('create: one failing Keycloak call leaves nothing behind', () => {
  it('a normal create makes exactly these calls (the ones failed below)', async () => {
    const account = uniqueAccount('seq');
    env.proxy.requests.length = 0;
    expect((await create(account, 'a')).status).toBe(201);
    const kinds = env.proxy.requests.map(callKind);
    // The account's limits (one role: the maximum secret lifetime for the body's rules, the limit
    // for the check); before the lock, the checks that refuse without a write (in parallel: any
    // order); under the lock, the count again with the limit as Keycloak holds it, then the writes.
    expect(kinds.slice(0, 1)).toEqual(['limit.read']);
    expect([...kinds.slice(1, 3)].sort()).toEqual(['find', 'list-by-account']);
    expect(kinds.slice(3, 4)).toEqual(['lock.acquire']);
    expect([...kinds.slice(4, 6)].sort()).toEqual(['limit.read', 'list-by-account']);
    expect(kinds.slice(6)).toEqual(['create', 'get-secret', 'lock.release']);

    // Warm (the account's limits kept by this replica, and the count its last create of the
    // account left, which shows room): 7 calls, counted at Keycloak's door; the account is counted
    // under the lock only.
    env.proxy.requests.length = 0;
    expect((await create(account, 'b')).status).toBe(201);
    const warm = env.proxy.requests.map(callKind);
    expect(warm.slice(0, 2)).toEqual(['find', 'lock.acquire']);
    expect([...warm.slice(2, 4)].sort()).toEqual(['limit.read', 'list-by-account']);
    expect(warm.slice(4)).toEqual(['create', 'get-secret', 'lock.release']);
  });

  const cases: { name: string; rule: FaultRule; hits?: number }[] = [
    {
      name: 'lock acquire: 500 on every attempt (the gateway retries 3 server errors)',
      rule: { method: 'POST', path: paths.roles, mode: 'status', status: 500, times: 4 },
      hits: 4,
    },
    {
      name: 'list by account (GET …/clients?q=): 500',
      rule: { method: 'GET', path: paths.clients, mode: 'status', status: 500 },
    },
    {
      name: 'list by account: socket reset',
      rule: { method: 'GET', path: paths.clients, mode: 'reset' },
    },
    {
      name: 'limit read (GET …/roles/limit.{account}): 500',
      rule: { method: 'GET', path: paths.limitRole, mode: 'status', status: 500 },
    },
    {
      name: 'create (POST …/clients): 500',
      rule: { method: 'POST', path: paths.clients, mode: 'status', status: 500 },
    },
    {
      name: 'create: socket reset',
      rule: { method: 'POST', path: paths.clients, mode: 'reset' },
    },
    {
      name: 'secret (GET …/clients/{id}/client-secret): 500, after the client was created',
      rule: { method: 'GET', path: paths.secret, mode: 'status', status: 500 },
    },
    {
      name: 'secret: socket reset, after the client was created',
      rule: { method: 'GET', path: paths.secret, mode: 'reset' },
    },
  ];

  for (const { name, rule, hits = 1 } of cases) {
    it(name, async () => {
      const account = uniqueAccount('cmp');
      const handle = env.proxy.failNext(rule);
      const answer = await create(account, 'new', { scopes: ['datahub-api'] });
      expect(handle.hits).toBe(hits);
      expectKeycloakUnavailable(answer, name);

      // Nothing created, count unchanged, lock released: checked on Keycloak itself
      expect(await clientExists(`${account}_new`)).toBe(false);
      expect(await keycloakAccountClientIds(account)).toEqual([]);
      expect(await used(account)).toBe(0);
      expect(await lockRoleExists(account)).toBe(false);

      // and the account is not blocked: the same create succeeds at once
      const started = Date.now();
      const again = await create(account, 'new', { scopes: ['datahub-api'] });
      expect(again.status).toBe(201);
      // well under the 15 s a create waits for a lock left behind (a busy machine may take seconds)
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await keycloakAccountClientIds(account)).toEqual([`${account}_new`]);
      // the create taken back is not one of the account's changes: only the one that succeeded
      expect(await actions(`/v1/accounts/${account}/history`)).toEqual(['created']);
    });
  }

  it('a socket reset on lock acquire is retried (nobody holds the lock) and the create succeeds', async () => {
    const account = uniqueAccount('cmp');
    const handle = env.proxy.failNext({ method: 'POST', path: paths.roles, mode: 'reset' });
    const answer = await create(account, 'new');
    expect(handle.hits).toBe(1);
    expect(answer.status).toBe(201);
    expect(await keycloakAccountClientIds(account)).toEqual([`${account}_new`]);
    expect(await lockRoleExists(account)).toBe(false);
  });

  it('a single 500 on lock acquire is retried (concurrent-insert failure) and the create succeeds', async () => {
    const account = uniqueAccount('cmp');
    const handle = env.proxy.failNext({ method: 'POST', path: paths.roles, mode: 'status', status: 500 });
    const answer = await create(account, 'a');
    expect(handle.hits).toBe(1);
    expect(answer.status).toBe(201);
    expect(await keycloakAccountClientIds(account)).toEqual([`${account}_a`]);
    expect(await lockRoleExists(account)).toBe(false);
  });
});

describe('create: the account lock is never left behind', () => {
  // A lock left behind blocks the account: the next create waits lockWaitMs (15 s), answers 503,
  // and creates keep failing until a waiter has seen it for a lease (31 s with the 5 s timeout). Checked on Keycloak directly.
  it('the lock release (DELETE …/roles/lock.{account}) fails once: the lock is still removed (by id)', async () => {
    const account = uniqueAccount('rel');
    const handle = env.proxy.failNext({
      method: 'DELETE',
      path: paths.lockRole,
      mode: 'status',
      status: 500,
    });
    const answer = await create(account, 'a');
    expect(handle.hits).toBe(1);
    expect(answer.status).toBe(201);
    expect(await lockRoleExists(account), 'lock role lock.<account> left behind in Keycloak').toBe(false);
  });

  it('the lock acquire (POST …/roles) committed but its answer was lost: the create goes on, no lock left', async () => {
    const lossy = await startLossyProxy(keycloakUrl());
    const t = await startTestApp(configVia(lossy.url));
    try {
      const account = uniqueAccount('lla');
      lossy.loseAnswer({ method: 'POST', path: paths.roles });
      const answer = await t.call('POST', clientsUrl(account), {
        token,
        body: scriptClient(`${account}_a`),
      });
      expect(lossy.lost).toBe(1);
      // The lock carries a random owner token: the service finds that the lost create made the
      // lock its own, goes on, and releases it.
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      expect(await clientExists(`${account}_a`)).toBe(true);
      expect(await lockRoleExists(account), 'lock role lock.<account> left behind in Keycloak').toBe(false);
    } finally {
      await t.close();
      await lossy.close();
    }
  });
});

describe('update: one failing Keycloak call leaves the client exactly as before', () => {
  /** A WebApp client with every kind of field set, and the catalogue scope datahub-api. */
  async function fullClient(account: string) {
    const clientId = `${account}_web`;
    const answer = await create(account, 'web', {
      displayName: 'Before',
      description: 'as created',
      rootUrl: 'https://before.example.com',
      redirectUris: ['/callback'],
      postLogoutRedirectUris: ['+'],
      webOrigins: ['+'],
      capabilityTypes: ['WebApp', 'Script'],
      backchannelLogout: {
        url: 'https://before.example.com/logout',
        sessionRequired: true,
        revokeOfflineSessions: false,
      },
      scopes: ['datahub-api'],
    });
    expect(answer.status).toBe(201);
    return clientId;
  }

  /** Changes the representation and both scope directions: add push-data, remove datahub-api. */
  const change = {
    displayName: 'After',
    description: 'changed',
    redirectUris: ['https://after.example.com/cb'],
    webOrigins: ['https://after.example.com'],
    capabilityTypes: ['WebApp'],
    backchannelLogout: null,
    scopes: ['push-data'],
  };

  const cases: { name: string; method: 'PATCH' | 'PUT'; rule: FaultRule }[] = [
    {
      name: 'PATCH, the representation PUT fails (500)',
      method: 'PATCH',
      rule: { method: 'PUT', path: paths.client, mode: 'status', status: 500 },
    },
    {
      name: 'PATCH, adding a default scope fails (500)',
      method: 'PATCH',
      rule: { method: 'PUT', path: paths.defaultScope, mode: 'status', status: 500 },
    },
    {
      name: 'PATCH, removing a default scope fails (500)',
      method: 'PATCH',
      rule: { method: 'DELETE', path: paths.defaultScope, mode: 'status', status: 500 },
    },
    {
      name: 'PUT, adding a default scope fails (socket reset)',
      method: 'PUT',
      rule: { method: 'PUT', path: paths.defaultScope, mode: 'reset' },
    },
    {
      name: 'PUT, removing a default scope fails (socket reset)',
      method: 'PUT',
      rule: { method: 'DELETE', path: paths.defaultScope, mode: 'reset' },
    },
  ];

  for (const { name, method, rule } of cases) {
    it(name, async () => {
      const account = uniqueAccount('upd');
      const clientId = await fullClient(account);
      const before = await configuration(clientId);
      expect(before?.defaultClientScopes).toContain('datahub-api');
      const got = await env.t.call('GET', clientUrl(account, clientId), { token });
      expect(got.status).toBe(200);

      // PUT replaces every editable field: the resource as read (less its read-only members) with the change
      const {
        accountId: _account,
        createdAt: _created,
        lastUsedAt: _used,
        previousSecretExpiresAt: _previous,
        ...editable
      } = got.body;
      const body = method === 'PUT' ? { ...editable, ...change } : change;
      const handle = env.proxy.failNext(rule);
      const answer = await env.t.call(method, clientUrl(account, clientId), {
        token,
        body,
        headers: method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {},
      });
      expect(handle.hits).toBe(1);
      expectKeycloakUnavailable(answer, name);

      // Keycloak holds exactly what it held before: the whole representation, scopes included
      expect(await configuration(clientId)).toEqual(before);
      // the undone update is no change in the client's history
      expect(await actions(`${clientUrl(account, clientId)}/history`)).toEqual(['created']);
      // and the caller sees the same resource and ETag as before
      const after = await env.t.call('GET', clientUrl(account, clientId), { token });
      expect(after.body).toEqual(got.body);
      expect(after.headers.etag).toBe(got.headers.etag);

      // the same change goes through once Keycloak answers again
      const retried = await env.t.call(method, clientUrl(account, clientId), {
        token,
        body,
        headers: method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {},
      });
      expect(retried.status).toBe(200);
      const changed = await keycloakClient(clientId);
      expect(changed?.defaultClientScopes).toContain('push-data');
      expect(changed?.defaultClientScopes).not.toContain('datahub-api');
      expect(changed?.name).toBe('After');
      expect(await actions(`${clientUrl(account, clientId)}/history`)).toEqual(['updated', 'created']);
    });
  }
});

describe('delete: a failing DELETE leaves the client, and a retry deletes it', () => {
  for (const rule of [
    { method: 'DELETE', path: paths.client, mode: 'status', status: 500 },
    { method: 'DELETE', path: paths.client, mode: 'reset' },
  ] satisfies FaultRule[]) {
    it(`DELETE …/clients/{id} fails (${rule.mode})`, async () => {
      const account = uniqueAccount('del');
      const clientId = `${account}_gone`;
      expect((await create(account, 'gone')).status).toBe(201);
      const before = await configuration(clientId);

      const handle = env.proxy.failNext(rule);
      const answer = await env.t.call('DELETE', clientUrl(account, clientId), { token });
      expect(handle.hits).toBe(1);
      expectKeycloakUnavailable(answer, 'delete');
      expect(await configuration(clientId)).toEqual(before);
      expect(await used(account)).toBe(1);
      // a delete Keycloak did not do is no delete in the account's history
      expect(await actions(`/v1/accounts/${account}/history`)).toEqual(['created']);

      const retried = await env.t.call('DELETE', clientUrl(account, clientId), { token });
      expect(retried.status).toBe(204);
      expect(await clientExists(clientId)).toBe(false);
      expect(await used(account)).toBe(0);
      expect(await actions(`/v1/accounts/${account}/history`)).toEqual(['deleted', 'created']);
    });
  }
});

describe('create: Keycloak did the work but its answer was lost', () => {
  let lossy: LossyProxy;
  let t: TestApp;
  beforeAll(async () => {
    lossy = await startLossyProxy(keycloakUrl());
    t = await startTestApp(configVia(lossy.url));
  });
  afterAll(async () => {
    await t?.close();
    await lossy?.close();
  });

  it('POST …/clients committed, answer lost: no orphan client is left, the count is unchanged', async () => {
    const account = uniqueAccount('lost');
    const call = (suffix: string) =>
      t.call('POST', clientsUrl(account), {
        token,
        body: scriptClient(`${account}_${suffix}`),
      });
    expect((await call('existing')).status).toBe(201);

    lossy.loseAnswer({ method: 'POST', path: paths.clients });
    const answer = await call('new');
    expect(lossy.lost).toBe(1);
    expectKeycloakUnavailable(answer, 'lost create answer');

    expect(await clientExists(`${account}_new`), 'orphan client left in Keycloak').toBe(false);
    expect(await keycloakAccountClientIds(account)).toEqual([`${account}_existing`]);
    expect(await lockRoleExists(account)).toBe(false);
  });
});
