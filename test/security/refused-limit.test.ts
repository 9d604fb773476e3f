// SPEC §5: refused requests (401, 403) are rate-limited by client address too; behind a reverse
// proxy the address comes from TRUST_PROXY, never blindly from X-Forwarded-For. And /metrics can
// move to a port of its own, or go.
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/keycloak-local.js';
import { buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
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
const scopes = (remoteAddress: string, token = 'not-a-token', headers: Record<string, string> = {}) => ({
  method: 'GET' as const,
  url: '/v1/scopes',
  remoteAddress,
  headers: { authorization: `Bearer ${token}`, ...headers },
});

describe('refused requests, by client address', () => {
  it('past the limit the address gets 429 with Retry-After, even with a valid token; others do not', async () => {
    const service = await app(limited);
    for (let i = 0; i < MAX; i++) expect((await service.inject(scopes('203.0.113.7'))).statusCode).toBe(401);
    const blocked = await service.inject(scopes('203.0.113.7'));
    expect(blocked.statusCode).toBe(429);
    expect(blocked.headers['content-type']).toContain('application/problem+json');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    const valid = await userToken('alice');
    expect((await service.inject(scopes('203.0.113.7', valid))).statusCode).toBe(429);
    expect((await service.inject(scopes('203.0.113.8', valid))).statusCode).toBe(200);
    // operations stay reachable
    expect(
      (await service.inject({ method: 'GET', url: '/healthz', remoteAddress: '203.0.113.7' })).statusCode,
    ).toBe(200);
  });

  it('counts 403 too', async () => {
    const service = await app(limited);
    const victor = await userToken('victor'); // a viewer: create is forbidden
    const create = (remoteAddress: string) =>
      service.inject({
        method: 'POST',
        url: '/v1/accounts/acme/api-clients',
        remoteAddress,
        headers: { authorization: `Bearer ${victor}`, 'content-type': 'application/json' },
        payload: { clientId: 'acme_x', capabilityTypes: ['Script'] },
      });
    for (let i = 0; i < MAX; i++) expect((await create('203.0.113.9')).statusCode).toBe(403);
    expect((await create('203.0.113.9')).statusCode).toBe(429);
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

  it('by default on the public port, as before', async () => {
    const service = await app();
    expect((await service.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  });
});
