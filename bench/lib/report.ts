// The printed report: one markdown table of the measurements, the call counts, RSS/CPU, targets.
import type { CallCount } from './calls.js';
import type { Stats } from './load.js';
import type { WindowStats } from './proc.js';

export interface PairedRun {
  operation: string;
  realmSize: number;
  service: Stats;
  direct: Stats;
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

export function targetList(targets: Target[]): string {
  return targets
    .map((t) => `- ${t.ok === undefined ? '–' : t.ok ? '✓' : '✗'} ${t.name}: ${t.value}`)
    .join('\n');
}

/** Where the run stands against the issue's targets. */
export function evaluateTargets(
  runs: PairedRun[],
  calls: CallCountRow[],
  peakRssMB: number | undefined,
  inProcess: boolean,
): Target[] {
  const list: Target[] = [];
  const byOp = (prefix: string) => runs.filter((r) => r.operation.startsWith(prefix));
  for (const run of byOp('get one client')) {
    const r = p50Ratio(run);
    list.push({
      name: `get p50 ≤ 1.15× direct @ ${run.realmSize.toLocaleString('en-US')}`,
      value: `${fmt(r, 2)}× (${run.service.p50} vs ${run.direct.p50} ms)`,
      ok: r <= 1.15,
    });
  }
  for (const run of runs) {
    const r = throughputRatio(run);
    list.push({
      name: `${run.operation} req/s ≥ 0.85× direct @ ${run.realmSize.toLocaleString('en-US')}`,
      value: `${fmt(r, 2)}× (${run.service.perSecond} vs ${run.direct.perSecond} req/s)`,
      ok: r >= 0.85,
    });
  }
  const lists = byOp('list account');
  const first = lists[0];
  const last = lists[lists.length - 1];
  if (first && last && last !== first) {
    const r = last.service.p50 / first.service.p50;
    list.push({
      name: `list p50 @ ${last.realmSize.toLocaleString('en-US')} ≤ 1.5× @ ${first.realmSize.toLocaleString('en-US')}`,
      value: `${fmt(r, 2)}× (${last.service.p50} vs ${first.service.p50} ms; Keycloak direct: ${fmt(last.direct.p50 / first.direct.p50, 2)}×)`,
      ok: r <= 1.5,
    });
    // p50 hides a slow tail: the mean follows throughput at a fixed number of connections
    const m = last.service.mean / first.service.mean;
    list.push({
      name: `list mean @ ${last.realmSize.toLocaleString('en-US')} ≤ 1.5× @ ${first.realmSize.toLocaleString('en-US')}`,
      value: `${fmt(m, 2)}× (${last.service.mean} vs ${first.service.mean} ms; p99 ${last.service.p99} vs ${first.service.p99} ms)`,
      ok: m <= 1.5,
    });
  }
  list.push({
    name: 'service RSS ≤ 150 MB (peak)',
    value:
      peakRssMB === undefined
        ? 'n/a'
        : `${peakRssMB} MB${inProcess ? ' (in-process: includes the load generator)' : ''}`,
    ok: peakRssMB === undefined ? undefined : peakRssMB <= 150,
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
