// npm run chart:check [-- --junit FILE]: the Helm chart (deploy/helm/api-clients) rendered with
// `helm template` and every object validated with `kubeconform -strict` against the Kubernetes
// JSON schemas, offline and without a cluster: once with the default values (plus the two that
// have no default), once with ci/production-values.yaml. Also: `helm lint --strict`, the refusal
// of a render without the required values, and docs/helm.md naming every value of values.yaml.
// The tools come from scripts/chart-tools.sh (run first; it prints their folder). One JUnit test
// case per check with --junit, for CI's closing line.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { projectRoot } from './lib/keycloak-local.js';

/** The Kubernetes release validated against: the newest whose schemas kubernetes-validate ships. */
const KUBERNETES_VERSION = '1.37.0';
/** Kinds without a schema in the Kubernetes package (a CRD's): rendered, but not schema-checked. */
const CUSTOM_KINDS = ['ServiceMonitor'];

const chart = join(projectRoot, 'deploy', 'helm', 'api-clients');
const requiredValues = [
  'keycloak.url=http://keycloak.keycloak.svc:8080',
  'keycloak.existingSecret.name=api-clients-keycloak',
];

const { values: args } = parseArgs({ options: { junit: { type: 'string' } } });

const toolsDir = execFileSync(join(projectRoot, 'scripts', 'chart-tools.sh'), {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
}).trim();
const helm = join(toolsDir, 'bin', 'helm');
const kubeconform = join(toolsDir, 'bin', 'kubeconform');
const schemas = schemaFolder(join(toolsDir, 'schemas'));

interface Result {
  name: string;
  seconds: number;
  failure?: string;
}

/** The schemas as scripts/chart-tools.sh prepared them for kubeconform (from kubernetes-validate). */
function schemaFolder(root: string): string {
  for (const version of readdirSync(root)) {
    if (existsSync(join(root, version, `v${KUBERNETES_VERSION}-local-strict`))) return join(root, version);
  }
  throw new Error(`no Kubernetes ${KUBERNETES_VERSION} schemas under ${root}`);
}

function run(
  command: string,
  commandArgs: string[],
  input?: string,
): { status: number; output: string; stdout: string } {
  const result = spawnSync(command, commandArgs, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, output: `${result.stdout}${result.stderr}`, stdout: result.stdout };
}

function check(name: string, body: () => string | undefined): Result {
  const started = performance.now();
  let failure: string | undefined;
  try {
    failure = body();
  } catch (error) {
    failure = (error as Error).message;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`chart: ${failure ? 'FAILED' : 'ok    '} ${name} (${seconds.toFixed(1)} s)`);
  if (failure) console.log(failure.replace(/^/gm, '    '));
  return { name, seconds, ...(failure ? { failure } : {}) };
}

/** helm template of the chart for the pinned Kubernetes version, with these values. */
const helmTemplate = (helmArgs: string[]) =>
  run(helm, ['template', 'api-clients', chart, '--kube-version', KUBERNETES_VERSION, ...helmArgs]);

/** helm template, then kubeconform -strict over every object it rendered. */
function renderAndValidate(helmArgs: string[]): string | undefined {
  const rendered = helmTemplate(helmArgs);
  if (rendered.status !== 0) return `helm template failed:\n${rendered.output}`;
  const kinds = [...rendered.stdout.matchAll(/^kind: (\w+)$/gm)].map((match) => match[1]);
  const validated = run(
    kubeconform,
    [
      '-strict',
      '-summary',
      '-kubernetes-version',
      KUBERNETES_VERSION,
      '-schema-location',
      `${schemas}/{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json`,
      '-skip',
      CUSTOM_KINDS.join(','),
      '-',
    ],
    rendered.stdout,
  );
  console.log(`        ${kinds.join(', ')}: ${validated.output.trim().split('\n').at(-1)}`);
  if (validated.status !== 0) return `kubeconform -strict refused the rendered objects:\n${validated.output}`;
  return undefined;
}

/** Dotted paths of values.yaml's leaves (a list or an empty map is a leaf). */
function valuePaths(node: unknown, prefix = ''): string[] {
  if (node === null || typeof node !== 'object' || Array.isArray(node) || Object.keys(node).length === 0)
    return [prefix];
  return Object.entries(node as Record<string, unknown>).flatMap(([key, value]) =>
    valuePaths(value, prefix ? `${prefix}.${key}` : key),
  );
}

const setRequired = requiredValues.flatMap((value) => ['--set', value]);
const results: Result[] = [
  check('helm lint --strict', () => {
    const lint = run(helm, ['lint', '--strict', chart, ...setRequired]);
    return lint.status === 0 ? undefined : lint.output;
  }),
  check('default values: rendered and valid', () => renderAndValidate(setRequired)),
  check('ci/production-values.yaml: rendered and valid', () =>
    renderAndValidate(['-f', join(chart, 'ci', 'production-values.yaml')]),
  ),
  check('no render without the Keycloak Secret', () => {
    const rendered = helmTemplate(['--set', requiredValues[0] ?? '']);
    if (rendered.status === 0) return 'helm template succeeded without keycloak.existingSecret.name';
    return rendered.output.includes('keycloak.existingSecret.name') ? undefined : rendered.output;
  }),
  check('docs/helm.md names every value', () => {
    const documented = readFileSync(join(projectRoot, 'docs', 'helm.md'), 'utf8');
    const values = parse(readFileSync(join(chart, 'values.yaml'), 'utf8')) as unknown;
    // a value is named by its own path or by a parent's (`resources` covers resources.limits.memory)
    const named = (path: string) =>
      path
        .split('.')
        .some((_, end, parts) => documented.includes(`\`${parts.slice(0, end + 1).join('.')}\``));
    const missing = valuePaths(values).filter((path) => !named(path));
    return missing.length === 0 ? undefined : `not in docs/helm.md's table: ${missing.join(', ')}`;
  }),
];

if (args.junit) {
  const xmlEscape = (text: string) =>
    text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c);
  const failures = results.filter((result) => result.failure).length;
  const seconds = results.reduce((total, result) => total + result.seconds, 0).toFixed(3);
  const cases = results
    .map(
      (result) =>
        `    <testcase classname="chart" name="${xmlEscape(result.name)}" time="${result.seconds.toFixed(3)}">` +
        (result.failure
          ? `\n      <failure message="${xmlEscape(result.name)}">${xmlEscape(result.failure)}</failure>\n    `
          : '') +
        '</testcase>',
    )
    .join('\n');
  mkdirSync(dirname(args.junit), { recursive: true });
  writeFileSync(
    args.junit,
    `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="chart" tests="${results.length}" failures="${failures}" errors="0" time="${seconds}">\n` +
      `  <testsuite name="chart" tests="${results.length}" failures="${failures}" errors="0" skipped="0" time="${seconds}">\n${cases}\n  </testsuite>\n</testsuites>\n`,
  );
}

const failed = results.filter((result) => result.failure);
console.log(
  failed.length === 0
    ? `chart check: all ${results.length} checks hold`
    : `chart check: ${failed.length} of ${results.length} checks FAILED`,
);
process.exit(failed.length === 0 ? 0 : 1);
