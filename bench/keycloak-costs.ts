// npm run bench:costs: what one admin call of each kind costs Keycloak, next to what one GET through
// the service costs it, on a running Keycloak (KEYCLOAK_URL, loopback only). Each target gets
// autocannon for a few seconds; Keycloak's CPU comes from /proc of its JVM (the process listening
// on KEYCLOAK_URL's port), the service's from /proc of the compiled build it starts. It also
// counts the service's TCP connections to Keycloak (distinct local ports seen over the run: as
// many as the pool holds when they are reused, thousands when they are not).
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot, waitForRealm } from '../scripts/lib/keycloak-local.js';
import { delta, scrapeKeycloakCalls } from './lib/calls.js';
import { AdminApi, platformAdminTokens, serviceAccountTokens } from './lib/keycloak.js';
import { cannon, LoadControl, summarise } from './lib/load.js';
import { listeningPid, Sampler } from './lib/proc.js';
import { asUser, type Context, PROBE, probeBody } from './lib/scenarios.js';
import { buildService, startService } from './lib/service.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    // profile the service (node --cpu-prof) under its GET alone, into this folder
    'cpu-profile': { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const log = (line: string) => process.stderr.write(`${line}\n`);

const keycloakUrl = (process.env.KEYCLOAK_URL ?? '').replace(/\/+$/, '');
const port = new URL(keycloakUrl).port;
if (!['127.0.0.1', 'localhost'].includes(new URL(keycloakUrl).hostname))
  throw new Error('KEYCLOAK_URL must be a loopback address');

/** The pid listening on Keycloak's port (the JVM). */
function listenerPid(): number {
  const pid = listeningPid(port);
  if (!pid) throw new Error(`no process listens on port ${port}`);
  return pid;
}

/** Local ports of the service's established connections to Keycloak. */
function serviceConnections(pid: number): string[] {
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', `dport = :${port}`], {
    encoding: 'utf8',
  });
  return out
    .split('\n')
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => line.trim().split(/\s+/)[2] ?? '');
}

const signal = new AbortController().signal;
await waitForRealm(keycloakUrl);
const serviceTokens = serviceAccountTokens(keycloakUrl, signal);
const userTokens = platformAdminTokens(keycloakUrl, signal);
const admin = new AdminApi(keycloakUrl, serviceTokens, signal);
const jvm = new Sampler(listenerPid()).start();
buildService(projectRoot);
const service = await startService({
  keycloakUrl,
  logLevel: 'info',
  logFile: join(mkdtempSync(join(tmpdir(), 'api-clients-costs-')), 'service.log'),
  inProcess: false,
  projectRoot,
  cpuProfileDir: values['cpu-profile'],
});
const serviceSampler = new Sampler(service.pid).start();
try {
  const ctx = { service, userTokens, signal } as unknown as Context;
  const clientId = `${PROBE}_1`;
  let id = await admin.findIdByClientId(clientId);
  if (!id) {
    const created = await asUser(ctx, 'POST', `/v1/accounts/${PROBE}/api-clients`, probeBody(1));
    if (created.status !== 201) throw new Error(`create ${clientId}: ${created.status} ${created.text}`);
    id = (await admin.findIdByClientId(clientId)) as string;
  }
  const control = new LoadControl(signal);
  const direct = async (path: string) => ({
    url: `${admin.base}${path}`,
    headers: { authorization: `Bearer ${await serviceTokens.get(seconds * 1000 + 60_000)}` },
  });
  const viaService = async (path: string) => ({
    url: `${service.url}${path}`,
    headers: { authorization: `Bearer ${await userTokens.get(seconds * 1000 + 60_000)}` },
  });
  const targets: [string, () => Promise<{ url: string; headers: Record<string, string> }>][] = [
    [
      'direct GET /clients?clientId=&first=0&max=1',
      () => direct(`/clients?clientId=${clientId}&first=0&max=1`),
    ],
    ['direct GET /clients/{id}', () => direct(`/clients/${id}`)],
    ['direct GET /clients/{id}/scope-mappings/realm', () => direct(`/clients/${id}/scope-mappings/realm`)],
    [
      'direct GET /events?client=&type=CLIENT_LOGIN&type=CODE_TO_TOKEN&max=1',
      () => direct(`/events?client=${clientId}&type=CLIENT_LOGIN&type=CODE_TO_TOKEN&max=1`),
    ],
    [
      'service GET /v1/accounts/{a}/api-clients/{c}',
      () => viaService(`/v1/accounts/${PROBE}/api-clients/${clientId}`),
    ],
    ['service GET /healthz', async () => ({ url: `${service.url}/healthz`, headers: {} })],
  ];
  const rows: string[] = [
    '| target | req/s | p50 ms | Keycloak CPU ms/req | service CPU ms/req | admin calls/req (by operation) | service→Keycloak connections seen |',
    '|---|---:|---:|---:|---:|---|---:|',
  ];
  const chosen = values['cpu-profile']
    ? targets.filter(([name]) => name.startsWith('service GET /v1'))
    : targets;
  for (let round = 0; round < rounds; round++) {
    for (const [name, target] of chosen) {
      await cannon(control, await target(), connections, 2); // warm-up
      const ports = new Set<string>();
      const watch = setInterval(() => {
        for (const p of serviceConnections(service.pid)) ports.add(p);
      }, 250);
      const before = await scrapeKeycloakCalls(service.url, signal);
      const k = jvm.begin();
      const s = serviceSampler.begin();
      const raw = await cannon(control, await target(), connections, seconds);
      const kc = k.end();
      const sv = s.end();
      clearInterval(watch);
      const calls = delta(before, await scrapeKeycloakCalls(service.url, signal));
      const stats = summarise(raw);
      const n = stats.requests || 1;
      const perOp = Object.entries(calls.byOperation)
        .map(([op, c]) => `${op} ${(c / n).toFixed(2)}`)
        .join(', ');
      const row = `| ${name} | ${stats.perSecond} | ${stats.p50} | ${kc ? ((kc.cpuSeconds * 1000) / n).toFixed(2) : 'n/a'} | ${sv ? ((sv.cpuSeconds * 1000) / n).toFixed(2) : 'n/a'} | ${(calls.total / n).toFixed(2)} (${perOp || '–'}) | ${ports.size} |`;
      log(row);
      rows.push(row);
    }
  }
  process.stdout.write(`\n${rows.join('\n')}\n`);
} finally {
  jvm.stop();
  serviceSampler.stop();
  await service.stop();
}
