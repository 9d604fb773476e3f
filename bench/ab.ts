// npx tsx bench/ab.ts: A/B of the service's CPU per request against a running Keycloak (KEYCLOAK_URL), beside the thin
// proxy: each variant is a service process of its own (a build folder and/or settings), measured
// in turns, round after round, so that the machine's load weighs on all alike.
//   VARIANTS='{"now":{},"warn":{"env":{"LOG_LEVEL":"warn"}},"old":{"dist":".cache/ab/old"}}'
// A build folder must sit inside the project (its imports resolve node_modules from there):
// `npx tsc -p tsconfig.build.json --outDir .cache/ab/old`. `{"dev": true}` runs the service as
// `npm run dev` does (`node --import tsx src/main.ts`, no NODE_ENV) on a terminal of its own
// (util-linux `script`), so that its log is pino-pretty's, as a newcomer sees it.
// RATE=N holds every target at N requests per second (autocannon overallRate) instead of as fast
// as each answers: CPU per request is then compared at the same load, without the batching a
// faster target gets from its higher rate.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '../scripts/lib/keycloak-local.js';
import { startAnchor } from './lib/anchor.js';
import { platformAdminTokens } from './lib/keycloak.js';
import { cannon, LoadControl } from './lib/load.js';
import { childPid, Sampler } from './lib/proc.js';
import { probeBody } from './lib/scenarios.js';
import { freePort, serviceEnv, startService } from './lib/service.js';

/** The service as `npm run dev` runs it, on a pseudo-terminal; answers the node process' pid. */
async function startDev(logFile: string, env: Record<string, string> = {}) {
  const port = await freePort();
  const out = openSync(logFile, 'a');
  const command = `exec ${process.execPath} --import tsx src/main.ts`;
  const script = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      TERM: 'xterm',
      ...serviceEnv({ keycloakUrl, logLevel: 'info', logFile, inProcess: false, projectRoot }),
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', out, out],
    detached: true,
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (
      await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await sleep(300);
  }
  // script -> the shell's exec -> node: the process whose CPU counts
  let pid = script.pid as number;
  for (let next = childPid(pid); next; next = childPid(pid)) pid = next;
  return {
    url,
    pid,
    stop: async () => {
      process.kill(-(script.pid as number), 'SIGTERM');
      await sleep(1000);
    },
  };
}

const keycloakUrl = process.env.KEYCLOAK_URL as string;
const seconds = Number(process.env.SECS ?? 6);
const rounds = Number(process.env.ROUNDS ?? 3);
const path = process.env.TARGET ?? '/v1/accounts/bench-probe/api-clients/bench-probe_1';
const variants = JSON.parse(process.env.VARIANTS ?? '{"now":{}}') as Record<
  string,
  { dist?: string; env?: Record<string, string>; dev?: boolean }
>;
const dir = mkdtempSync(join(tmpdir(), 'cpu-'));
const control = new LoadControl(new AbortController().signal);
const targets: Record<string, { url: string; pid: number; stop(): Promise<void> }> = {};
// every process started so far is stopped in the finally below, also when a later one fails to start
try {
  for (const [name, v] of Object.entries(variants)) {
    if (v.dev) {
      targets[name] = await startDev(join(dir, `${name}.log`), v.env);
      continue;
    }
    targets[name] = await startService({
      keycloakUrl,
      logLevel: 'info',
      logFile: join(dir, `${name}.log`),
      inProcess: false,
      projectRoot,
      entry: v.dist ? join(v.dist, 'main.js') : undefined,
      env: v.env,
      cpuProfileDir: process.env.PROF ? join(process.env.PROF, name) : undefined,
    });
  }
  targets.anchor = await startAnchor({ keycloakUrl, projectRoot, logFile: join(dir, 'anchor.log') });
  const token = await platformAdminTokens(keycloakUrl, control.signal).get(600_000);
  const first = Object.values(targets)[0] as { url: string };
  for (let n = 1; n <= 5; n++) {
    await fetch(`${first.url}/v1/accounts/bench-probe/api-clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(probeBody(n)),
    });
  }
  const headers = { authorization: `Bearer ${token}` };
  const rate = process.env.RATE ? Number(process.env.RATE) : undefined;
  const sums: Record<string, { cpu: number; n: number; s: number }> = {};
  for (const t of Object.values(targets)) await cannon(control, { url: `${t.url}${path}`, headers }, 10, 3);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? Object.entries(targets).reverse() : Object.entries(targets);
    for (const [name, t] of order) {
      const s = new Sampler(t.pid).start();
      const w = s.begin();
      const raw = await cannon(control, { url: `${t.url}${path}`, headers, rate }, 10, seconds);
      const st = w.end();
      s.stop();
      const sum = sums[name] ?? { cpu: 0, n: 0, s: 0 };
      sums[name] = sum;
      sum.cpu += st?.cpuSeconds ?? 0;
      sum.n += raw.latencies.length;
      sum.s += raw.seconds;
      if (raw.failures) console.log(`${name}: ${raw.failures} failures`);
    }
  }
  const proxy = sums.anchor as { cpu: number; n: number };
  for (const [name, v] of Object.entries(sums))
    console.log(
      `${name.padEnd(12)} ${(v.n / v.s).toFixed(0).padStart(5)} req/s  CPU ${((v.cpu * 1000) / v.n).toFixed(3)} ms/req  (×${(v.cpu / v.n / (proxy.cpu / proxy.n)).toFixed(2)} proxy)`,
    );
} finally {
  for (const t of Object.values(targets)) await t.stop();
}
