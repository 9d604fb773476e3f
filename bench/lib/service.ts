// Starts the service for the benchmark: by default in a child process (so that the load generator
// does not share its event loop and its RSS/CPU are its own), or with --in-process inside the
// bench process. Either way buildApp(loadConfig({...})) + app.listen on 127.0.0.1:<free port>.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { redactPaths } from '../../src/http/logger.js';
import { serviceClient } from './keycloak.js';
import type { ServiceMessage } from './service-process.js';

export interface RunningService {
  url: string;
  pid: number;
  mode: 'child process' | 'in-process';
  logFile: string;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  keycloakUrl: string;
  logLevel: string;
  logFile: string;
  inProcess: boolean;
  projectRoot: string;
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

async function startChild(options: ServiceOptions): Promise<RunningService> {
  const out = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      process.execPath,
      ['--import', 'tsx', join(options.projectRoot, 'bench', 'lib', 'service-process.ts')],
      {
        cwd: options.projectRoot,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/tmp',
          ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
          // the TypeScript sources as `npm start` runs them (NODE_ENV=production, node --import tsx)
          NODE_ENV: 'production',
          ...serviceEnv(options),
        },
        stdio: ['ignore', out, out, 'ipc'],
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

  const stop = async (): Promise<void> => {
    if (exited) return;
    if (child.connected) child.send('stop');
    else child.kill('SIGTERM');
    await Promise.race([exit, sleep(15_000)]);
    if (!exited) {
      child.kill('SIGKILL');
      await Promise.race([exit, sleep(5000)]);
    }
  };

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the service did not listen within 60 s')), 60_000);
    child.on('message', (message: ServiceMessage) => {
      clearTimeout(timer);
      if (message.type === 'listening') resolve(message.port);
      else reject(new Error(`the service did not start: ${message.message}`));
    });
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`the service exited during start; see ${options.logFile}`));
    });
  }).catch(async (error) => {
    await stop();
    throw error;
  });
  return { url: `http://127.0.0.1:${port}`, pid, mode: 'child process', logFile: options.logFile, stop };
}
