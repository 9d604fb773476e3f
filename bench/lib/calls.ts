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
