// The closing line of a CI run: every JUnit report the run wrote (vitest's for each suite,
// schemathesis' for the fuzz run) added up into one `total: N passed, N failed, N skipped` line,
// so a reader of the log (or a tool reading its last lines) sees what ran without scrolling
// through four test runners' own summaries.
//
// Usage: tsx scripts/ci-summary.ts <folder of *.xml reports>
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { countJUnit, type JUnitCounts, passedOf } from './lib/junit.js';

function main(folder: string): void {
  const total: JUnitCounts = { tests: 0, failed: 0, skipped: 0 };
  const reports = readdirSync(folder)
    .filter((name) => name.endsWith('.xml'))
    .sort();
  for (const name of reports) {
    const counts = countJUnit(readFileSync(join(folder, name), 'utf8'));
    console.log(
      `${name.replace(/\.xml$/, '')}: ${passedOf(counts)} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
    );
    total.tests += counts.tests;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
  }
  if (reports.length === 0) {
    console.error(`ci-summary: no JUnit report in ${folder}`);
    process.exit(1);
  }
  console.log(`total: ${passedOf(total)} passed, ${total.failed} failed, ${total.skipped} skipped`);
  if (total.failed > 0 || total.tests === 0) process.exit(1);
}

main(process.argv[2] ?? '.cache/ci-reports');
