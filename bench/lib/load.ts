// Load generation: autocannon for the read paths, a bounded loop of create + delete for the write
// paths. Latencies are kept per response at full resolution (autocannon's own histogram rounds to
// whole milliseconds, too coarse for requests of a few milliseconds), so that slices of a run
// can be merged before percentiles are taken.
import autocannon, { type Instance } from 'autocannon';

/** What a run (or several slices of it) produced: successful latencies and the rest. */
export interface Raw {
  /** ms, one per answer with the expected status */
  latencies: number[];
  seconds: number;
  /** answers with another status, and connection errors/timeouts */
  failures: number;
  statuses: Record<string, number>;
}

export interface Stats {
  requests: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
  failures: number;
  statuses: Record<string, number>;
}

export const emptyRaw = (): Raw => ({ latencies: [], seconds: 0, failures: 0, statuses: {} });

export function mergeRaw(a: Raw, b: Raw): Raw {
  const statuses = { ...a.statuses };
  for (const [code, count] of Object.entries(b.statuses)) statuses[code] = (statuses[code] ?? 0) + count;
  return {
    latencies: a.latencies.concat(b.latencies),
    seconds: a.seconds + b.seconds,
    failures: a.failures + b.failures,
    statuses,
  };
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function summarise(raw: Raw): Stats {
  const { latencies, seconds } = raw;
  const sorted = Float64Array.from(latencies).sort();
  const sum = latencies.reduce((a, b) => a + b, 0);
  return {
    requests: latencies.length,
    seconds: round(seconds),
    perSecond: round(seconds > 0 ? latencies.length / seconds : 0, 1),
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    mean: round(latencies.length ? sum / latencies.length : Number.NaN),
    max: round(sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN),
    failures: raw.failures,
    statuses: raw.statuses,
  };
}

/** Lets an abort (time bound, Ctrl-C) stop the autocannon instance that is running. */
export class LoadControl {
  #current: Instance | undefined;
  constructor(readonly signal: AbortSignal) {
    signal.addEventListener('abort', () => this.#current?.stop(), { once: true });
  }
  track(instance: Instance | undefined): void {
    this.#current = instance;
  }
}

export interface CannonTarget {
  url: string;
  headers: Record<string, string>;
  /** requests per second over all connections (autocannon's overallRate); unset: as fast as answered */
  rate?: number;
}

/** GETs `url` over `connections` keep-alive connections for `seconds`; 200 is the expected answer. */
export async function cannon(
  control: LoadControl,
  target: CannonTarget,
  connections: number,
  seconds: number,
): Promise<Raw> {
  control.signal.throwIfAborted();
  const latencies: number[] = [];
  const instance = autocannon({
    url: target.url,
    connections,
    duration: seconds,
    timeout: 10,
    headers: target.headers,
    ...(target.rate ? { overallRate: target.rate } : {}),
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, responseTime: number) => {
    if (status === 200) latencies.push(responseTime);
  });
  control.track(instance);
  try {
    const result = await instance;
    control.signal.throwIfAborted();
    const statuses = Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count]),
    );
    const failures = result.errors + Math.max(0, result.requests.total - (statuses['200'] ?? 0));
    return { latencies, seconds: result.duration, failures, statuses };
  } finally {
    control.track(undefined);
  }
}

export type Timed<T> = { ok: true; value: T } | { ok: false };

/** Times one request of a cycle: `run` answers the status and the value to pass on. */
export type TimeStep = <T>(
  step: string,
  expect: number,
  run: () => Promise<{ status: number; value: T }>,
) => Promise<Timed<T>>;

export interface CycleRaw {
  cycles: number;
  seconds: number;
  /** latency of each named step, over the cycles that reached it */
  steps: Record<string, Raw>;
}

export interface CycleResult {
  cycles: number;
  seconds: number;
  steps: Record<string, Stats>;
}

export function mergeCycles(a: CycleRaw, b: CycleRaw): CycleRaw {
  const steps: Record<string, Raw> = { ...a.steps };
  for (const [name, raw] of Object.entries(b.steps)) steps[name] = mergeRaw(steps[name] ?? emptyRaw(), raw);
  return { cycles: a.cycles + b.cycles, seconds: a.seconds + b.seconds, steps };
}

export function summariseCycles(raw: CycleRaw): CycleResult {
  return {
    cycles: raw.cycles,
    seconds: round(raw.seconds),
    steps: Object.fromEntries(Object.entries(raw.steps).map(([name, r]) => [name, summarise(r)])),
  };
}

/**
 * `connections` workers each repeat `cycle()` (e.g. create then delete) until `seconds` have
 * passed or `maxCycles` cycles were started. A failed step ends its cycle (the cycle decides).
 */
export async function cycleLoop(
  control: LoadControl,
  connections: number,
  seconds: number,
  maxCycles: number,
  cycle: (time: TimeStep) => Promise<void>,
): Promise<CycleRaw> {
  control.signal.throwIfAborted();
  const steps = new Map<string, Raw>();
  const stepOf = (name: string) => {
    let raw = steps.get(name);
    if (!raw) {
      raw = emptyRaw();
      steps.set(name, raw);
    }
    return raw;
  };
  let started = 0;
  const begin = performance.now();
  const deadline = begin + seconds * 1000;

  const time: TimeStep = async (step, expect, run) => {
    const t0 = performance.now();
    let answer: Awaited<ReturnType<typeof run>> | undefined;
    try {
      answer = await run();
    } catch {
      answer = undefined;
    }
    const elapsed = performance.now() - t0;
    const raw = stepOf(step);
    const status = String(answer?.status ?? 0);
    raw.statuses[status] = (raw.statuses[status] ?? 0) + 1;
    if (!answer || answer.status !== expect) {
      raw.failures += 1;
      return { ok: false };
    }
    raw.latencies.push(elapsed);
    return { ok: true, value: answer.value };
  };

  const worker = async () => {
    while (performance.now() < deadline && started < maxCycles && !control.signal.aborted) {
      started += 1;
      await cycle(time);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  control.signal.throwIfAborted();
  const elapsed = (performance.now() - begin) / 1000;
  for (const raw of steps.values()) raw.seconds = elapsed;
  return { cycles: started, seconds: elapsed, steps: Object.fromEntries(steps) };
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** One request over the process's keep-alive connection pool (fetch). */
export async function http(
  method: string,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  signal: AbortSignal,
): Promise<HttpAnswer> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.any([signal, AbortSignal.timeout(30_000)]),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}
