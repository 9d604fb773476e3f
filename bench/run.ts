// npm run bench: the service next to Keycloak itself. A benchmark, not a test (never part of
// npm test). See bench/README.md for what it measures and how to read the report.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  pinnedKeycloakVersion,
  projectRoot,
  type RunningKeycloak,
  startLocalKeycloak,
  waitForRealm,
} from '../scripts/lib/keycloak-local.js';
import { type ActivityRun, activityTable, measureActivity } from './lib/activity.js';
import { type RunningAnchor, startAnchor } from './lib/anchor.js';
import { type CreateLatencyRun, createLatencyTable, measureCreateLatency } from './lib/create-latency.js';
import { AdminApi, platformAdminTokens, realm, serviceAccountTokens } from './lib/keycloak.js';
import { http, LoadControl } from './lib/load.js';
import { type BenchOptions, parseOptions, usage } from './lib/options.js';
import { childPid, lifetimePeakRss, listeningPid, Sampler, toMB } from './lib/proc.js';
import {
  anchorTable,
  type CallCountRow,
  callCountTable,
  evaluateTargets,
  measurementsTable,
  type PairedRun,
  type ResourceRun,
  resourceTable,
  targetList,
} from './lib/report.js';
import {
  asUser,
  type Context,
  CREATE_DELETE,
  CREATE_DELETE_LIMIT,
  CREATE_FIELDS,
  callCounts,
  createDelete,
  createProbe,
  expectStatus,
  purgeBenchAccounts,
  readScenarios,
} from './lib/scenarios.js';
import { type SeedBatch, Seeder } from './lib/seed.js';
import { buildService, type RunningService, startService } from './lib/service.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

interface SeedRecord extends SeedBatch {
  realmSize: number;
  /** Keycloak's CPU time per seeded client (when the benchmark started Keycloak) */
  keycloakCpuMsPerClient?: number;
}

interface ServiceSummary {
  mode: string;
  rssIdleMB?: number;
  rssAfterProbeMB?: number;
  rssEndMB?: number;
  rssPeakMB?: number;
  cpuSecondsTotal?: number;
}

async function waitForService(url: string, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    signal.throwIfAborted();
    const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) return;
    await sleep(500);
  }
  throw new Error(`the service at ${url} was not ready within 60 s`);
}

function keycloakUrlFromEnv(): string | undefined {
  const raw = process.env.KEYCLOAK_URL;
  if (!raw) return undefined;
  const url = new URL(raw);
  if (url.hostname === 'localhost') url.hostname = '127.0.0.1';
  if (url.hostname !== '127.0.0.1')
    throw new Error(`KEYCLOAK_URL must point at 127.0.0.1 (the benchmark sends traffic only there): ${raw}`);
  return url.toString().replace(/\/+$/, '');
}

