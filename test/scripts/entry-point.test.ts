// The compiled entry point (what `npm start` and the image run) starts the server wherever Node
// runs it from: a folder whose path holds a space and a `%`, `node dist/main` without `.js`, a
// relative path. It used to decide it was the entry point by comparing import.meta.url with
// `file://${argv[1]}`, and then exited 0 without listening in all of these.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, projectRoot } from '../../scripts/lib/keycloak-local.js';
import { keycloakUrl, serviceClient } from '../support/keycloak.js';
import { exitWithin, killGroup, type Started, startProcess, waitForOutput } from './support.js';

let folder: string;
let started: Started | undefined;

beforeAll(() => {
  folder = join(mkdtempSync(join(tmpdir(), 'api-clients-')), 'a folder with space %20 and %');
  mkdirSync(folder);
  const build = spawnSync(
    process.execPath,
    [
      join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      'tsconfig.build.json',
      '--outDir',
      join(folder, 'dist'),
    ],
    { cwd: projectRoot, encoding: 'utf8' },
  );
  expect(build.status, `${build.stdout}${build.stderr}`).toBe(0);
  // as an installed copy: package.json (ES modules) and the dependencies beside dist/
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(join(projectRoot, 'node_modules'), join(folder, 'node_modules'), 'dir');
}, 120_000);

afterEach(() => {
  killGroup(started?.pid);
  started = undefined;
});

afterAll(() => {
  rmSync(join(folder, '..'), { recursive: true, force: true });
});

function serviceEnv(port: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    KEYCLOAK_URL: keycloakUrl(),
    KEYCLOAK_CLIENT_SECRET: serviceClient.secret,
    // the demo realm's public secret: accepted only for development
    API_CLIENTS_DEV_MODE: 'true',
    HOST: '127.0.0.1',
    PORT: String(port),
    // /metrics' own listener on a free port: parallel runs must not meet on 9464
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

describe('the entry point (node dist/main.js)', () => {
  it.each([
    ['an absolute path with a space and %, without .js', (dir: string) => join(dir, 'dist', 'main')],
    ['a relative path', () => 'dist/main.js'],
  ])('listens and stops on SIGTERM, run by %s', async (_, entry) => {
    const port = await freePort();
    started = startProcess([entry(folder)], { cwd: folder, env: serviceEnv(port) });
    await waitForOutput(started, /Server listening at/, 30_000);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    process.kill(started.pid, 'SIGTERM');
    expect(await exitWithin(started, 20_000)).toBe(0);
  });

  it('names the missing variable and exits 1 on a bad configuration', async () => {
    started = startProcess([join(folder, 'dist', 'main.js')], {
      cwd: folder,
      env: serviceEnv(await freePort(), { KEYCLOAK_URL: undefined }),
    });
    expect(await exitWithin(started, 20_000)).toBe(1);
    expect(started.output()).toMatch(/Invalid configuration: .*KEYCLOAK_URL/);
  });

  it('says which port is taken and exits 1', async () => {
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      started = startProcess([join(folder, 'dist', 'main.js')], { cwd: folder, env: serviceEnv(port) });
      expect(await exitWithin(started, 20_000)).toBe(1);
      expect(started.output()).toContain(`Cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
