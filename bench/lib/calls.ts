// Counts the Keycloak admin calls one service operation makes, from the service's own
// `keycloak_requests_total{operation,outcome}` counter (GET /metrics) before and after it.

export type Counts = Map<string, number>;

const LINE = /^keycloak_requests_total\{([^}]*)\}\s+([0-9.eE+-]+)$/;

export function parseKeycloakCalls(exposition: string): Counts {
  const counts: Counts = new Map();
  for (const line of exposition.split('\n')) {
    const match = LINE.exec(line.trim());
    if (!match?.[1] || !match[2]) continue;
    const labels = Object.fromEntries(
      [...match[1].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    const key = `${labels.operation ?? '?'}${labels.outcome && labels.outcome !== 'ok' ? ` (${labels.outcome})` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(match[2]));
  }
  return counts;
}

export async function scrapeKeycloakCalls(serviceUrl: string, signal: AbortSignal): Promise<Counts> {
  const response = await fetch(`${serviceUrl}/metrics`, {
    signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
  });
  if (!response.ok) throw new Error(`GET /metrics: ${response.status}`);
  return parseKeycloakCalls(await response.text());
}

export interface CallCount {
  total: number;
  /** operation (and outcome when not ok) → calls */
  byOperation: Record<string, number>;
}

export function delta(before: Counts, after: Counts): CallCount {
  const byOperation: Record<string, number> = {};
  let total = 0;
  for (const [key, value] of after) {
    const diff = value - (before.get(key) ?? 0);
    if (diff > 0) {
      byOperation[key] = diff;
      total += diff;
    }
  }
  return { total, byOperation };
}

/** Runs `operation` alone and answers the admin calls it made. */
export async function countCalls(
  serviceUrl: string,
  signal: AbortSignal,
  operation: () => Promise<void>,
): Promise<CallCount> {
  const before = await scrapeKeycloakCalls(serviceUrl, signal);
  await operation();
  const after = await scrapeKeycloakCalls(serviceUrl, signal);
  return delta(before, after);
}

/** Calls and their summed duration per operation (and outcome when not ok). */
export interface CallTimes {
  calls: number;
  ms: number;
  byOperation: Record<string, { calls: number; ms: number }>;
}

type TimeCounts = Map<string, { calls: number; ms: number }>;

const DURATION_LINE = /^keycloak_request_duration_seconds_(sum|count)\{([^}]*)\}\s+([0-9.eE+-]+)$/;

/** `keycloak_request_duration_seconds` (the service's histogram of its admin calls): count and sum per operation. */
export function parseKeycloakCallTimes(exposition: string): TimeCounts {
  const times: TimeCounts = new Map();
  for (const line of exposition.split('\n')) {
    const match = DURATION_LINE.exec(line.trim());
    if (!match?.[2] || !match[3]) continue;
    const labels = Object.fromEntries(
      [...match[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    const key = `${labels.operation ?? '?'}${labels.outcome && labels.outcome !== 'ok' ? ` (${labels.outcome})` : ''}`;
    const entry = times.get(key) ?? { calls: 0, ms: 0 };
    if (match[1] === 'sum') entry.ms += Number(match[3]) * 1000;
    else entry.calls += Number(match[3]);
    times.set(key, entry);
  }
  return times;
}

export async function scrapeKeycloakCallTimes(serviceUrl: string, signal: AbortSignal): Promise<TimeCounts> {
  const response = await fetch(`${serviceUrl}/metrics`, {
    signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
  });
  if (!response.ok) throw new Error(`GET /metrics: ${response.status}`);
  return parseKeycloakCallTimes(await response.text());
}

export function callTimesDelta(before: TimeCounts, after: TimeCounts): CallTimes {
  const byOperation: CallTimes['byOperation'] = {};
  let calls = 0;
  let ms = 0;
  for (const [key, value] of after) {
    const was = before.get(key) ?? { calls: 0, ms: 0 };
    const diff = { calls: value.calls - was.calls, ms: value.ms - was.ms };
    if (diff.calls > 0) {
      byOperation[key] = diff;
      calls += diff.calls;
      ms += diff.ms;
    }
  }
  return { calls, ms, byOperation };
}