/** The admin calls per create + delete cycle under load, at the largest realm size. */
function underLoad(resources: ResourceRun[]): string {
  const largest = Math.max(...resources.map((r) => r.realmSize));
  return resources
    .filter((r) => r.realmSize === largest && r.run.startsWith('create + delete') && r.serviceCalls)
    .map((r) => {
      const calls = r.serviceCalls as NonNullable<ResourceRun['serviceCalls']>;
      const per = (n: number) => (r.serviceOps > 0 ? (n / r.serviceOps).toFixed(2) : 'n/a');
      const detail = Object.entries(calls.byOperation)
        .sort((a, b) => b[1] - a[1])
        .map(([op, n]) => `${op} ${per(n)}`)
        .join(', ');
      return `- Under load, ${r.run} @ ${largest.toLocaleString('en-US')}: ${per(calls.total)} admin calls per cycle (${detail}).`;
    })
    .join('\n');
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

async function main(): Promise<number> {
  let options: BenchOptions | 'help';
  let reusedUrl: string | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
    reusedUrl = keycloakUrlFromEnv();
  } catch (error) {
    log(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(usage);
    return 0;
  }

  const wallStart = Date.now();
  const abort = new AbortController();
  const signal = abort.signal;
  const watchdog = setTimeout(
    () => abort.abort(new Error(`stopped after --max-minutes ${options.maxMinutes}`)),
    options.maxMinutes * 60_000,
  );
  watchdog.unref();
  const onSignal = (name: string) => () => abort.abort(new Error(`interrupted by ${name}`));
  process.once('SIGINT', onSignal('SIGINT'));
  process.once('SIGTERM', onSignal('SIGTERM'));

  const runTag = Date.now().toString(36);
  const workDir = mkdtempSync(join(tmpdir(), 'api-clients-bench-'));
  let keycloak: RunningKeycloak | undefined;
  let service: RunningService | undefined;
  let anchor: RunningAnchor | undefined;
  let anchorSampler: Sampler | undefined;
  let seeder: Seeder | undefined;
  // last resort when the process ends without the finally below: Keycloak has its own process group
  const stopKeycloakOnExit = () => {
    if (!keycloak) return;
    try {
      process.kill(-keycloak.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  process.once('exit', stopKeycloakOnExit);

  const machine = {
    nproc: availableParallelism(),
    memoryMB: Math.round(totalmem() / 1024 / 1024),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadAverageStart: loadavg().map((l) => round(l, 2)),
  };
  const keycloakVersion = options.keycloakVersion ?? (reusedUrl ? 'unknown' : pinnedKeycloakVersion());
  const runs: PairedRun[] = [];
  const seeding: SeedRecord[] = [];
  const resources: ResourceRun[] = [];
  let calls: CallCountRow[] = [];
  let activity: ActivityRun | undefined;
  let createLatency: CreateLatencyRun | undefined;
  let summary: ServiceSummary = { mode: options.inProcess ? 'in-process' : 'compiled build' };
  let serviceSampler: Sampler | undefined;
  let keycloakSampler: Sampler | undefined;
  let failure: unknown;

  try {
    // 1. Keycloak: the one given by KEYCLOAK_URL, or a local distribution of the chosen version
    let keycloakUrl: string;
    if (reusedUrl) {
      log(`[bench] using KEYCLOAK_URL=${reusedUrl}`);
      await waitForRealm(reusedUrl);
      keycloakUrl = reusedUrl;
      // its JVM's CPU too, when this machine's `ss` names the process listening on its port
      const jvm = listeningPid(new URL(reusedUrl).port);
      if (jvm) keycloakSampler = new Sampler(jvm).start();
    } else {
      keycloak = await startLocalKeycloak({ version: keycloakVersion });
      keycloakUrl = keycloak.url;
      const jvm = childPid(keycloak.pid);
      if (jvm) keycloakSampler = new Sampler(jvm).start();
    }
    signal.throwIfAborted();
    const serviceTokens = serviceAccountTokens(keycloakUrl, signal);
    const userTokens = platformAdminTokens(keycloakUrl, signal);
    const admin = new AdminApi(keycloakUrl, serviceTokens, signal);
    if (reusedUrl) {
      const purged = await purgeBenchAccounts(admin);
      if (purged > 0) log(`[bench] removed ${purged} clients left by an earlier run`);
    }

    // 2. the service: the compiled build, as the image runs it
    if (!options.inProcess) {
      log('[bench] npm run build (the service runs as node dist/main.js)');
      buildService(projectRoot);
    }
    service = await startService({
      cpuProfileDir: options.cpuProfile,
      keycloakUrl,
      logLevel: options.logLevel,
      logFile: join(workDir, 'service.log'),
      inProcess: options.inProcess,
      projectRoot,
    });
    log(`[bench] service (${service.mode}, pid ${service.pid}) at ${service.url}; log ${service.logFile}`);
    serviceSampler = new Sampler(service.pid).start();
    await waitForService(service.url, signal);
    const idle = serviceSampler.now();
    // the thin proxy: the least a Node service must do for a get or a list (bench/anchor.ts)
    if (options.anchor) {
      anchor = await startAnchor({ keycloakUrl, projectRoot, logFile: join(workDir, 'anchor.log') });
      anchorSampler = new Sampler(anchor.pid).start();
      log(`[bench] thin proxy (pid ${anchor.pid}) at ${anchor.url}`);
    }

    const ctx: Context = {
      options,
      signal,
      control: new LoadControl(signal),
      service,
      admin,
      serviceTokens,
      userTokens,
      serviceSampler,
      keycloakSampler,
      anchor: anchor && anchorSampler ? { url: anchor.url, sampler: anchorSampler } : undefined,
      resources,
      runTag,
      log,
    };

    // 3. the probe account (5 clients through the service), the create + delete account's limit
    await createProbe(ctx);
    await expectStatus(
      asUser(ctx, 'PUT', `/v1/accounts/${CREATE_DELETE}/limits`, { maxApiClients: CREATE_DELETE_LIMIT }),
      200,
      `limit of ${CREATE_DELETE}`,
    );
    const scopeLists = await admin.createScopeLists(CREATE_FIELDS.scopes);
    const afterProbe = serviceSampler.now();

    // 4. grow the realm size by size and measure at each
    const growing = new Seeder(
      admin,
      { runTag, clientsPerAccount: options.clientsPerAccount, concurrency: options.seedConcurrency },
      signal,
    );
    seeder = growing;
    if (reusedUrl) log('[bench] counting the realm’s clients (on a large realm this takes a while)');
    let realmClients = await admin.countClients();
    log(`[bench] the realm holds ${realmClients} clients`);
    /** Seeds the realm up to `size` clients (it only grows). */
    const growTo = async (size: number) => {
      if (realmClients < size) {
        log(`[seed] adding ${size - realmClients} clients (${options.seedConcurrency} at a time)`);
        const window = keycloakSampler?.begin();
        const batch = await growing.grow(size - realmClients, log);
        const kc = window?.end();
        realmClients = size;
        const record: SeedRecord = {
          ...batch,
          realmSize: size,
          keycloakCpuMsPerClient: kc ? round((kc.cpuSeconds * 1000) / batch.created) : undefined,
        };
        seeding.push(record);
        log(
          `[seed] ${batch.created} clients in ${batch.seconds.toFixed(1)} s = ${batch.perSecond.toFixed(0)}/s; realm: ${realmClients}`,
        );
      } else if (realmClients > size) {
        log(
          `[bench] the realm already holds ${realmClients} > ${size} clients: measuring at ${realmClients}`,
        );
      }
    };
    for (const size of options.sizes) {
      await growTo(size);
      const reads = readScenarios(ctx, realmClients);
      runs.push(await reads.get());
      runs.push(await reads.list());
      if (options.readsOnly) continue;
      runs.push(...(await createDelete(ctx, realmClients, options.connections, scopeLists)));
      if (options.connections > 1) runs.push(...(await createDelete(ctx, realmClients, 1, scopeLists)));
    }

    // 5. create at scale: creates in a row on one fresh account, each beside its Keycloak calls
    const latencyAt = options.createLatencyAt ?? Math.max(...options.sizes);
    if (latencyAt > 0 && !options.readsOnly) {
      await growTo(latencyAt);
      createLatency = await measureCreateLatency(ctx, realmClients, options.createLatencyCount);
    }

    // 6. Keycloak admin calls per service operation
    if (!options.readsOnly) calls = await callCounts(ctx);
    if (options.usageEvents > 0 && !options.readsOnly) {
      log(`[bench] usage and history: ${options.usageEvents} token requests for one client, then their cost`);
      activity = await measureActivity(ctx, keycloakUrl, options.usageEvents);
    }

    const end = serviceSampler.now();
    const hwm = options.inProcess ? undefined : lifetimePeakRss(service.pid);
    summary = {
      mode: service.mode,
      rssIdleMB: idle ? toMB(idle.rssBytes) : undefined,
      rssAfterProbeMB: afterProbe ? toMB(afterProbe.rssBytes) : undefined,
      rssEndMB: end ? toMB(end.rssBytes) : undefined,
      rssPeakMB: toMB(Math.max(hwm ?? 0, serviceSampler.overallPeakRss)),
      cpuSecondsTotal: end ? round(end.cpuSeconds) : undefined,
    };
  } catch (error) {
    failure = signal.aborted ? (signal.reason ?? error) : error;
  } finally {
    clearTimeout(watchdog);
    serviceSampler?.stop();
    keycloakSampler?.stop();
    anchorSampler?.stop();
    await anchor
      ?.stop()
      .catch((error) => log(`[bench] stopping the thin proxy: ${(error as Error).message}`));
    if (reusedUrl) {
      // leave a reused Keycloak as it was: the benchmark's own accounts, its limit, the seeds
      const cleanupSignal = AbortSignal.timeout(15 * 60_000);
      try {
        const admin = new AdminApi(reusedUrl, serviceAccountTokens(reusedUrl, cleanupSignal), cleanupSignal);
        await purgeBenchAccounts(admin);
        if (service) {
          const user = platformAdminTokens(reusedUrl, cleanupSignal);
          await http(
            'PUT',
            `${service.url}/v1/accounts/${CREATE_DELETE}/limits`,
            { authorization: `Bearer ${await user.get()}` },
            { maxApiClients: null },
            cleanupSignal,
          ).catch(() => undefined);
        }
        if (seeder && seeder.ids.length > 0 && !options.keepSeed) {
          log(`[bench] removing ${seeder.ids.length} seeded clients from ${reusedUrl}`);
          const left = await seeder.removeAll(admin, 10 * 60_000);
          if (left > 0) log(`[bench] ${left} seeded clients are left (accounts bs-${runTag}-*)`);
        }
      } catch (error) {
        log(`[bench] clean-up of ${reusedUrl} incomplete: ${(error as Error).message}`);
      }
    }
    await service?.stop().catch((error) => log(`[bench] stopping the service: ${(error as Error).message}`));
    await keycloak?.stop().catch((error) => log(`[bench] stopping Keycloak: ${(error as Error).message}`));
    process.removeListener('exit', stopKeycloakOnExit);
  }

  const minutes = (Date.now() - wallStart) / 60_000;
  if (failure) {
    log(`\n[bench] FAILED after ${minutes.toFixed(1)} min: ${(failure as Error).stack ?? failure}`);
    log(`[bench] the service's log is kept in ${workDir}`);
    return 1;
  }
  rmSync(workDir, { recursive: true, force: true });

  const targets = evaluateTargets(
    runs,
    calls,
    resources,
    summary.rssPeakMB,
    options.inProcess,
    createLatency,
  );
  const loadAverageEnd = loadavg().map((l) => round(l, 2));
  const seedText = seeding
    .map(
      (s) =>
        `${s.created.toLocaleString('en-US')} clients in ${s.seconds.toFixed(1)} s = ${s.perSecond.toFixed(0)}/s` +
        (s.keycloakCpuMsPerClient === undefined ? '' : ` (${s.keycloakCpuMsPerClient} ms Keycloak CPU each)`),
    )
    .join('; ');
  const report = [
    `## API Clients service next to Keycloak ${keycloakVersion} (realm \`${realm}\`)`,
    '',
    `Machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memoryMB} MB, Node ${machine.node}; load average ${machine.loadAverageStart.join(' ')} at start, ${loadAverageEnd.join(' ')} at end.`,
    `Runs: ${options.duration} s per side in ${options.slices} alternating slices after ${options.warmup} s warm-up, ${options.connections} connections; service ${summary.mode === 'in-process' ? 'in-process (TypeScript through tsx)' : 'the compiled build in a child process (`dist/main.js` with the Node flags of `npm start`, NODE_ENV=production, as the image runs it)'}, log level ${options.logLevel}; ${minutes.toFixed(1)} min in all.`,
    `Seeding (POST /clients, ${options.seedConcurrency} in flight): ${seedText || 'none'}.`,
    '',
    measurementsTable(runs),
    '',
    ...(anchor
      ? [
          '### The service next to the thin proxy (bench/anchor.ts: JWT check, one Keycloak call, JSON answer)',
          '',
          anchorTable(runs, resources),
          '',
        ]
      : []),
    '### Keycloak admin calls per service operation (warm service, keycloak_requests_total deltas)',
    '',
    callCountTable(calls),
    '',
    underLoad(resources),
    '',
    ...(createLatency
      ? [
          `### Create at scale (${createLatency.samples.length} creates in a row on one fresh account, realm of ${createLatency.realmSize.toLocaleString('en-US')} clients; Keycloak calls as the service's keycloak_request_duration_seconds recorded them)`,
          '',
          createLatencyTable(createLatency),
          '',
        ]
      : []),
    ...(activity
      ? [
          '### Usage and history (one client, cold = a range the replica had not read)',
          '',
          activityTable(activity),
          '',
        ]
      : []),
    `### Service RSS and CPU (/proc of the service's ${summary.mode === 'in-process' ? 'and the load generator’s process' : 'process'}; CPU % of one core)`,
    '',
    `RSS: ${summary.rssIdleMB} MB idle after start, ${summary.rssAfterProbeMB} MB after the probe, peak ${summary.rssPeakMB} MB, ${summary.rssEndMB} MB at the end; ${summary.cpuSecondsTotal} CPU s in all.`,
    '',
    resourceTable(resources),
    '',
    '### Targets',
    '',
    targetList(targets),
    '',
  ].join('\n');
  process.stdout.write(`\n${report}`);

  const resultsDir = join(projectRoot, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date(wallStart)
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  const file = join(resultsDir, `${stamp}_keycloak-${keycloakVersion}.json`);
  const raw = {
    date: new Date(wallStart).toISOString(),
    keycloakVersion,
    keycloak: reusedUrl ? 'KEYCLOAK_URL' : 'local distribution',
    options,
    machine: { ...machine, loadAverageEnd },
    minutes: round(minutes),
    seeding,
    runs,
    callCounts: calls,
    activity,
    createLatency,
    service: summary,
    resources,
    targets,
  };
  writeFileSync(file, `${JSON.stringify(raw, null, 2)}\n`);
  process.stdout.write(`\nRaw figures: ${file}\n`);
  return 0;
}

process.exitCode = await main();
