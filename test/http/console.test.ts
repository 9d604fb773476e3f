// The console as the service serves it (src/http/console.ts), built or not: the page, its
// runtime configuration (no secret), its own Content-Security-Policy that the API's answers do
// not get. The page itself runs in a real browser in test/console/ (npm run test:console).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { keycloakUrl, serviceClient } from '../support/keycloak.js';

describe('GET /console, built', () => {
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'console-'));

  beforeAll(async () => {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="app"></div>');
    writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
    t = await startTestApp({}, { consoleDir: dir });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('/console sends the browser to /console/, which is the page', async () => {
    const bare = await t.call('GET', '/console');
    expect(bare.status).toBe(302);
    expect(bare.headers.location).toBe('/console/');
    const page = await t.call('GET', '/console/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<div id="app">');
    expect(page.headers['cache-control']).toBe('no-cache');
    const asset = await t.call('GET', '/console/assets/index-abc.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
  });

  it('gives the page what it needs to log in, and no secret', async () => {
    const answer = await t.call('GET', '/console/config.json');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      keycloakUrl: keycloakUrl(),
      realm: 'platform',
      clientId: 'api-clients-console',
      accountClaim: 'account_id',
      rolesClaim: 'realm_access.roles',
      maxGracePeriodSeconds: 604_800,
      secretRevealEnabled: true,
    });
    expect(JSON.stringify(answer.body)).not.toContain(serviceClient.secret);
  });

  it('the console has its own Content-Security-Policy: scripts from itself, fetch to itself and Keycloak', async () => {
    const page = await t.call('GET', '/console/');
    const policy = String(page.headers['content-security-policy']);
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain(`connect-src 'self' ${new URL(keycloakUrl()).origin}`);
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain('unsafe-inline');
    // the API's answers and Swagger UI keep theirs
    const health = await t.call('GET', '/healthz');
    expect(health.headers['content-security-policy']).toBeUndefined();
  });
});

describe('GET /console, not built', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, { consoleDir: join(tmpdir(), 'no-console-here') });
  });
  afterAll(() => t?.close());

  it('answers a 404 problem that says how to build it; the rest of the service works', async () => {
    for (const path of ['/console', '/console/', '/console/assets/x.js']) {
      const answer = await t.call('GET', path);
      expect(answer.status).toBe(404);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect((answer.body as { detail: string }).detail).toContain('npm run build');
    }
    expect((await t.call('GET', '/console/config.json')).status).toBe(200);
    expect((await t.call('GET', '/healthz')).status).toBe(200);
  });
});
