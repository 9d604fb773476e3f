// Abuse limits: per-caller rate limit, body limit, CORS allow-list, security headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, startTestApp, type TestApp } from '../support/app.js';
import { scriptClient } from '../support/fixtures.js';
import {
  deleteKeycloakClient,
  keycloakAccountClientIds,
  keycloakClient,
  userToken,
} from '../support/keycloak.js';

describe('abuse limits', () => {
  let t: TestApp;
  let paula: string;
  let alice: string;

  beforeAll(async () => {
    t = await startTestApp({
      rateLimit: { max: 3, windowMs: 60_000 },
      bodyLimitBytes: 2048,
      corsOrigins: ['https://console.example.test'],
    });
    [paula, alice] = await Promise.all([userToken('paula'), userToken('alice')]);
  });
  afterAll(() => t.close());

  it('answers 429 rate-limited with Retry-After past the per-caller limit, counting each caller apart', async () => {
    const statuses: number[] = [];
    let last: Awaited<ReturnType<TestApp['call']>> | undefined;
    for (let i = 0; i < 4; i++) {
      last = await t.call('GET', '/v1/scopes', { token: paula });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last?.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(last?.body).toMatchObject({ type: 'urn:api-clients:problem:rate-limited', status: 429 });
    expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);

    // another caller has its own budget
    expect((await t.call('GET', '/v1/scopes', { token: alice })).status).toBe(200);
  });

  it('refuses a body over the limit with 413 payload-too-large, creating nothing, though the body is valid', async () => {
    // gina (globex) has a rate-limit budget of her own, untouched by the test above
    const gina = await userToken('gina');
    const account = 'globex';
    const clientId = `${account}_big-${Date.now().toString(36)}`;
    // a valid client; the JSON's whitespace alone takes it over the 2 KB limit
    const compact = JSON.stringify(scriptClient(clientId, { description: 'A valid client' }));
    const padded = `${compact}${' '.repeat(3000)}`;
    expect(Buffer.byteLength(compact)).toBeLessThan(2048);
    const before = await keycloakAccountClientIds(account);
    const send = (payload: string) =>
      t.app.inject({
        method: 'POST',
        url: clientsUrl(account),
        headers: { authorization: `Bearer ${gina}`, 'content-type': 'application/json' },
        payload,
      });
    try {
      const response = await send(padded);
      expect(response.statusCode).toBe(413);
      expect(response.json().type).toBe('urn:api-clients:problem:payload-too-large');
      expect(await keycloakAccountClientIds(account)).toEqual(before);

      // the same client without the padding is created: the limit, not validation, refused it
      const accepted = await send(compact);
      expect(accepted.statusCode, accepted.body).toBe(201);
    } finally {
      const made = await keycloakClient(clientId);
      if (made) await deleteKeycloakClient(made.id);
    }
  });

  it('answers CORS preflights for allowed origins only', async () => {
    const allowed = await t.app.inject({
      method: 'OPTIONS',
      url: '/v1/scopes',
      headers: { origin: 'https://console.example.test', 'access-control-request-method': 'GET' },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://console.example.test');
    const refused = await t.app.inject({
      method: 'OPTIONS',
      url: '/v1/scopes',
      headers: { origin: 'https://evil.example.test', 'access-control-request-method': 'GET' },
    });
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sends security headers and a request id', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers['strict-transport-security']).toBeDefined();
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('request ids', () => {
  it("keeps a caller's well-formed x-request-id and replaces anything else", async () => {
    const t = await startTestApp();
    const kept = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'ui-42.abc' },
    });
    expect(kept.headers['x-request-id']).toBe('ui-42.abc');
    const replaced = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': `evil ${'x'.repeat(300)}\n{"level":60}` },
    });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    await t.close();
  });
});
