// npm run dev cleans up after itself: Ctrl-C while Keycloak boots (once, or twice in a row) leaves
// no Keycloak process behind; a taken service port stops it before Keycloak boots; Swagger UI's
// client accepts the port the service really uses; --watch restarts the service on a change.
import { existsSync, readFileSync, utimesSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import KeycloakAdminClient from '@keycloak/keycloak-admin-client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bootstrapAdmin, distributionHome, freePort, projectRoot } from '../../scripts/lib/keycloak-local.js';
import { keycloakUrl, realm } from '../support/keycloak.js';
import {
  exitWithin,
  groupGone,
  killGroup,
  livingMembers,
  processGroupOf,
  type Started,
  startProcess,
  waitForOutput,
} from './support.js';

const devScript = ['--import', 'tsx', 'scripts/dev.ts'];
const started: Started[] = [];
/** Groups dev started (Keycloak, the service): killed too when a test fails half-way. */
const childGroups: number[] = [];
let keycloakGroup: number | undefined;

afterEach(() => {
  // a failed test leaves nothing running either
  for (const run of started.splice(0)) {
    killGroup(run.pid);
    // a Keycloak dev started: its own group, which SIGKILL to dev cannot clean up
    for (const [, pid] of run.output().matchAll(/starting Keycloak \S+(?: \(db=\S+\))? at \S+ \(pid (\d+)/g))
      killGroup(Number(pid));
  }
  for (const group of childGroups.splice(0)) killGroup(group);
  killGroup(keycloakGroup);
  keycloakGroup = undefined;
});

/** The service's process group, from the pid in its first log line. */
async function serviceGroup(run: Started): Promise<number> {
  const pid = Number((await waitForOutput(run, /"pid":(\d+)/, 10_000))[1]);
  const group = processGroupOf(pid);
  childGroups.push(group);
  return group;
}

function dev(args: string[], env: NodeJS.ProcessEnv): Started {
  const run = startProcess([...devScript, ...args], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...(process.env.KEYCLOAK_CACHE_DIR ? { KEYCLOAK_CACHE_DIR: process.env.KEYCLOAK_CACHE_DIR } : {}),
      ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}),
      LOG_LEVEL: 'warn',
      // /metrics' own listener on a free port: parallel runs must not meet on 9464
      METRICS_PORT: '0',
      ...env,
    },
  });
  started.push(run);
  return run;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Refused or not: Keycloak's own authorization endpoint, for a login client (Swagger UI's by default) and a redirect URI. */
async function authorizeStatus(redirectUri: string, clientId = 'api-clients-docs'): Promise<number> {
  const query = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  });
  const response = await fetch(`${keycloakUrl()}/realms/${realm}/protocol/openid-connect/auth?${query}`);
  return response.status;
}

// The boot tests start the local distribution; they need it fetched (npm run keycloak -- fetch).
const localDistribution = existsSync(join(distributionHome(), 'bin', 'kc.sh'));

