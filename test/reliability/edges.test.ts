// The edges of the consistency rules (docs/consistency-edges.md), against the real Keycloak through
// the fault proxy: a create Keycloak commits after the service gave up, an undo that would come
// after the lease, an acquire that commits after its timeout. Keycloak itself is checked directly,
// never through the proxy.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, clientUrl, uniqueAccount } from '../support/app.js';
import { scriptClient } from '../support/fixtures.js';
import { keycloakAccountClientIds, keycloakClient, userToken } from '../support/keycloak.js';
import {
  clientExists,
  expectKeycloakUnavailable,
  lockRoleExists,
  type ProxiedApp,
  paths,
  startProxiedApp,
  waitFor,
} from './support.js';

// A 1 s Keycloak timeout: a call's budget is 2 s, a lease 7 s (account-lock.ts).
const TIMEOUT_MS = 1000;
let env: ProxiedApp;
let token: string;
/** This replica's monotonic clock, moved forward by `clockOffset` when a test says so. */
let clockOffset = 0;

beforeAll(async () => {
  env = await startProxiedApp(
    { timeoutMs: TIMEOUT_MS },
    {},
    { lock: { monotonic: () => performance.now() + clockOffset } },
  );
  token = await userToken('paula');
  // Warm every cache; a cold Keycloak may be slower than the 1 s timeout at first.
  const warm = uniqueAccount('warm');
  let status = 0;
  for (let attempt = 0; attempt < 5 && status !== 201; attempt++)
    status = (await create(warm, `w${attempt}`)).status;
  expect(status).toBe(201);
});
afterAll(() => env?.close());
afterEach(() => {
  env.proxy.reset();
  clockOffset = 0;
});

function create(account: string, suffix: string, body: Record<string, unknown> = {}) {
  return env.t.call<{ type?: string; detail?: string }>('POST', clientsUrl(account), {
    token,
    body: scriptClient(`${account}_${suffix}`, body),
  });
}

