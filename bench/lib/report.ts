// The printed report: one markdown table of the measurements, the call counts, RSS/CPU, targets.
import type { CallCount } from './calls.js';
import { CREATE_LATENCY_TARGET, type CreateLatencyRun } from './create-latency.js';
import type { Stats } from './load.js';
import type { WindowStats } from './proc.js';

export interface PairedRun {
  operation: string;
  realmSize: number;
  service: Stats;
  direct: Stats;
  /** the same request through the thin proxy (bench/anchor.ts), when it ran */
  anchor?: Stats;
  /** what "direct" is, in Keycloak admin API terms */
  directCalls: string;
}

export interface ResourceRun {
  run: string;
  realmSize: number;
  service?: WindowStats;
  keycloak?: WindowStats;
  keycloakDuringDirect?: WindowStats;
  /** requests (or create + delete cycles) answered in the service's and in the direct slices */
  serviceOps: number;
  directOps: number;
  /** Keycloak admin calls the service made in its slices */
  serviceCalls?: CallCount;
  /** the thin proxy's process in its slices, Keycloak's meanwhile, and the requests it answered */
  anchor?: WindowStats;
  keycloakDuringAnchor?: WindowStats;
  anchorOps?: number;
}

export interface CallCountRow {
  operation: string;
  count: CallCount;
  target: number;
  targetText: string;
}

export interface Target {
  name: string;
  value: string;
  ok: boolean | undefined;
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? a / b : Number.NaN);
const warn = (stats: Stats) => (stats.failures > 0 ? ` ⚠ ${stats.failures} failed` : '');

export function p50Ratio(run: PairedRun): number {
  return ratio(run.service.p50, run.direct.p50);
}
export function throughputRatio(run: PairedRun): number {
  return ratio(run.service.perSecond, run.direct.perSecond);
}

export function measurementsTable(runs: PairedRun[]): string {
  const lines = [
    '| operation | realm size | p50 ms | p99 ms | req/s | ratio service/direct |',
    '|---|---:|---:|---:|---:|---|',
  ];
  for (const run of runs) {
    const size = run.realmSize.toLocaleString('en-US');
    lines.push(
      `| ${run.operation} — service | ${size} | ${fmt(run.service.p50, 2)} | ${fmt(run.service.p99, 2)} | ${fmt(run.service.perSecond)}${warn(run.service)} | p50 ${fmt(p50Ratio(run), 2)}× · req/s ${fmt(throughputRatio(run), 2)}× |`,
      `| ${run.operation} — Keycloak direct (${run.directCalls}) | ${size} | ${fmt(run.direct.p50, 2)} | ${fmt(run.direct.p99, 2)} | ${fmt(run.direct.perSecond)}${warn(run.direct)} | |`,
    );
    if (run.anchor)
      lines.push(
        `| ${run.operation} — thin proxy (bench/anchor.ts) | ${size} | ${fmt(run.anchor.p50, 2)} | ${fmt(run.anchor.p99, 2)} | ${fmt(run.anchor.perSecond)}${warn(run.anchor)} | service/proxy: p50 ${fmt(ratio(run.service.p50, run.anchor.p50), 2)}× · req/s ${fmt(ratio(run.service.perSecond, run.anchor.perSecond), 2)}× |`,
      );
  }
  return lines.join('\n');
}

export function callCountTable(rows: CallCountRow[]): string {
  const lines = [
    '| service operation | Keycloak admin calls | target | | calls made |',
    '|---|---:|---|---|---|',
  ];
  for (const row of rows) {
    const detail = Object.entries(row.count.byOperation)
      .map(([op, n]) => `${op} ×${n}`)
      .join(', ');
    lines.push(
      `| ${row.operation} | ${row.count.total} | ${row.targetText} | ${row.count.total <= row.target ? '✓' : '✗'} | ${detail} |`,
    );
  }
  return lines.join('\n');
}

/** CPU time of a process per operation, in ms. */
export function cpuMsPerOp(window: WindowStats | undefined, ops: number): number {
  return window && ops > 0 ? (window.cpuSeconds * 1000) / ops : Number.NaN;
}

