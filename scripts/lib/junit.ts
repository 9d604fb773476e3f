// The counts of a JUnit XML report, as CI's closing line (scripts/ci-summary.ts) and the fuzz
// run's own line (scripts/fuzz.ts) read them.

export interface JUnitCounts {
  tests: number;
  failed: number;
  skipped: number;
}

function attribute(tag: string, name: string): number {
  const value = new RegExp(`\\s${name}="(\\d+)"`).exec(tag)?.[1];
  return value === undefined ? 0 : Number(value);
}

/**
 * JUnit's aggregate attributes: <testsuites tests failures errors> at the root, skipped per
 * <testsuite> (vitest writes it only there; schemathesis writes it on both, so only the suites are
 * added).
 */
export function countJUnit(xml: string): JUnitCounts {
  const suites = xml.match(/<testsuite\s[^>]*>/g) ?? [];
  const sum = (name: string) => suites.reduce((total, tag) => total + attribute(tag, name), 0);
  return { tests: sum('tests'), failed: sum('failures') + sum('errors'), skipped: sum('skipped') };
}

export const passedOf = (counts: JUnitCounts): number => counts.tests - counts.failed - counts.skipped;
