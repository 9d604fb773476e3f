// npx tsx bench/profile-summary.ts <file.cpuprofile> [top]: where a V8 CPU profile (node --cpu-prof)
// spends its time, by self time: per package (node_modules/<name>, the service's own dist/, Node's
// internals, the garbage collector) and per function, in % of the busy (non-idle) time.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topText] = process.argv.slice(2);
if (!file) throw new Error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]');
const top = Number(topText ?? 15);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));

/** Microseconds of self time per node id. */
const self = new Map<number, number>();
profile.samples.forEach((id, index) => {
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
});

function packageOf({ url, functionName }: ProfileNode['callFrame']): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native/V8)';
  if (url.startsWith('node:')) return 'node: (internals)';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match?.[1]) return match[1];
  if (url.includes('/dist/')) return 'the service (dist/)';
  return url;
}

const packages = new Map<string, number>();
const functions = new Map<string, number>();
let busy = 0;
let idle = 0;
for (const [id, micros] of self) {
  const frame = byId.get(id)?.callFrame;
  if (!frame) continue;
  if (frame.functionName === '(idle)') {
    idle += micros;
    continue;
  }
  busy += micros;
  const pkg = packageOf(frame);
  packages.set(pkg, (packages.get(pkg) ?? 0) + micros);
  const where = frame.url
    ? `${frame.url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/')}:${frame.lineNumber + 1}`
    : '';
  const name = `${frame.functionName || '(anonymous)'} ${where}`.trim();
  functions.set(name, (functions.get(name) ?? 0) + micros);
}

const pct = (micros: number) => `${((micros / busy) * 100).toFixed(1)} %`;
const table = (title: string, rows: Map<string, number>) =>
  [
    `| ${title} | self time | share of busy time |`,
    '|---|---:|---:|',
    ...[...rows.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => `| ${name} | ${(micros / 1000).toFixed(0)} ms | ${pct(micros)} |`),
  ].join('\n');

process.stdout.write(
  [
    `Busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s.`,
    '',
    table('package', packages),
    '',
    table('function', functions),
    '',
  ].join('\n'),
);