export function resourceTable(runs: ResourceRun[]): string {
  const lines = [
    '| service run | realm size | service CPU % | service CPU ms/op | service RSS start → peak MB | Keycloak CPU % service / direct | Keycloak CPU ms/op service / direct | admin calls/op by the service |',
    '|---|---:|---:|---:|---|---|---|---:|',
  ];
  for (const run of runs) {
    const s = run.service;
    const kc = `${run.keycloak ? fmt(run.keycloak.cpuPercent, 0) : 'n/a'} / ${run.keycloakDuringDirect ? fmt(run.keycloakDuringDirect.cpuPercent, 0) : 'n/a'}`;
    const perOp = `${fmt(cpuMsPerOp(run.keycloak, run.serviceOps), 1)} / ${fmt(cpuMsPerOp(run.keycloakDuringDirect, run.directOps), 1)}`;
    const calls =
      run.serviceCalls && run.serviceOps > 0 ? fmt(run.serviceCalls.total / run.serviceOps, 2) : 'n/a';
    lines.push(
      `| ${run.run} | ${run.realmSize.toLocaleString('en-US')} | ${s ? fmt(s.cpuPercent) : 'n/a'} | ${fmt(cpuMsPerOp(s, run.serviceOps), 2)} | ${s ? `${fmt(s.rssStartMB)} → ${fmt(s.rssPeakMB)}` : 'n/a'} | ${kc} | ${perOp} | ${calls} |`,
    );
  }
  return lines.join('\n');
}

/** The service next to the thin proxy, per get and list run: req/s, CPU per request, RSS. */
export function anchorTable(runs: PairedRun[], resources: ResourceRun[]): string {
  const lines = [
    '| run | realm size | req/s service / proxy | ratio | CPU ms/req service / proxy | ratio | RSS peak MB service / proxy | Keycloak CPU ms/req service / proxy |',
    '|---|---:|---|---:|---|---:|---|---|',
  ];
  for (const run of runs) {
    const res = resources.find((r) => r.run === run.operation && r.realmSize === run.realmSize);
    if (!run.anchor || !res?.anchor) continue;
    const cpuService = cpuMsPerOp(res.service, res.serviceOps);
    const cpuAnchor = cpuMsPerOp(res.anchor, res.anchorOps ?? 0);
    lines.push(
      `| ${run.operation} | ${run.realmSize.toLocaleString('en-US')} | ${fmt(run.service.perSecond)} / ${fmt(run.anchor.perSecond)} | ${fmt(ratio(run.service.perSecond, run.anchor.perSecond), 2)}× | ${fmt(cpuService, 2)} / ${fmt(cpuAnchor, 2)} | ${fmt(ratio(cpuService, cpuAnchor), 2)}× | ${fmt(res.service?.rssPeakMB ?? Number.NaN)} / ${fmt(res.anchor.rssPeakMB)} | ${fmt(cpuMsPerOp(res.keycloak, res.serviceOps), 2)} / ${fmt(cpuMsPerOp(res.keycloakDuringAnchor, res.anchorOps ?? 0), 2)} |`,
    );
  }
  return lines.length > 2 ? lines.join('\n') : '';
}

export function targetList(targets: Target[]): string {
  return targets
    .map((t) => `- ${t.ok === undefined ? '–' : t.ok ? '✓' : '✗'} ${t.name}: ${t.value}`)
    .join('\n');
}