async function setLimit(account: string, maxApiClients: number) {
  const answer = await env.t.call('PUT', `/v1/accounts/${account}/limits`, {
    token,
    body: { maxApiClients },
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
}

describe('a create Keycloak commits after the service gave up', () => {
  it('leaves no orphan and no client over the limit; the answer says nothing was created', async () => {
    const account = uniqueAccount('late');
    await setLimit(account, 2);
    expect((await create(account, 'existing')).status).toBe(201);

    // Keycloak gets the create 1.5 s after it was sent: 0.5 s after the service's timeout.
    const late = env.proxy.failNext({
      method: 'POST',
      path: paths.clients,
      mode: 'commit-late',
      delayMs: 1500,
    });
    const answer = await create(account, 'late');
    expectKeycloakUnavailable(answer, 'create committed late');
    expect(answer.body.detail).not.toMatch(/changed nothing/);
    expect(answer.body.detail).toMatch(/nothing was created|was not created/);
    // The late create did land before the answer (settled under the lock), and is gone again.
    expect(late.committed).toBe(1);

    // The slot is free again and counted right: one more create passes, the next is refused.
    expect((await create(account, 'b')).status).toBe(201);
    const full = await create(account, 'c');
    expect(full.status).toBe(409);
    expect(full.body.type).toBe('urn:api-clients:problem:limit-reached');

    // Whatever the service answered, look at Keycloak only once the late create has landed.
    await waitFor(() => late.committed === 1, { what: 'the late create' });
    expect(
      (await keycloakAccountClientIds(account)).length,
      'clients in Keycloak on an account limited to 2',
    ).toBeLessThanOrEqual(2);
    expect(await clientExists(`${account}_late`), 'orphan client left in Keycloak').toBe(false);
    expect((await keycloakAccountClientIds(account)).sort()).toEqual([`${account}_b`, `${account}_existing`]);
    expect(await lockRoleExists(account)).toBe(false);
  });

  it('when Keycloak cannot be asked whether it made the client, says so and keeps the account locked', async () => {
    const account = uniqueAccount('unk');
    const late = env.proxy.failNext({
      method: 'POST',
      path: paths.clients,
      mode: 'commit-late',
      delayMs: 1500,
    });
    // every look at the clients after the two before the lock and the count under it fails
    env.proxy.failNext({
      method: 'GET',
      path: paths.clients,
      skip: 3,
      times: Infinity,
      mode: 'status',
      status: 500,
    });
    const answer = await create(account, 'unknown');
    expectKeycloakUnavailable(answer, 'create outcome unknown');
    expect(answer.body.detail).toMatch(/may exist/);
    expect(answer.body.detail).not.toMatch(/was not created|changed nothing/);
    env.proxy.clearRules();
    await waitFor(() => late.committed === 1, { what: 'the late create' });
    // The lock stays until its lease ends: no other create of the account counts meanwhile.
    expect(await lockRoleExists(account)).toBe(true);
    expect(await clientExists(`${account}_unknown`)).toBe(true);
  });
});

describe('the undo of a failed update', () => {
  it('writes nothing once the lease has run out, and says the undo could not be completed', async () => {
    const account = uniqueAccount('undo');
    const clientId = `${account}_u`;
    expect((await create(account, 'u', { displayName: 'Before', scopes: ['datahub-api'] })).status).toBe(201);
    env.proxy.requests.length = 0;

    // Adding push-data fails, and at that moment this replica's clock passes the lease's end.
    env.proxy.failNext({
      method: 'PUT',
      path: paths.defaultScope,
      mode: 'status',
      status: 500,
      onHit: () => {
        clockOffset += 60_000;
      },
    });
    const answer = await env.t.call<{ detail?: string }>('PATCH', clientUrl(account, clientId), {
      token,
      body: { displayName: 'After', scopes: ['datahub-api', 'push-data'] },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expectKeycloakUnavailable(answer, 'late undo');
    expect(answer.body.detail).toMatch(/undo could not be completed/);

    // One representation write (the change); no second one (the undo), no scope write after it.
    const writes = env.proxy.requests.filter(
      (r) => (r.method === 'PUT' && paths.client.test(r.path)) || paths.defaultScope.test(r.path),
    );
    expect(writes.map((r) => `${r.method} ${paths.client.test(r.path) ? 'client' : 'scope'}`)).toEqual([
      'PUT client',
      'PUT scope',
    ]);
    // What the change wrote stands: the undo did not write over it.
    expect((await keycloakClient(clientId))?.name).toBe('After');
  });
});

describe('a lock acquire that commits after its timeout', () => {
  it('is recognised as the acquirer’s own on its next pass: no wait of a lease, no takeover', async () => {
    const account = uniqueAccount('acq');
    expect((await create(account, 'first')).status).toBe(201);
    env.proxy.requests.length = 0;
    // Pass 1: the acquire reaches Keycloak 1.5 s after it was sent (its answer is lost: the
    // timeout is 1 s). Pass 2: its acquire arrives after that commit and gets 409.
    const committedLate = env.proxy.failNext({
      method: 'POST',
      path: paths.roles,
      mode: 'commit-late',
      delayMs: 1500,
    });
    env.proxy.failNext({ method: 'POST', path: paths.roles, mode: 'delay', delayMs: 700 });
    const started = Date.now();
    const answer = await create(account, 'second');
    const elapsed = Date.now() - started;
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(committedLate.committed).toBe(1);
    // The lock it found carried its own owner token: taken as its own at once, not waited out for
    // a lease (7 s) and taken over (DELETE …/roles-by-id).
    expect(elapsed).toBeLessThan(6000);
    expect(env.proxy.requests.filter((r) => r.method === 'DELETE' && paths.roleById.test(r.path))).toEqual(
      [],
    );
    expect(await clientExists(`${account}_second`)).toBe(true);
    expect(await lockRoleExists(account)).toBe(false);
  });
});

describe('the account check comes first', () => {
  /** Keycloak calls that name this clientId (a query, an events query) or write a lock. */
  const callsNaming = (clientId: string) =>
    env.proxy.requests.filter(
      (r) =>
        decodeURIComponent(r.search).includes(clientId) || (r.method === 'POST' && paths.roles.test(r.path)),
    );

  it('an update of a client that is not the account’s queries no events and takes no lock', async () => {
    const account = uniqueAccount('own');
    const other = uniqueAccount('oth');
    expect((await create(account, 'mine')).status).toBe(201);
    // a client with the account's prefix that does not exist, and another account's client
    const strangers = [`${account}_nobody`, `${other}_theirs`];
    expect((await create(other, 'theirs')).status).toBe(201);
    for (const clientId of strangers) {
      env.proxy.requests.length = 0;
      const answer = await env.t.call('PATCH', clientUrl(account, clientId), {
        token,
        body: { displayName: 'x' },
        headers: { 'content-type': 'application/merge-patch+json' },
      });
      expect(answer.status, clientId).toBe(404);
      // a query started before the check would reach the proxy a little after the answer
      await sleep(500);
      const events = env.proxy.requests.filter((r) => r.path.endsWith('/events'));
      expect(
        events.filter((r) => decodeURIComponent(r.search).includes(clientId)),
        `events queried for ${clientId}`,
      ).toEqual([]);
      expect(
        env.proxy.requests.filter((r) => r.method === 'POST' && paths.roles.test(r.path)),
        'lock taken',
      ).toEqual([]);
    }
  });

  it('a delete with If-Match of a client that is not the account’s takes no lock', async () => {
    const account = uniqueAccount('own');
    for (const clientId of [`${account}_nobody`]) {
      env.proxy.requests.length = 0;
      const answer = await env.t.call('DELETE', clientUrl(account, clientId), {
        token,
        headers: { 'if-match': '*' },
      });
      expect(answer.status).toBe(404);
      await sleep(500);
      expect(callsNaming(clientId).filter((r) => r.method === 'POST')).toEqual([]);
    }
  });
});
