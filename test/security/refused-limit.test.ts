// SPEC §5: refused requests (401, 403) are rate-limited, by verified caller where the token names
// one (403) and by client address otherwise (401); behind a reverse proxy the address comes from
// TRUST_PROXY, never blindly from X-Forwarded-For. And /metrics can
// move to a port of its own, or go.
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/keycloak-local.js';
import { buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { testConfig, userToken } from '../support/keycloak.js';

const apps: Awaited<ReturnType<typeof buildApp>>[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function app(overrides: Partial<Config> = {}) {
  const built = await buildApp(testConfig(overrides));
  apps.push(built);
  await built.ready();
  return built;
}

const MAX = 5;
const limited = { refusedRateLimit: { max: MAX, windowMs: 60_000 } };
const scopes = (
  remoteAddress: string,
  token = 'not-a-token',
  headers: Record<string, string> = {},
  url = '/v1/scopes',
) => ({
  method: 'GET' as const,
  url,
  remoteAddress,
  headers: { authorization: `Bearer ${token}`, ...headers },
});

const createAs = (service: Awaited<ReturnType<typeof buildApp>>, token: string, remoteAddress: string) =>
  service.inject({
    method: 'POST',
    url: '/v1/accounts/acme/api-clients',
    remoteAddress,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: { clientId: 'acme_x', capabilityTypes: ['Script'] },
  });

describe('refused requests: by verified caller, else by client address', () => {
  it('401s past the limit get 429 with Retry-After from that address; a valid token still passes there', async () => {
    const service = await app(limited);
    for (let i = 0; i < MAX; i++) expect((await service.inject(scopes('203.0.113.7'))).statusCode).toBe(401);
    const blocked = await service.inject(scopes('203.0.113.7'));
    expect(blocked.statusCode).toBe(429);
    expect(blocked.headers['content-type']).toContain('application/problem+json');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // no token at all: blocked too
    expect(
      (await service.inject({ method: 'GET', url: '/v1/scopes', remoteAddress: '203.0.113.7' })).statusCode,
    ).toBe(429);
    // the people behind that address whose tokens verify are not locked out by its failures
    const valid = await userToken('alice');
    expect((await service.inject(scopes('203.0.113.7', valid))).statusCode).toBe(200);
    expect((await service.inject(scopes('203.0.113.8'))).statusCode).toBe(401);
    // operations stay reachable
    expect(
      (await service.inject({ method: 'GET', url: '/healthz', remoteAddress: '203.0.113.7' })).statusCode,
    ).toBe(200);
  });

  it('403s count against the caller: callers behind one address do not block each other', async () => {
    const service = await app(limited);
    const [victor, alice] = await Promise.all([userToken('victor'), userToken('alice')]);
    const nat = '203.0.113.20';
    // victor, a viewer, may not create: his refusals are his own
    for (let i = 0; i < MAX; i++) expect((await createAs(service, victor, nat)).statusCode).toBe(403);
    const victorBlocked = await createAs(service, victor, nat);
    expect(victorBlocked.statusCode).toBe(429);
    expect(String(victorBlocked.json().detail)).toMatch(/this caller/);
    // from another address too: the limit follows the caller
    expect((await service.inject(scopes('198.51.100.77', victor))).statusCode).toBe(429);
    // alice, behind the same address, is not blocked, and her own refusals count for her alone
    expect((await service.inject(scopes(nat, alice))).statusCode).toBe(200);
    for (let i = 0; i < MAX; i++)
      expect((await service.inject(scopes(nat, alice, {}, '/v1/accounts/globex/limits'))).statusCode).toBe(
        403,
      );
    expect((await service.inject(scopes(nat, alice, {}, '/v1/accounts/globex/limits'))).statusCode).toBe(429);
    // and the address itself was never charged: a request without a valid token still gets 401
    expect((await service.inject(scopes(nat))).statusCode).toBe(401);
  });

  it('a forged token naming a victim cannot use up the victim’s refusals', async () => {
    const service = await app(limited);
    const alice = await userToken('alice');
    const aliceSub = JSON.parse(Buffer.from(alice.split('.')[1] as string, 'base64url').toString()).sub;
    const forged = [
      Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url'),
      Buffer.from(JSON.stringify({ sub: aliceSub, azp: 'api-clients-docs' })).toString('base64url'),
      'c2lnbmF0dXJl',
    ].join('.');
    for (let i = 0; i < MAX; i++)
      expect((await service.inject(scopes('192.0.2.66', forged))).statusCode).toBe(401);
    expect((await service.inject(scopes('192.0.2.66', forged))).statusCode).toBe(429);
    expect((await service.inject(scopes('192.0.2.67', alice))).statusCode).toBe(200);
  });

  it('ignores X-Forwarded-For unless the peer is a trusted proxy', async () => {
    const untrusted = await app(limited);
    for (let i = 0; i < MAX; i++) {
      await untrusted.inject(scopes('198.51.100.1', 'x', { 'x-forwarded-for': `192.0.2.${i}` }));
    }
    // every forged address counted against the real peer
    expect(
      (await untrusted.inject(scopes('198.51.100.1', 'x', { 'x-forwarded-for': '192.0.2.99' }))).statusCode,
    ).toBe(429);

    const behindProxy = await app({ ...limited, trustProxy: ['198.51.100.1'] });
    for (let i = 0; i < MAX; i++) {
      await behindProxy.inject(scopes('198.51.100.1', 'x', { 'x-forwarded-for': '192.0.2.1' }));
    }
    expect(
      (await behindProxy.inject(scopes('198.51.100.1', 'x', { 'x-forwarded-for': '192.0.2.1' }))).statusCode,
    ).toBe(429);
    // another client behind the same proxy is not blocked
    expect(
      (await behindProxy.inject(scopes('198.51.100.1', 'x', { 'x-forwarded-for': '192.0.2.2' }))).statusCode,
    ).toBe(401);
  });
});

describe('/metrics', () => {
  it('on a port of its own: not on the public port', async () => {
    const port = await freePort();
    const service = await app({ metrics: { enabled: true, port, host: '127.0.0.1' } });
    expect((await service.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    await service.listenMetrics();
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('http_requests_total');
  });

  it('switched off: nowhere', async () => {
    const service = await app({ metrics: { enabled: false, host: '127.0.0.1' } });
    expect((await service.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    expect(await service.listenMetrics()).toBeUndefined();
  });

  it('by default on a port of its own (METRICS_PORT 9464), not on the public port', async () => {
    const defaults = loadConfig({ KEYCLOAK_URL: 'http://127.0.0.1:1', KEYCLOAK_CLIENT_SECRET: 'x' }).metrics;
    expect(defaults).toEqual({ enabled: true, port: 9464, host: '127.0.0.1' });
    // the default, on a free port: the public port answers 404, the metrics port the metrics
    const port = await freePort();
    const service = await app({ metrics: { ...defaults, port } });
    expect((await service.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    await service.listenMetrics();
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
  });

  it('on the public port only when told (METRICS_ON_PUBLIC_PORT=true), and then on no port of its own', async () => {
    const told = loadConfig({
      KEYCLOAK_URL: 'http://127.0.0.1:1',
      KEYCLOAK_CLIENT_SECRET: 'x',
      METRICS_ON_PUBLIC_PORT: 'true',
    }).metrics;
    expect(told.port).toBeUndefined();
    const service = await app({ metrics: told });
    expect((await service.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    expect(await service.listenMetrics()).toBeUndefined();
  });
});
