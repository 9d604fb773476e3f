// Readiness at a bounded cost (SPEC §5: /readyz costs Keycloak at most one call a second however
// often it is asked): callers share the check in flight, and a result, ready or not, answers every
// call for `maxAgeMs` after it came. So a check starts at least `maxAgeMs` after the previous one
// started, and no answer is older than `maxAgeMs` plus one check.

export interface ReadinessOptions {
  /** How long a result answers (default 1000 ms). */
  maxAgeMs?: number;
  /** A monotonic clock in ms; tests may replace it. */
  clock?: () => number;
}

export function createReadiness(check: () => Promise<void>, options: ReadinessOptions = {}) {
  const maxAgeMs = options.maxAgeMs ?? 1000;
  const clock = options.clock ?? (() => performance.now());
  let inFlight: Promise<void> | undefined;
  let last: { at: number; error?: unknown } | undefined;

  return async function ready(): Promise<void> {
    if (last && clock() - last.at < maxAgeMs) {
      if ('error' in last) throw last.error;
      return;
    }
    inFlight ??= check()
      .then(
        () => {
          last = { at: clock() };
        },
        (error: unknown) => {
          last = { at: clock(), error };
        },
      )
      .finally(() => {
        inFlight = undefined;
      });
    await inFlight;
    if (last && 'error' in last) throw last.error;
  };
}
