// SPEC §4 "No lost update": two updates of one client at the same time are both applied, or one
// is refused (412) and changes nothing; undoing a failed update never reverts the other's change.
// The fault proxy holds one update's write until the other update has asked for the client's lock
// (or, without a lock, has finished), so that the two overlap every time whatever the machine's
// load: without the lock, the held write lands last, over a state it never read.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, clientUrl, uniqueAccount } from '../support/app.js';
import { scriptClient } from '../support/fixtures.js';
import { keycloakClient, userToken } from '../support/keycloak.js';
import { type ProxiedApp, paths, startProxiedApp, waitFor } from './support.js';

let env: ProxiedApp;
let token: string;

beforeAll(async () => {
  env = await startProxiedApp();
  token = await userToken('paula');
});
afterAll(() => env?.close());
afterEach(() => env.proxy.reset());

type Client = { displayName: string | null; description: string | null; scopes: string[] };
const merge = { 'content-type': 'application/merge-patch+json' };

async function newClient(extra: Record<string, unknown> = {}) {
  const account = uniqueAccount('race');
  const clientId = `${account}_c`;
  const created = await env.t.call('POST', clientsUrl(account), {
    token,
    body: scriptClient(clientId, { displayName: 'Old name', description: 'old text', ...extra }),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return { url: clientUrl(account, clientId), clientId, etag: String(created.headers.etag) };
}

const patch = (url: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  env.t.call<Client>('PATCH', url, { token, body, headers: { ...merge, ...headers } });

/**
 * Runs `first` with its client write held at the proxy; once it is held (the first has read the
 * client under its lock), runs `second`, and lets the first write go only when the second has
 * found the lock taken (it looks at the holder once its create of the lock is refused) or, without
 * a lock that excludes it, has been answered.
 */
async function overlapping<A, B>(first: () => Promise<A>, second: () => Promise<B>): Promise<[A, B]> {
  const held = env.proxy.failNext({ method: 'PUT', path: paths.client, mode: 'hold' });
  const firstAnswer = first();
  await held.reached;
  const mark = env.proxy.requests.length;
  let secondDone = false;
  const secondAnswer = second().finally(() => {
    secondDone = true;
  });
  await waitFor(
    () =>
      secondDone ||
      env.proxy.requests.slice(mark).some((r) => r.method === 'GET' && paths.lockRole.test(r.path)),
    { what: 'the second update finds the lock taken', everyMs: 10 },
  );
  held.release();
  expect(held.hits).toBe(1);
  return Promise.all([firstAnswer, secondAnswer]);
}

describe('two PATCHes of one client at the same time', () => {
  it('one sets displayName, the other description, the first write held meanwhile: both changes stay', async () => {
    const { url, clientId } = await newClient();
    const [first, second] = await overlapping(
      () => patch(url, { displayName: 'New name' }),
      () => patch(url, { description: 'new text' }),
    );
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    // the later answer carries both changes, and so does Keycloak
    expect(second.body).toMatchObject({ displayName: 'New name', description: 'new text' });
    const stored = await keycloakClient(clientId);
    expect({ name: stored?.name, description: stored?.description }).toEqual({
      name: 'New name',
      description: 'new text',
    });
  });

  it('both with the same If-Match: one is applied, the other answers 412 and changes nothing', async () => {
    const { url, clientId, etag } = await newClient();
    const [first, second] = await overlapping(
      () => patch(url, { displayName: 'New name' }, { 'if-match': etag }),
      () => patch(url, { description: 'new text' }, { 'if-match': etag }),
    );
    expect([first.status, second.status]).toEqual([200, 412]);
    const stored = await keycloakClient(clientId);
    expect({ name: stored?.name, description: stored?.description }).toEqual({
      name: 'New name',
      description: 'old text',
    });
  });
});

describe('undoing a failed update', () => {
  it("never reverts the other writer's change: the failed one is undone, the other one stays", async () => {
    const { url, clientId } = await newClient({ scopes: ['datahub-api'] });
    // the first PATCH writes its representation (held until the other waits), then its scope
    // change fails
    env.proxy.failNext({ method: 'PUT', path: paths.defaultScope, mode: 'status', status: 500 });
    const [failed, other] = await overlapping(
      () => patch(url, { displayName: 'Failed name', scopes: ['datahub-api', 'push-data'] }),
      () => patch(url, { description: 'new text' }),
    );
    expect(failed.status).toBe(503);
    expect(other.status, JSON.stringify(other.body)).toBe(200);
    const stored = await keycloakClient(clientId);
    expect({ name: stored?.name, description: stored?.description }).toEqual({
      name: 'Old name',
      description: 'new text',
    });
    expect(stored?.defaultClientScopes).not.toContain('push-data');
  });
});
