// Starts the thin proxy (bench/anchor.ts) as a child process of its own, so that /proc/<pid> gives
// its CPU and RSS apart from the load generator's and the service's.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceClient } from './keycloak.js';
import { freePort } from './service.js';

export interface RunningAnchor {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startAnchor(options: {
  keycloakUrl: string;
  projectRoot: string;
  logFile: string;
}): Promise<RunningAnchor> {
  const port = await freePort();
  const out = openSync(options.logFile, 'a');
  // Node 24 runs TypeScript by stripping its types: no loader in the measured process
  const child = spawn(
    process.execPath,
    ['--max-semi-space-size=8', join(options.projectRoot, 'bench', 'anchor.ts')],
    {
      cwd: options.projectRoot,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        NODE_ENV: 'production',
        KEYCLOAK_URL: options.keycloakUrl,
        KEYCLOAK_CLIENT_ID: serviceClient.clientId,
        KEYCLOAK_CLIENT_SECRET: serviceClient.secret,
        PORT: String(port),
      },
      stdio: ['ignore', out, out],
    },
  );
  closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new Error('the thin proxy did not start');
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exit.then(() => {
    exited = true;
  });
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    await Promise.race([exit, sleep(5000)]);
    if (!exited) child.kill('SIGKILL');
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`the thin proxy exited during start; see ${options.logFile}`);
    // any HTTP answer means it listens (404: no route at /)
    const up = await fetch(url, { signal: AbortSignal.timeout(2000) })
      .then(() => true)
      .catch(() => false);
    if (up) return { url, pid, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the thin proxy did not listen within 30 s; see ${options.logFile}`);
    }
    await sleep(200);
  }
}
