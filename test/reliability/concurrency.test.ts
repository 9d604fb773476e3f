// SPEC §4 "No lost update": two updates of one client at the same time are both applied, or one
// is refused (412) and changes nothing; undoing a failed update never reverts the other's change.
// The fault proxy holds one update's write back for a while, so that the two overlap every time
// (without the client's lock, the held-back write lands last, over a state it never read).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, clientUrl, uniqueAccount } from '../support/app.js';
import { scriptClient } from '../support/fixtures.js';
import { keycloakClient, userToken } from '../support/keycloak.js';
import { type ProxiedApp, paths, startProxiedApp } from './support.js';

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

describe('two PATCHes of one client at the same time', () => {
  it('one sets displayName, the other description, the first write held back 1.5 s: both changes stay', async () => {
    const { url, clientId } = await newClient();
    const held = env.proxy.failNext({ method: 'PUT', path: paths.client, mode: 'delay', delayMs: 1500 });
    const [first, second] = await Promise.all([
      patch(url, { displayName: 'New name' }),
      // a moment later, so that the first one holds the lock (or, without it, has read the client)
      new Promise((resolve) => setTimeout(resolve, 300)).then(() => patch(url, { description: 'new text' })),
    ]);
    expect(held.hits).toBe(1);
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
    env.proxy.failNext({ method: 'PUT', path: paths.client, mode: 'delay', delayMs: 1500 });
    const [first, second] = await Promise.all([
      patch(url, { displayName: 'New name' }, { 'if-match': etag }),
      new Promise((resolve) => setTimeout(resolve, 300)).then(() =>
        patch(url, { description: 'new text' }, { 'if-match': etag }),
      ),
    ]);
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
    // the first PATCH writes its representation, waits 1.5 s on its scope change, which then fails
    env.proxy.failNext({ method: 'PUT', path: paths.defaultScope, mode: 'status', status: 500 });
    env.proxy.failNext({ method: 'PUT', path: paths.client, mode: 'delay', delayMs: 1500 });
    const [failed, other] = await Promise.all([
      patch(url, { displayName: 'Failed name', scopes: ['datahub-api', 'push-data'] }),
      new Promise((resolve) => setTimeout(resolve, 300)).then(() => patch(url, { description: 'new text' })),
    ]);
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
