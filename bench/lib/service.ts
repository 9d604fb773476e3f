// Starts the service for the benchmark: by default the compiled build in a child process, as the
// container image runs it (`npm run build`, then `NODE_ENV=production node dist/main.js` on
// 127.0.0.1:<free port>), so that the load generator does not share its event loop and its RSS/CPU
// are its own; or with --in-process buildApp(loadConfig({...})) inside the bench process.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { redactPaths } from '../../src/http/logger.js';
import { serviceClient } from './keycloak.js';

export interface RunningService {
  url: string;
  pid: number;
  mode: 'compiled build (node dist/main.js)' | 'in-process';
  logFile: string;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  keycloakUrl: string;
  logLevel: string;
  logFile: string;
  inProcess: boolean;
  projectRoot: string;
  /** With the child: write a V8 CPU profile (node --cpu-prof) into this folder when it stops. */
  cpuProfileDir?: string;
  /** With the child: another build's entry point than dist/main.js, and settings on top (A/B runs). */
  entry?: string;
  env?: Record<string, string>;
}

/** The service's configuration for the run: no rate limit, no load shedding. */
export function serviceEnv(options: ServiceOptions): Record<string, string> {
  return {
    KEYCLOAK_URL: options.keycloakUrl,
    KEYCLOAK_CLIENT_SECRET: serviceClient.secret,
    API_CLIENTS_DEV_MODE: 'true',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: options.logLevel,
    RATE_LIMIT_MAX: '1000000000',
    LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
    // the bench reads keycloak_requests_total from the service's own URL (bench/lib/calls.ts), on loopback
    METRICS_ON_PUBLIC_PORT: 'true',
  };
}

export async function startService(options: ServiceOptions): Promise<RunningService> {
  return options.inProcess ? startInProcess(options) : startChild(options);
}

async function startInProcess(options: ServiceOptions): Promise<RunningService> {
  const config = loadConfig(serviceEnv(options));
  // synchronous writes to a file, as the child's pino writes to its stdout (that same file)
  const logger = pino(
    { level: config.logLevel, redact: { paths: redactPaths, censor: '[redacted]' } },
    pino.destination({ dest: options.logFile, sync: true }),
  );
  const app: FastifyInstance = await buildApp(config, { loggerInstance: logger });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
  } catch (error) {
    await app.close();
    throw error;
  }
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the service listens on no TCP port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    pid: process.pid,
    mode: 'in-process',
    logFile: options.logFile,
    stop: async () => {
      await Promise.race([app.close(), sleep(15_000)]);
    },
  };
}

/** A free TCP port on 127.0.0.1 (the compiled build takes its port from PORT and does not report it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

/** `npm run build` (tsc -p tsconfig.build.json): the child runs dist/main.js, as the image does. */
export function buildService(projectRoot: string): void {
  const built = spawnSync(
    process.execPath,
    [join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: projectRoot,
      encoding: 'utf8',
    },
  );
  if (built.status !== 0)
    throw new Error(
      `npm run build failed (${built.status}): ${(built.stdout + built.stderr).slice(0, 2000)}`,
    );
}

/**
 * The Node flags of `npm start` (package.json), which the image's CMD repeats: the bench runs the
 * service as deployed. (`--max-semi-space-size=8`: V8's young generation would otherwise grow to
 * 64 MB per semi-space on a machine this size, and the service's RSS with it, bench/README.md.)
 */
function startFlags(projectRoot: string): string[] {
  const manifest = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  return manifest.scripts.start.split(/\s+/).filter((word) => word.startsWith('--'));
}

async function startChild(options: ServiceOptions): Promise<RunningService> {
  const port = await freePort();
  const out = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    // the compiled build as the container image runs it: NODE_ENV=production node dist/main.js
    child = spawn(
      process.execPath,
      [
        ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
        ...startFlags(options.projectRoot),
        options.entry ?? join(options.projectRoot, 'dist', 'main.js'),
      ],
      {
        cwd: options.projectRoot,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/tmp',
          ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
          NODE_ENV: 'production',
          ...serviceEnv(options),
          ...options.env,
          PORT: String(port),
        },
        stdio: ['ignore', out, out],
      },
    );
  } finally {
    closeSync(out);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error('the service process did not start');
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exit.then(() => {
    exited = true;
  });

  // SIGTERM: the server finishes in-flight requests and exits (close-with-grace, src/server.ts),
  // which is also when --cpu-prof writes its profile
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    await Promise.race([exit, sleep(15_000)]);
    if (!exited) {
      child.kill('SIGKILL');
      await Promise.race([exit, sleep(5000)]);
    }
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`the service exited during start; see ${options.logFile}`);
    const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the service was not ready within 60 s; see ${options.logFile}`);
    }
    await sleep(300);
  }
  return { url, pid, mode: 'compiled build (node dist/main.js)', logFile: options.logFile, stop };
}
