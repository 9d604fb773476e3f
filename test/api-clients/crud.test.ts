// The HTTP surface of the resource: create, read, replace, patch, list, secrets, and refusals
// that change nothing in Keycloak.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../support/app.js';
import { scriptClient } from '../support/fixtures.js';
import { keycloakAccountClientIds, keycloakClient, userToken } from '../support/keycloak.js';

type Problem = { type: string; status: number; errors?: { pointer: string; in: string; reason: string }[] };
type Resource = Record<string, unknown> & { clientId: string; secret?: string };

const fullBody = (clientId: string) => ({
  clientId,
  displayName: 'Customer portal',
  description: 'Browser app of the customer portal',
  rootUrl: 'https://portal.example.test',
  homeUrl: '/home',
  adminUrl: 'https://portal.example.com/admin',
  redirectUris: ['/callback/*', 'https://portal.example.test/alt'],
  postLogoutRedirectUris: ['+'],
  webOrigins: ['https://portal.example.test'],
  capabilityTypes: ['WebApp', 'Script'],
  backchannelLogout: {
    url: 'https://portal.example.com/logout',
    sessionRequired: false,
    revokeOfflineSessions: true,
  },
  scopes: ['datahub-api', 'push-data'],
  roles: ['insights-viewer'],
  enabled: true,
});