describe.skipIf(!localDistribution)('npm run dev: Ctrl-C while Keycloak boots', () => {
  it.each([
    ['once: stops Keycloak, exits 0', 1, 0],
    ['twice in a row: kills Keycloak at once, exits 1', 2, 1],
  ])(
    '%s, and no Keycloak process is left',
    async (_, presses, exitCode) => {
      const run = dev(['--keycloak-port', String(await freePort())], {
        KEYCLOAK_URL: '',
        PORT: String(await freePort()),
      });
      const [, pid] = await waitForOutput(
        run,
        /starting Keycloak \S+(?: \(db=\S+\))? at \S+ \(pid (\d+)/,
        120_000,
      );
      keycloakGroup = Number(pid);
      const group = keycloakGroup;
      // the JVM is up and booting, not ready yet
      await expect
        .poll(() => livingMembers(group).some((member) => commandOf(member) === 'java'), { timeout: 30_000 })
        .toBe(true);
      expect(run.output()).not.toContain('ready at');

      for (let press = 0; press < presses; press++) {
        process.kill(-run.pid, 'SIGINT'); // what a terminal's Ctrl-C does: the whole foreground group
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await exitWithin(run, 45_000)).toBe(exitCode);
      expect(await groupGone(keycloakGroup, 10_000)).toEqual([]);
      expect(run.output()).not.toContain('ready at');
      // the waits above add up to more than the suite's 60 s: a busy machine may need them all
    },
    240_000,
  );
});

describe('npm run dev: ports', () => {
  const addedRedirects: string[] = [];

  afterAll(async () => {
    // the realm as it was: only the redirect URIs this test made dev add
    if (addedRedirects.length === 0) return;
    const admin = new KeycloakAdminClient({ baseUrl: keycloakUrl(), realmName: 'master' });
    await admin.auth({ grantType: 'password', clientId: 'admin-cli', ...bootstrapAdmin });
    admin.setConfig({ realmName: realm });
    for (const clientId of ['api-clients-docs', 'api-clients-console']) {
      const [client] = await admin.clients.find({ clientId });
      if (!client?.id) continue;
      const redirectUris = (client.redirectUris ?? []).filter((uri) => !addedRedirects.includes(uri));
      await admin.clients.update({ id: client.id }, { ...client, redirectUris });
    }
  });

  it('a taken service port stops it with a clear message before Keycloak boots', async () => {
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const run = dev([], { KEYCLOAK_URL: '', PORT: String(port) });
      expect(await exitWithin(run, 30_000)).toBe(1);
      expect(run.output()).toContain(`Port ${port} on 127.0.0.1 is in use`);
      expect(run.output()).not.toContain('starting Keycloak');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('on another port than 3000, Swagger UI and the console can log in: Keycloak accepts those redirect URIs', async () => {
    const port = await freePort();
    const redirect = `http://localhost:${port}/docs/static/oauth2-redirect.html`;
    expect(await authorizeStatus(redirect)).toBe(400); // not yet registered: Keycloak refuses it
    const run = dev([], { KEYCLOAK_URL: keycloakUrl(), PORT: String(port), LOG_LEVEL: 'info' });
    addedRedirects.push(redirect, `http://127.0.0.1:${port}/docs/static/oauth2-redirect.html`);
    const consoleRedirect = `http://localhost:${port}/console/`;
    addedRedirects.push(consoleRedirect, `http://127.0.0.1:${port}/console/`);
    await waitForOutput(run, /Press Ctrl-C/, 60_000);
    const service = await serviceGroup(run);
    expect(await authorizeStatus(redirect)).toBe(200);
    expect(await authorizeStatus(consoleRedirect, 'api-clients-console')).toBe(200);
    const docs = await fetch(`http://127.0.0.1:${port}/docs/static/index.html`);
    expect(docs.status).toBe(200);
    // the console, built by dev when missing or stale
    const page = await fetch(`http://127.0.0.1:${port}/console/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app">');
    process.kill(-run.pid, 'SIGINT');
    expect(await exitWithin(run, 30_000)).toBe(0);
    expect(await groupGone(service, 10_000)).toEqual([]);
  });

  it('--watch restarts the service on a code change, and Ctrl-C stops it', async () => {
    const port = await freePort();
    const run = dev(['--watch'], { KEYCLOAK_URL: keycloakUrl(), PORT: String(port), LOG_LEVEL: 'info' });
    await waitForOutput(run, /Press Ctrl-C/, 60_000);
    const servicePid = Number((await waitForOutput(run, /"pid":(\d+)/, 10_000))[1]);
    const service = await serviceGroup(run);
    const now = new Date();
    utimesSync(join(projectRoot, 'src', 'main.ts'), now, now); // a save without a change of content
    await waitForOutput(run, /Restarting/, 30_000);
    // a new process answers
    const deadline = Date.now() + 30_000;
    let answered = false;
    while (!answered && Date.now() < deadline) {
      const pids = [...run.output().matchAll(/"pid":(\d+)/g)].map((match) => Number(match[1]));
      answered =
        pids.some((pid) => pid !== servicePid) &&
        (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200;
      if (!answered) await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(answered).toBe(true);
    process.kill(-run.pid, 'SIGINT');
    expect(await exitWithin(run, 30_000)).toBe(0);
    expect(await groupGone(service, 10_000)).toEqual([]);
  });
});
