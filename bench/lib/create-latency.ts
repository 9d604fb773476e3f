// Create at scale: creates in a row on one fresh account, one at a time, each timed at the client
// and set beside the Keycloak calls the service made for it, with their durations as the service
// itself recorded them (`keycloak_request_duration_seconds` from its GET /metrics, before and
// after each create). What a create spends outside its Keycloak calls is the service's own.
import { type CallTimes, callTimesDelta, scrapeKeycloakCallTimes } from './calls.js';
import { percentile } from './load.js';
import { asUser, type Context, CREATE_FIELDS } from './scenarios.js';

/** The account of the create-latency run; a fresh one per run (its id carries the run's tag). */
export const CREATE_LATENCY = 'bench-cl';
/** Target: a create's latency at most this many times the sum of its Keycloak calls. */
export const CREATE_LATENCY_TARGET = 2;

export interface CreateLatencySample {
  clientId: string;
  latencyMs: number;
  /** the Keycloak calls the service recorded while this create ran */
  keycloak: CallTimes;
}

export interface CreateLatencyRun {
  realmSize: number;
  samples: CreateLatencySample[];
  p50LatencyMs: number;
  p50KeycloakMs: number;
  /** p50 of each create's latency / its Keycloak-call sum */
  p50Ratio: number;
  maxRatio: number;
  /** per operation: calls and ms, summed over the creates */
  byOperation: Record<string, { calls: number; ms: number }>;
}

export const createLatencyAccount = (runTag: string) => `${CREATE_LATENCY}-${runTag}`;

/**
 * `count` creates on one fresh account (its limit raised to fit them), one after the other; then
 * the clients are deleted again.
 */
export async function measureCreateLatency(
  ctx: Context,
  realmSize: number,
  count = 8,
): Promise<CreateLatencyRun> {
  const accountId = createLatencyAccount(ctx.runTag);
  const base = `/v1/accounts/${accountId}/api-clients`;
  const limit = await asUser(ctx, 'PUT', `/v1/accounts/${accountId}/limits`, { maxApiClients: count + 1 });
  if (limit.status !== 200) throw new Error(`limit of ${accountId}: ${limit.status} ${limit.text}`);
  const samples: CreateLatencySample[] = [];
  try {
    for (let n = 1; n <= count; n++) {
      const clientId = `${accountId}_${n}`;
      // the token first: its renewal is the bench's, not the create's
      await ctx.userTokens.get();
      const before = await scrapeKeycloakCallTimes(ctx.service.url, ctx.signal);
      const started = performance.now();
      const answer = await asUser(ctx, 'POST', base, { clientId, ...CREATE_FIELDS });
      const latencyMs = performance.now() - started;
      if (answer.status !== 201) throw new Error(`create ${clientId}: ${answer.status} ${answer.text}`);
      const after = await scrapeKeycloakCallTimes(ctx.service.url, ctx.signal);
      samples.push({ clientId, latencyMs, keycloak: callTimesDelta(before, after) });
      ctx.log(
        `[bench] create at ${realmSize}: ${clientId} ${latencyMs.toFixed(0)} ms, Keycloak calls ${samples.at(-1)?.keycloak.ms.toFixed(0)} ms`,
      );
    }
  } finally {
    for (const { clientId } of samples) {
      await asUser(ctx, 'DELETE', `${base}/${clientId}`).catch(() => undefined);
    }
    await asUser(ctx, 'PUT', `/v1/accounts/${accountId}/limits`, { maxApiClients: null }).catch(
      () => undefined,
    );
  }
  const sorted = (values: number[]) => Float64Array.from(values).sort();
  const ratios = samples.map((s) => (s.keycloak.ms > 0 ? s.latencyMs / s.keycloak.ms : Number.NaN));
  const byOperation: CreateLatencyRun['byOperation'] = {};
  for (const sample of samples) {
    for (const [op, { calls, ms }] of Object.entries(sample.keycloak.byOperation)) {
      const into = byOperation[op] ?? { calls: 0, ms: 0 };
      byOperation[op] = { calls: into.calls + calls, ms: into.ms + ms };
    }
  }
  return {
    realmSize,
    samples,
    p50LatencyMs: percentile(sorted(samples.map((s) => s.latencyMs)), 50),
    p50KeycloakMs: percentile(sorted(samples.map((s) => s.keycloak.ms)), 50),
    p50Ratio: percentile(sorted(ratios), 50),
    maxRatio: Math.max(...ratios),
    byOperation,
  };
}

const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

export function createLatencyTable(run: CreateLatencyRun): string {
  const lines = [
    '| create | latency ms | Keycloak calls | Keycloak-call sum ms | latency / sum |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const s of run.samples) {
    lines.push(
      `| ${s.clientId} | ${fmt(s.latencyMs)} | ${s.keycloak.calls} | ${fmt(s.keycloak.ms)} | ${fmt(s.latencyMs / s.keycloak.ms, 2)}× |`,
    );
  }
  const n = run.samples.length;
  const perCreate = Object.entries(run.byOperation)
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([op, { calls, ms }]) => `${op} ${fmt(calls / n, 1)}× ${fmt(ms / n)} ms`)
    .join(', ');
  lines.push(
    '',
    `p50: latency ${fmt(run.p50LatencyMs)} ms, Keycloak-call sum ${fmt(run.p50KeycloakMs)} ms, ratio ${fmt(run.p50Ratio, 2)}× (max ${fmt(run.maxRatio, 2)}×). Per create: ${perCreate}.`,
  );
  return lines.join('\n');
}
