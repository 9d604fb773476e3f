import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../scripts/lib/keycloak-local.js';
import { buildApp } from '../src/app.js';
import { createReadiness } from '../src/routes/health/readiness.js';
import { testConfig } from './support/keycloak.js';

describe('health and readiness against the real Keycloak', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp(testConfig());
  });
  afterAll(() => app.close());

  it('is alive', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it("is ready when Keycloak accepts the service's own token", async () => {
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
  });
});

describe('readiness without a usable Keycloak', () => {
  it('answers 503 keycloak-unavailable with Retry-After when Keycloak cannot be reached', async () => {
    const closedPort = await freePort();
    const base = testConfig();
    const app = await buildApp({
      ...base,
      keycloak: { ...base.keycloak, url: `http://127.0.0.1:${closedPort}`, timeoutMs: 1000 },
    });
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    await app.close();
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.headers['retry-after']).toBeDefined();
    expect(response.json()).toMatchObject({
      type: 'urn:api-clients:problem:keycloak-unavailable',
      status: 503,
    });
  });

  it("answers 503 when Keycloak refuses the service's own credentials", async () => {
    const base = testConfig();
    const app = await buildApp({ ...base, keycloak: { ...base.keycloak, clientSecret: 'wrong-secret' } });
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    await app.close();
    expect(response.statusCode).toBe(503);
    expect(response.json().detail).not.toContain('wrong-secret');
  });
});

describe('readiness at a bounded cost (routes/health/readiness.ts)', () => {
  it('shares the check in flight and reuses its result, ready or not, for a second', async () => {
    let now = 0;
    let calls = 0;
    let failing = false;
    const ready = createReadiness(
      async () => {
        calls += 1;
        await new Promise((resolve) => setTimeout(resolve, 10));
        if (failing) throw new Error('down');
      },
      { clock: () => now },
    );
    await Promise.all(Array.from({ length: 50 }, () => ready()));
    expect(calls).toBe(1);
    now = 999;
    failing = true;
    await ready();
    expect(calls).toBe(1);
    now = 1000;
    await expect(ready()).rejects.toThrow('down');
    expect(calls).toBe(2);
    failing = false;
    now = 1500;
    await expect(ready()).rejects.toThrow('down'); // the failure answers for its second too
    expect(calls).toBe(2);
    now = 2000;
    await ready();
    expect(calls).toBe(3);
  });
});
