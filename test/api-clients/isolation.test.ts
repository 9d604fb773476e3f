// Account isolation and the clients the service must never touch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../support/app.js';
import { scriptClient } from '../support/fixtures.js';
import { keycloakAccountClientIds, keycloakClient, userToken } from '../support/keycloak.js';

describe('account isolation', () => {
  let t: TestApp;
  let token: string;
  const mine = uniqueAccount('iso');
  const theirs = uniqueAccount('iso');
  const theirClient = `${theirs}_private`;

  beforeAll(async () => {
    t = await startTestApp();
    token = await userToken('paula');
    const created = await t.call('POST', clientsUrl(theirs), {
      token,
      body: scriptClient(theirClient, { displayName: 'Theirs' }),
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await t.call('DELETE', clientUrl(theirs, theirClient), { token });
    await t.close();
  });

  it("refuses a clientId without the account's prefix on create", async () => {
    const answer = await t.call<{ errors: { pointer: string; reason: string }[] }>('POST', clientsUrl(mine), {
      token,
      body: scriptClient(theirClient),
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toContainEqual({
      pointer: '/clientId',
      in: 'body',
      reason: `must start with "${mine}_"`,
    });
    expect(await keycloakAccountClientIds(mine)).toEqual([]);
  });

  it("never reaches another account's client through this account's path", async () => {
    const url = clientUrl(mine, theirClient);
    const before = await keycloakClient(theirClient);
    const answers = await Promise.all([
      t.call('GET', url, { token }),
      t.call('PUT', url, {
        token,
        body: {
          displayName: 'hijacked',
          description: null,
          rootUrl: null,
          homeUrl: null,
          adminUrl: null,
          redirectUris: [],
          postLogoutRedirectUris: [],
          webOrigins: [],
          capabilityTypes: ['Script'],
          backchannelLogout: null,
          scopes: [],
          enabled: false,
        },
      }),
      t.call('PATCH', url, { token, body: { enabled: false } }),
      t.call('GET', `${url}/secret`, { token }),
      t.call('POST', `${url}/secret`, { token }),
      t.call('DELETE', url, { token }),
    ]);
    for (const answer of answers) expect(answer.status).toBe(404);
    const bulk = await t.call<{ results: unknown[] }>('POST', `${clientsUrl(mine)}/bulk-delete`, {
      token,
      body: { clientIds: [theirClient] },
    });
    expect(bulk.body.results).toEqual([{ clientId: theirClient, status: 'not-found' }]);
    expect(await keycloakClient(theirClient)).toEqual(before);
  });

  it('refuses to change clientId through PUT or PATCH', async () => {
    const patch = await t.call<{ type: string }>('PATCH', clientUrl(theirs, theirClient), {
      token,
      body: { clientId: `${theirs}_renamed` },
    });
    expect(patch.status).toBe(400);
    expect(patch.body.type).toBe('urn:api-clients:problem:client-id-immutable');
    expect(await keycloakClient(`${theirs}_renamed`)).toBeUndefined();
  });

  it("never lists, reads, changes or deletes the realm's own clients or the service's", async () => {
    for (const builtIn of [
      'account',
      'admin-cli',
      'broker',
      'realm-management',
      'security-admin-console',
      'api-clients-service',
    ]) {
      for (const account of [mine, 'account', 'admin']) {
        const url = clientUrl(account, builtIn);
        expect((await t.call('GET', url, { token })).status).toBe(404);
        expect((await t.call('DELETE', url, { token })).status).toBe(404);
        expect((await t.call('POST', `${url}/secret`, { token })).status).toBe(404);
      }
      expect(await keycloakClient(builtIn)).toBeDefined();
    }
    // an account named like the service's own client's prefix lists nothing of it
    const list = await t.call<{ items: { clientId: string }[] }>('GET', clientsUrl('api-clients'), { token });
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([]);
  });
});
