// What Fastify refuses before a route runs answers like everything else: problem+json with the
// request id, the security headers and CORS; a method a path does not have is 405 with Allow;
// the longest valid clientId reaches every route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../support/app.js';
import { scriptClient } from '../support/fixtures.js';
import { keycloakAccountClientIds, keycloakClient, userToken } from '../support/keycloak.js';

const origin = 'https://ui.example.test';

describe('answers the framework gives', () => {
  let t: TestApp;
  let token: string;
  const account = uniqueAccount('fw');

  beforeAll(async () => {
    t = await startTestApp({ corsOrigins: [origin] });
    token = await userToken('paula');
  });
  afterAll(() => t?.close());

  /** problem+json with the headers every answer carries */
  function expectProblem(
    answer: { status: number; headers: Record<string, unknown>; body: unknown },
    status: number,
    type: string,
  ) {
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = answer.body as { type: string; status: number; instance: string };
    expect(body.type).toBe(`urn:api-clients:problem:${type}`);
    expect(body.status).toBe(status);
    expect(answer.headers['x-request-id']).toBe(body.instance);
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['strict-transport-security']).toBeDefined();
    expect(answer.headers['access-control-allow-origin']).toBe(origin);
  }

  const send = (method: 'POST' | 'PUT' | 'PATCH', url: string, payload?: string, type?: string) =>
    t.app
      .inject({
        method,
        url,
        headers: {
          authorization: `Bearer ${token}`,
          origin,
          ...(type ? { 'content-type': type } : {}),
        },
        ...(payload !== undefined ? { payload } : {}),
      })
      .then((r) => ({ status: r.statusCode, headers: r.headers, body: JSON.parse(r.body) as unknown }));

  it.each([
    ['no body, no content type', undefined, undefined, 400, 'validation-failed'],
    ['an empty JSON body', '', 'application/json', 400, 'validation-failed'],
    ['JSON that does not parse', '{"clientId":', 'application/json', 400, 'validation-failed'],
    ['JSON null', 'null', 'application/json', 400, 'validation-failed'],
    ['a body that is not JSON', 'clientId=x', 'text/plain', 415, 'unsupported-media-type'],
  ] as const)(
    'create with %s: %i problem, nothing created',
    async (_what, payload, type, status, problem) => {
      for (const url of [clientsUrl(account), `${clientsUrl(account)}/bulk-delete`]) {
        expectProblem(await send('POST', url, payload, type), status, problem);
      }
      expectProblem(await send('PUT', `/v1/accounts/${account}/limits`, payload, type), status, problem);
      expect(await keycloakAccountClientIds(account)).toEqual([]);
    },
  );

  it('a path parameter that is not valid percent-encoding: 400 problem', async () => {
    const answer = await t.app.inject({
      method: 'GET',
      url: `${clientsUrl(account)}/${account}_%zz`,
      headers: { authorization: `Bearer ${token}`, origin },
    });
    const body = JSON.parse(answer.body);
    expectProblem({ status: answer.statusCode, headers: answer.headers, body }, 400, 'validation-failed');
    expect(body.errors).toEqual([{ pointer: '', in: 'path', reason: 'is not valid percent-encoding' }]);
  });

  it.each([
    ['PATCH', '/v1/scopes', 'GET, HEAD'],
    // without Content-Type Fastify would refuse QUERY with 400 before any route (found by the fuzz run)
    ['QUERY', '/v1/scopes', 'GET, HEAD'],
    ['QUERY', '/healthz', 'GET, HEAD'],
    // bulk-delete is its own resource, not a clientId (found by the fuzz run)
    ['PUT', '/v1/accounts/acme/api-clients/bulk-delete', 'POST'],
    ['GET', '/v1/accounts/acme/api-clients/bulk-delete', 'POST'],
    ['POST', `/v1/accounts/acme/api-clients/acme_x`, 'DELETE, GET, HEAD, PATCH, PUT'],
    ['DELETE', '/v1/accounts/acme/limits', 'GET, HEAD, PUT'],
    ['PUT', '/v1/accounts/acme/api-clients', 'GET, HEAD, POST'],
  ])('%s %s: 405 with Allow: %s', async (method, url, allow) => {
    const answer = await t.call(method as 'GET', url, { token, headers: { origin } });
    expectProblem(answer, 405, 'method-not-allowed');
    expect(answer.headers.allow).toBe(allow);
  });

  it('a path no route has: 404 problem', async () => {
    expectProblem(await t.call('GET', '/v1/nothing-here', { headers: { origin } }), 404, 'not-found');
  });

  it('the longest valid clientId (255 characters) reaches every route', async () => {
    const clientId = `${account}_${'x'.repeat(255 - account.length - 1)}`;
    expect(clientId).toHaveLength(255);
    const auth = { token };
    // a WebApp: Keycloak's service-account user of a Script client would be named too long (below)
    const created = await t.call('POST', clientsUrl(account), {
      ...auth,
      body: { clientId, capabilityTypes: ['WebApp'] },
    });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(clientUrl(account, clientId));
    expect((await t.call('GET', clientUrl(account, clientId), auth)).status).toBe(200);
    const patched = await t.call('PATCH', clientUrl(account, clientId), {
      ...auth,
      body: { displayName: 'Longest' },
    });
    expect(patched.status).toBe(200);
    expect((await keycloakClient(clientId))?.name).toBe('Longest');
    // PUT takes the editable fields: not the read-only ones a create answers with
    const {
      clientId: _,
      secret: __,
      accountId: ___,
      createdAt: ____,
      lastUsedAt: _____,
      previousSecretExpiresAt: ______,
      ...fields
    } = created.body;
    const replaced = await t.call('PUT', clientUrl(account, clientId), {
      ...auth,
      body: { ...fields, displayName: 'Replaced' },
    });
    expect(replaced.status).toBe(200);
    expect((await t.call('GET', `${clientUrl(account, clientId)}/secret`, auth)).status).toBe(200);
    expect((await t.call('POST', `${clientUrl(account, clientId)}/secret`, auth)).status).toBe(200);
    // PUT, PATCH and a DELETE with If-Match take the client's lock, a Keycloak role of at most
    // 255 characters: the lock of a long clientId is named by its hash (found by the fuzz run)
    const current = await t.call('GET', clientUrl(account, clientId), auth);
    const deleted = await t.call('DELETE', clientUrl(account, clientId), {
      ...auth,
      headers: { 'if-match': String(current.headers.etag) },
    });
    expect(deleted.status).toBe(204);
    expect(await keycloakClient(clientId)).toBeUndefined();
  });

  it('a Script clientId over 239 characters: 400, nothing created (Keycloak would name its user too long)', async () => {
    const clientId = `${account}_${'s'.repeat(240 - account.length - 1)}`;
    const answer = await t.call('POST', clientsUrl(account), { token, body: scriptClient(clientId) });
    expect(answer.status).toBe(400);
    expect((answer.body as { errors: unknown[] }).errors).toEqual([
      {
        pointer: '/capabilityTypes',
        in: 'body',
        reason: 'Script needs a clientId of at most 239 characters',
      },
    ]);
    expect(await keycloakClient(clientId)).toBeUndefined();
    const shorter = clientId.slice(0, 239);
    expect((await t.call('POST', clientsUrl(account), { token, body: scriptClient(shorter) })).status).toBe(
      201,
    );
    expect((await t.call('DELETE', clientUrl(account, shorter), { token })).status).toBe(204);
  });

  it('a clientId over 255 characters: 400 naming the path parameter, not 414', async () => {
    const answer = await t.call('GET', clientUrl(account, `${account}_${'x'.repeat(300)}`), {
      token,
      headers: { origin },
    });
    expectProblem(answer, 400, 'validation-failed');
    expect((answer.body as { errors: { pointer: string; in: string }[] }).errors).toContainEqual(
      expect.objectContaining({ pointer: '/clientId', in: 'path' }),
    );
  });
});