describe('the API client resource over HTTP', () => {
  let t: TestApp;
  let token: string;
  const account = uniqueAccount('crud');
  const clientId = `${account}_portal`;

  beforeAll(async () => {
    t = await startTestApp();
    token = await userToken('paula');
  });
  afterAll(async () => {
    for (const id of await keycloakAccountClientIds(account))
      await t.call('DELETE', clientUrl(account, id), { token });
    await t.close();
  });

  it('creates with every field, answers 201 with Location, ETag, no-store and the secret', async () => {
    const created = await t.call<Resource>('POST', clientsUrl(account), { token, body: fullBody(clientId) });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(clientUrl(account, clientId));
    expect(created.headers['cache-control']).toBe('no-store');
    expect(created.headers.etag).toMatch(/^W\/"/);
    expect(typeof created.body.secret).toBe('string');
    const { secret: _s, ...resource } = created.body;
    expect(resource).toEqual({
      ...fullBody(clientId),
      accountId: account,
      redirectUris: ['/callback/*', 'https://portal.example.test/alt'].sort(),
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      lastUsedAt: null,
      previousSecretExpiresAt: null,
    });

    const rep = (await keycloakClient(clientId)) as Record<string, unknown> & {
      attributes: Record<string, string>;
    };
    expect(rep).toMatchObject({
      name: 'Customer portal',
      baseUrl: '/home',
      standardFlowEnabled: true,
      serviceAccountsEnabled: true,
      publicClient: false,
      implicitFlowEnabled: false,
      directAccessGrantsEnabled: false,
      clientAuthenticatorType: 'client-secret',
    });
    expect(rep.attributes['post.logout.redirect.uris']).toBe('+');
  });

  it('gets the whole configuration with an ETag and never the secret', async () => {
    const got = await t.call<Resource>('GET', clientUrl(account, clientId), { token });
    expect(got.status).toBe(200);
    expect(got.headers.etag).toMatch(/^W\/"/);
    expect(got.body).not.toHaveProperty('secret');
    expect(JSON.stringify(got.body)).not.toContain(
      (await t.call<{ secret: string }>('GET', `${clientUrl(account, clientId)}/secret`, { token })).body
        .secret,
    );
  });

  it('lists rows without secrets, with search, pagination and the limit', async () => {
    await t.call('POST', clientsUrl(account), {
      token,
      body: scriptClient(`${account}_batch`, { displayName: 'Nightly Export' }),
    });
    const list = await t.call<{ items: Resource[]; total: number; limit: unknown }>(
      'GET',
      clientsUrl(account),
      { token },
    );
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(2);
    expect(list.body.limit).toEqual({ max: 5, used: 2 });
    expect(list.body.items.map((row) => row.clientId)).toEqual([`${account}_batch`, clientId]);
    expect(Object.keys(list.body.items[0] ?? {}).sort()).toEqual(
      [
        'capabilityTypes',
        'clientId',
        'createdAt',
        'description',
        'displayName',
        'enabled',
        'lastUsedAt',
        'roles',
        'scopes',
      ].sort(),
    );
    expect(JSON.stringify(list.body)).not.toMatch(/secret/i);

    const byName = await t.call<{ items: Resource[]; total: number }>(
      'GET',
      `${clientsUrl(account)}?search=export`,
      { token },
    );
    expect(byName.body.items.map((row) => row.clientId)).toEqual([`${account}_batch`]);
    const byId = await t.call<{ items: Resource[]; total: number }>(
      'GET',
      `${clientsUrl(account)}?search=PORTAL`,
      { token },
    );
    expect(byId.body.items.map((row) => row.clientId)).toEqual([clientId]);

    const page = await t.call<{ items: Resource[]; total: number }>(
      'GET',
      `${clientsUrl(account)}?first=1&max=1`,
      { token },
    );
    expect(page.body.total).toBe(2);
    expect(page.body.items.map((row) => row.clientId)).toEqual([clientId]);

    const bad = await t.call<Problem>('GET', `${clientsUrl(account)}?max=1000&first=-1`, { token });
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.map((e) => `${e.in}${e.pointer}`).sort()).toEqual(['query/first', 'query/max']);
  });

  it('PUT replaces every editable field; If-Match guards it', async () => {
    const current = await t.call<Resource>('GET', clientUrl(account, clientId), { token });
    const etag = String(current.headers.etag);
    const replacement = {
      ...fullBody(clientId),
      displayName: '   ',
      description: null,
      rootUrl: null,
      homeUrl: null,
      adminUrl: null,
      redirectUris: ['https://portal.example.test/cb'],
      postLogoutRedirectUris: [],
      webOrigins: ['+'],
      capabilityTypes: ['WebApp'],
      backchannelLogout: null,
      scopes: ['push-data'],
      roles: ['insights-editor'],
    };
    const stale = await t.call<Problem>('PUT', clientUrl(account, clientId), {
      token,
      body: replacement,
      headers: { 'if-match': 'W/"not-the-etag"' },
    });
    expect(stale.status).toBe(412);
    expect(stale.body.type).toBe('urn:api-clients:problem:precondition-failed');
    expect((await t.call('GET', clientUrl(account, clientId), { token })).headers.etag).toBe(etag);
    // a body that is wrong whatever the version: 400 naming the field, before If-Match (found by the fuzz run)
    const staleAndBad = await t.call<Problem>('PUT', clientUrl(account, clientId), {
      token,
      body: { ...replacement, rootUrl: 'not a url' },
      headers: { 'if-match': 'W/"not-the-etag"' },
    });
    expect(staleAndBad.status).toBe(400);
    expect(staleAndBad.body.errors?.map((e) => `${e.in}${e.pointer}`)).toEqual(['body/rootUrl']);

    const replaced = await t.call<Resource>('PUT', clientUrl(account, clientId), {
      token,
      body: replacement,
      headers: { 'if-match': etag },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.headers.etag).not.toBe(etag);
    expect(replaced.body).toMatchObject({
      displayName: null,
      description: null,
      rootUrl: null,
      homeUrl: null,
      postLogoutRedirectUris: [],
      capabilityTypes: ['WebApp'],
      backchannelLogout: null,
      scopes: ['push-data'],
      roles: ['insights-editor'],
    });
    // what Keycloak holds reads back the same
    expect((await t.call<Resource>('GET', clientUrl(account, clientId), { token })).body).toEqual(
      replaced.body,
    );
    const rep = (await keycloakClient(clientId)) as Record<string, unknown> & {
      attributes: Record<string, string>;
    };
    expect(rep.serviceAccountsEnabled).toBe(false);
    expect(rep.attributes['backchannel.logout.url'] ?? '').toBe('');
    expect(rep.defaultClientScopes).toEqual(expect.arrayContaining(['push-data', 'basic']));
    expect(rep.defaultClientScopes).not.toContain('datahub-api');
  });

  it('PATCH merges (RFC 7396): null resets a field, objects merge member by member', async () => {
    const patched = await t.call<Resource>('PATCH', clientUrl(account, clientId), {
      token,
      body: { displayName: 'Portal', backchannelLogout: { url: 'https://portal.example.com/bc' } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.backchannelLogout).toEqual({
      url: 'https://portal.example.com/bc',
      sessionRequired: false,
      revokeOfflineSessions: false,
    });
    const again = await t.call<Resource>('PATCH', clientUrl(account, clientId), {
      token,
      body: { backchannelLogout: { sessionRequired: true }, webOrigins: null },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(again.body.backchannelLogout).toEqual({
      url: 'https://portal.example.com/bc',
      sessionRequired: true,
      revokeOfflineSessions: false,
    });
    expect(again.body.webOrigins).toEqual([]);
    expect(again.body.displayName).toBe('Portal');
  });

  it('refuses bad input with every failing field at once and changes nothing in Keycloak', async () => {
    const before = await keycloakClient(clientId);
    const ids = await keycloakAccountClientIds(account);
    const bad = await t.call<Problem>('PATCH', clientUrl(account, clientId), {
      token,
      body: {
        redirectUris: ['https://portal.example.test/#frag', '/relative', 'https://portal.example.test/a*b'],
        webOrigins: ['https://portal.example.test/path', '*'],
        scopes: ['admin-everything'],
        roles: ['platform-admin'],
        homeUrl: 5,
        secret: 'mine',
        lastUsedAt: null,
        unknown: true,
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(bad.body.type).toBe('urn:api-clients:problem:validation-failed');
    expect(bad.body.errors?.map((e) => e.pointer).sort()).toEqual(
      [
        '/homeUrl',
        '/lastUsedAt',
        '/redirectUris/0',
        '/redirectUris/1',
        '/redirectUris/2',
        '/roles/0',
        '/scopes/0',
        '/secret',
        '/unknown',
        '/webOrigins/0',
        '/webOrigins/1',
      ].sort(),
    );
    expect(bad.body.errors?.find((e) => e.pointer === '/secret')?.reason).toBe('is read-only');
    expect(bad.body.errors?.find((e) => e.pointer === '/lastUsedAt')?.reason).toBe('is read-only');

    const badCreate = await t.call<Problem>('POST', clientsUrl(account), {
      token,
      body: { clientId: `${account}_bad`, capabilityTypes: [], enabled: 'yes' },
    });
    expect(badCreate.status).toBe(400);
    expect(badCreate.body.errors?.map((e) => e.pointer).sort()).toEqual(['/capabilityTypes', '/enabled']);

    const notJson = await t.app.inject({
      method: 'POST',
      url: clientsUrl(account),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: '{"clientId":',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().type).toBe('urn:api-clients:problem:validation-failed');

    expect(await keycloakClient(clientId)).toEqual(before);
    expect(await keycloakAccountClientIds(account)).toEqual(ids);
  });

  it('answers client-id-taken for a clientId in use, creating nothing', async () => {
    const taken = await t.call<Problem>('POST', clientsUrl(account), {
      token,
      body: scriptClient(clientId),
    });
    expect(taken.status).toBe(409);
    expect(taken.body.type).toBe('urn:api-clients:problem:client-id-taken');
  });

  it('answers problem+json 404 for an unknown client and an unknown route', async () => {
    const missing = await t.call<Problem>('GET', clientUrl(account, `${account}_nope`), { token });
    expect(missing.status).toBe(404);
    expect(missing.body.type).toBe('urn:api-clients:problem:not-found');
    const route = await t.call<Problem>('GET', '/v1/nothing-here', { token });
    expect(route.status).toBe(404);
  });

  it('serves the scope catalogue from Keycloak', async () => {
    const scopes = await t.call<{ items: { name: string; description: string }[] }>('GET', '/v1/scopes', {
      token,
    });
    expect(scopes.body.items).toEqual([
      { name: 'datahub-api', description: 'Required to query the Insights API' },
      { name: 'push-data', description: 'Required to send datapoints to the platform' },
    ]);
  });
});

describe('with secret reveal switched off', () => {
  it('shows the secret on create and regenerate only', async () => {
    const t = await startTestApp({ secretRevealEnabled: false });
    const token = await userToken('paula');
    const account = uniqueAccount('noreveal');
    const clientId = `${account}_job`;
    const created = await t.call<Resource>('POST', clientsUrl(account), {
      token,
      body: scriptClient(clientId),
    });
    expect(typeof created.body.secret).toBe('string');
    const reveal = await t.call<Problem>('GET', `${clientUrl(account, clientId)}/secret`, { token });
    expect(reveal.status).toBe(403);
    const regenerated = await t.call<{ secret: string }>('POST', `${clientUrl(account, clientId)}/secret`, {
      token,
    });
    expect(regenerated.status).toBe(200);
    expect(regenerated.body.secret).not.toBe(created.body.secret);
    await t.call('DELETE', clientUrl(account, clientId), { token });
    await t.close();
  });
});
