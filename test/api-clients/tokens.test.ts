// What users rely on, proved at Keycloak's own token endpoint: a client the service creates
// really gets tokens with its scopes; regenerate, disable, scope changes and delete really apply.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../support/app.js';
import { scriptClient } from '../support/fixtures.js';
import { claims, clientCredentialsToken, keycloakClient, userToken } from '../support/keycloak.js';

interface Created {
  clientId: string;
  secret: string;
  scopes: string[];
}

describe('a Script client against the real token endpoint', () => {
  let t: TestApp;
  let token: string;
  const account = uniqueAccount('tok');
  const clientId = `${account}_reporting-job`;
  let secret: string;

  beforeAll(async () => {
    t = await startTestApp();
    token = await userToken('paula');
    const created = await t.call<Created>('POST', clientsUrl(account), {
      token,
      body: scriptClient(clientId, { displayName: 'Reporting job', scopes: ['datahub-api'] }),
    });
    expect(created.status).toBe(201);
    secret = created.body.secret;
  });
  afterAll(async () => {
    await t.call('DELETE', clientUrl(account, clientId), { token });
    await t.close();
  });

  it('gets a token carrying datahub-api and not push-data', async () => {
    const answer = await clientCredentialsToken(clientId, secret);
    expect(answer.status).toBe(200);
    const scope = String(claims(answer.body.access_token as string).scope).split(' ');
    expect(scope).toContain('datahub-api');
    expect(scope).not.toContain('push-data');
  });

  it("keeps the realm's own default scopes on the client", async () => {
    const rep = await keycloakClient(clientId);
    expect(rep?.defaultClientScopes).toEqual(
      expect.arrayContaining(['basic', 'profile', 'roles', 'datahub-api']),
    );
  });

  it('regenerate: the new secret gets a token, the old one gets invalid_client at once', async () => {
    const regenerated = await t.call<{ secret: string }>('POST', `${clientUrl(account, clientId)}/secret`, {
      token,
    });
    expect(regenerated.status).toBe(200);
    expect(regenerated.headers['cache-control']).toBe('no-store');
    const fresh = regenerated.body.secret;
    expect(fresh).not.toBe(secret);

    const old = await clientCredentialsToken(clientId, secret);
    expect(old.status).toBe(401);
    expect(old.body.error).toBe('unauthorized_client');
    const renewed = await clientCredentialsToken(clientId, fresh);
    expect(renewed.status).toBe(200);

    const revealed = await t.call<{ secret: string }>('GET', `${clientUrl(account, clientId)}/secret`, {
      token,
    });
    expect(revealed.body.secret).toBe(fresh);
    expect(revealed.headers['cache-control']).toBe('no-store');
    secret = fresh;
  });

  it('changing scopes to push-data changes what the next token carries', async () => {
    const patched = await t.call<Created>('PATCH', clientUrl(account, clientId), {
      token,
      body: { scopes: ['push-data'] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.scopes).toEqual(['push-data']);

    const answer = await clientCredentialsToken(clientId, secret);
    const scope = String(claims(answer.body.access_token as string).scope).split(' ');
    expect(scope).toContain('push-data');
    expect(scope).not.toContain('datahub-api');

    const rep = await keycloakClient(clientId);
    expect(rep?.defaultClientScopes).toEqual(
      expect.arrayContaining(['basic', 'profile', 'roles', 'web-origins', 'acr']),
    );
    expect(rep?.defaultClientScopes).not.toContain('datahub-api');
  });

  it('enabled: false gets no token; enabled again gets one', async () => {
    const off = await t.call('PATCH', clientUrl(account, clientId), { token, body: { enabled: false } });
    expect(off.status).toBe(200);
    expect((await clientCredentialsToken(clientId, secret)).status).not.toBe(200);

    const on = await t.call('PATCH', clientUrl(account, clientId), { token, body: { enabled: true } });
    expect(on.status).toBe(200);
    expect((await clientCredentialsToken(clientId, secret)).status).toBe(200);
  });
});

describe('delete', () => {
  let t: TestApp;
  let token: string;
  const account = uniqueAccount('del');

  beforeAll(async () => {
    t = await startTestApp();
    token = await userToken('paula');
  });
  afterAll(() => t.close());

  async function create(suffix: string): Promise<Created> {
    const created = await t.call<Created>('POST', clientsUrl(account), {
      token,
      body: scriptClient(`${account}_${suffix}`),
    });
    expect(created.status).toBe(201);
    return created.body;
  }

  it('a deleted client can no longer get a token', async () => {
    const client = await create('gone');
    expect((await clientCredentialsToken(client.clientId, client.secret)).status).toBe(200);

    const deleted = await t.call('DELETE', clientUrl(account, client.clientId), { token });
    expect(deleted.status).toBe(204);
    const after = await clientCredentialsToken(client.clientId, client.secret);
    expect(after.status).toBe(401);
    expect(after.body.error).toBe('invalid_client');
    expect(await keycloakClient(client.clientId)).toBeUndefined();

    const again = await t.call('DELETE', clientUrl(account, client.clientId), { token });
    expect(again.status).toBe(404);
  });

  it('bulk delete answers deleted or not-found per id, in order', async () => {
    const a = await create('bulk-a');
    const b = await create('bulk-b');
    const answer = await t.call<{ results: { clientId: string; status: string }[] }>(
      'POST',
      `${clientsUrl(account)}/bulk-delete`,
      { token, body: { clientIds: [a.clientId, `${account}_never-was`, b.clientId, 'other-account_x'] } },
    );
    expect(answer.status).toBe(200);
    expect(answer.body.results).toEqual([
      { clientId: a.clientId, status: 'deleted' },
      { clientId: `${account}_never-was`, status: 'not-found' },
      { clientId: b.clientId, status: 'deleted' },
      { clientId: 'other-account_x', status: 'not-found' },
    ]);
    expect((await clientCredentialsToken(a.clientId, a.secret)).status).toBe(401);
    expect((await clientCredentialsToken(b.clientId, b.secret)).status).toBe(401);
  });
});