/** Where the run stands against the targets of issue 16 (bench/README.md). */
export function evaluateTargets(
  runs: PairedRun[],
  calls: CallCountRow[],
  resources: ResourceRun[],
  peakRssMB: number | undefined,
  inProcess: boolean,
  createLatency?: CreateLatencyRun,
): Target[] {
  const list: Target[] = [];
  const size = (n: number) => n.toLocaleString('en-US');
  for (const run of runs.filter((r) => r.operation.startsWith('get one') || r.operation.startsWith('list'))) {
    const r = throughputRatio(run);
    list.push({
      name: `${run.operation} req/s ≥ 1.0× direct @ ${size(run.realmSize)}`,
      value: `${fmt(r, 2)}× (${run.service.perSecond} vs ${run.direct.perSecond} req/s; p50 ${run.service.p50} vs ${run.direct.p50} ms)`,
      ok: r >= 1.0,
    });
  }
  // issue 26: the service next to the thin proxy, the least a Node service must do
  for (const run of runs.filter((r) => r.anchor)) {
    const res = resources.find((r) => r.run === run.operation && r.realmSize === run.realmSize);
    const anchor = run.anchor as Stats;
    const r = ratio(run.service.perSecond, anchor.perSecond);
    list.push({
      name: `${run.operation} req/s ≥ 0.9× the thin proxy @ ${size(run.realmSize)}`,
      value: `${fmt(r, 2)}× (${run.service.perSecond} vs ${anchor.perSecond} req/s)`,
      ok: Number.isFinite(r) ? r >= 0.9 : undefined,
    });
    const cpuService = cpuMsPerOp(res?.service, res?.serviceOps ?? 0);
    const cpuAnchor = cpuMsPerOp(res?.anchor, res?.anchorOps ?? 0);
    const c = ratio(cpuService, cpuAnchor);
    list.push({
      name: `${run.operation}: service CPU per request ≤ 1.3× the thin proxy's @ ${size(run.realmSize)}`,
      value: `${fmt(c, 2)}× (${fmt(cpuService, 2)} vs ${fmt(cpuAnchor, 2)} ms)`,
      ok: Number.isFinite(c) ? c <= 1.3 : undefined,
    });
  }
  for (const run of resources.filter((r) => r.run.startsWith('get one'))) {
    const service = cpuMsPerOp(run.service, run.serviceOps);
    list.push({
      name: `service CPU ≤ 0.5 ms per get @ ${size(run.realmSize)}`,
      value: `${fmt(service, 2)} ms`,
      ok: Number.isFinite(service) ? service <= 0.5 : undefined,
    });
    const kcService = cpuMsPerOp(run.keycloak, run.serviceOps);
    const kcDirect = cpuMsPerOp(run.keycloakDuringDirect, run.directOps);
    list.push({
      name: `Keycloak CPU per service get ≤ per direct ?clientId= get @ ${size(run.realmSize)}`,
      value: `${fmt(kcService, 2)} vs ${fmt(kcDirect, 2)} ms`,
      ok: Number.isFinite(kcService) && Number.isFinite(kcDirect) ? kcService <= kcDirect : undefined,
    });
  }
  const largest = Math.max(...resources.map((r) => r.realmSize));
  for (const run of resources.filter((r) => r.run.startsWith('create + delete') && r.realmSize === largest)) {
    const kcService = cpuMsPerOp(run.keycloak, run.serviceOps);
    const kcDirect = cpuMsPerOp(run.keycloakDuringDirect, run.directOps);
    const r = kcService / kcDirect;
    // one account's creates queue on its lock: contention may cost more than a single writer
    const bound = run.run.includes('connections, one account') ? 2.5 : 1.5;
    list.push({
      name: `Keycloak CPU per ${run.run} cycle ≤ ${bound}× direct @ ${size(run.realmSize)}`,
      value: `${fmt(r, 2)}× (${fmt(kcService, 1)} vs ${fmt(kcDirect, 1)} ms per create + delete)`,
      ok: Number.isFinite(r) ? r <= bound : undefined,
    });
  }
  if (createLatency) {
    const r = createLatency.p50Ratio;
    list.push({
      name: `create latency ≤ ${CREATE_LATENCY_TARGET}× the sum of its Keycloak calls (p50 of ${createLatency.samples.length} in a row) @ ${size(createLatency.realmSize)}`,
      value: `${fmt(r, 2)}× (p50 ${fmt(createLatency.p50LatencyMs, 0)} ms vs ${fmt(createLatency.p50KeycloakMs, 0)} ms of Keycloak calls)`,
      ok: Number.isFinite(r) ? r <= CREATE_LATENCY_TARGET : undefined,
    });
  }
  list.push({
    name: 'service RSS ≤ 120 MB (peak, VmHWM)',
    value:
      peakRssMB === undefined
        ? 'n/a'
        : `${peakRssMB} MB${inProcess ? ' (in-process: includes the load generator)' : ''}`,
    ok: peakRssMB === undefined ? undefined : peakRssMB <= 120,
  });
  for (const row of calls) {
    list.push({
      name: `Keycloak admin calls per ${row.operation} ${row.targetText}`,
      value: String(row.count.total),
      ok: row.count.total <= row.target,
    });
  }
  return list;
}
