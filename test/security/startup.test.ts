// SPEC §5: the service refuses to start on the demo realm's development secret unless it is told
// it runs for development (npm run dev and the tests tell it). The real process, as `npm start` runs it.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, projectRoot } from '../../scripts/lib/keycloak-local.js';
import { DEVELOPMENT_CLIENT_SECRET, loadConfig } from '../../src/config.js';
import { keycloakUrl } from '../support/keycloak.js';

const children: ChildProcess[] = [];

afterEach(() => {
  // only the processes this file started, by their own handles
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

/** Starts src/main.ts (the entry point); resolves on exit, or once it listens (then stops it). */
async function start(
  env: Record<string, string>,
): Promise<{ code: number | null; listened: boolean; output: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      KEYCLOAK_URL: keycloakUrl(),
      HOST: '127.0.0.1',
      PORT: String(port),
      // /metrics' own listener on a free port: parallel runs must not meet on 9464
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Server listening')) {
        child.kill('SIGTERM');
        child.once('exit', (code) => resolve({ code, listened: true, output }));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      if (!output.includes('Server listening')) resolve({ code, listened: false, output });
    });
  });
}

describe('the development secret', () => {
  it('stops the start with a message naming KEYCLOAK_CLIENT_SECRET', async () => {
    const run = await start({ KEYCLOAK_CLIENT_SECRET: DEVELOPMENT_CLIENT_SECRET });
    expect(run.listened).toBe(false);
    expect(run.code).toBe(1);
    expect(run.output).toContain('KEYCLOAK_CLIENT_SECRET');
    expect(run.output).toContain('API_CLIENTS_DEV_MODE');
  });

  it('is accepted when the service is told it runs for development', async () => {
    const run = await start({
      KEYCLOAK_CLIENT_SECRET: DEVELOPMENT_CLIENT_SECRET,
      API_CLIENTS_DEV_MODE: 'true',
    });
    expect(run.listened, run.output).toBe(true);
  });

  it('any other secret starts without development mode', () => {
    const env = { KEYCLOAK_URL: 'http://127.0.0.1:8080', KEYCLOAK_CLIENT_SECRET: 'a-real-secret' };
    expect(loadConfig(env).devMode).toBe(false);
    expect(() => loadConfig({ ...env, KEYCLOAK_CLIENT_SECRET: DEVELOPMENT_CLIENT_SECRET })).toThrow(
      'KEYCLOAK_CLIENT_SECRET',
    );
  });
});

describe('TRUST_PROXY', () => {
  const env = { KEYCLOAK_URL: 'http://127.0.0.1:8080', KEYCLOAK_CLIENT_SECRET: 'a-real-secret' };
  it.each([
    [undefined, false],
    ['false', false],
    ['true', true],
    ['1', 1],
    ['10.0.0.0/8, 127.0.0.1', ['10.0.0.0/8', '127.0.0.1']],
    ['loopback,uniquelocal', ['loopback', 'uniquelocal']],
  ])('%s → %j', (value, expected) => {
    expect(loadConfig({ ...env, ...(value === undefined ? {} : { TRUST_PROXY: value }) }).trustProxy).toEqual(
      expected,
    );
  });

  it('refuses what is not an address, a range or a hop count, naming the variable', () => {
    expect(() => loadConfig({ ...env, TRUST_PROXY: 'proxy.example.com' })).toThrow('TRUST_PROXY');
  });
});
