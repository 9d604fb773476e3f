// The closing line of a CI run: every JUnit report the run wrote (vitest's for each suite,
// schemathesis' for the fuzz run) added up into one `total: N passed, N failed, N skipped` line,
// so a reader of the log (or a tool reading its last lines) sees what ran without scrolling
// through four test runners' own summaries.
//
// Usage: tsx scripts/ci-summary.ts <folder of *.xml reports>
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Counts {
  tests: number;
  failed: number;
  skipped: number;
}

function attribute(tag: string, name: string): number {
  const value = new RegExp(`\\s${name}="(\\d+)"`).exec(tag)?.[1];
  return value === undefined ? 0 : Number(value);
}

// JUnit's aggregate attributes: <testsuites tests failures errors> at the root, skipped per <testsuite>
// (vitest writes it only there; schemathesis writes it on both, so only the suites are added).
function countJUnit(xml: string): Counts {
  const suites = xml.match(/<testsuite\s[^>]*>/g) ?? [];
  const sum = (name: string) => suites.reduce((total, tag) => total + attribute(tag, name), 0);
  return { tests: sum('tests'), failed: sum('failures') + sum('errors'), skipped: sum('skipped') };
}

function main(folder: string): void {
  const total: Counts = { tests: 0, failed: 0, skipped: 0 };
  const reports = readdirSync(folder)
    .filter((name) => name.endsWith('.xml'))
    .sort();
  for (const name of reports) {
    const counts = countJUnit(readFileSync(join(folder, name), 'utf8'));
    console.log(
      `${name.replace(/\.xml$/, '')}: ${counts.tests - counts.failed - counts.skipped} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
    );
    total.tests += counts.tests;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
  }
  if (reports.length === 0) {
    console.error(`ci-summary: no JUnit report in ${folder}`);
    process.exit(1);
  }
  console.log(
    `total: ${total.tests - total.failed - total.skipped} passed, ${total.failed} failed, ${total.skipped} skipped`,
  );
  if (total.failed > 0 || total.tests === 0) process.exit(1);
}

main(process.argv[2] ?? '.cache/ci-reports');
