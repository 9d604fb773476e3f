import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Realm sizes (clients in the realm), ascending; the realm grows from one to the next. */
  sizes: number[];
  /** Seconds of each measured run. */
  duration: number;
  /** Seconds of the unrecorded warm-up before each measured run. */
  warmup: number;
  /** Each measured run is cut in this many slices, service and direct alternating (ABBA). */
  slices: number;
  connections: number;
  /** Keycloak release to start (26.x); undefined = the pinned one from keycloak/version. */
  keycloakVersion?: string;
  clientsPerAccount: number;
  seedConcurrency: number;
  logLevel: string;
  /** Run the service inside the bench process instead of a child process. */
  inProcess: boolean;
  /** On a Keycloak given by KEYCLOAK_URL, leave the seeded clients in place. */
  keepSeed: boolean;
  /** Hard bound of the whole run; past it everything is stopped. */
  maxMinutes: number;
  /** Folder for a V8 CPU profile of the service (node --cpu-prof), written when it stops. */
  cpuProfile?: string;
  /** Token requests for one client before usage is measured (0 skips it). */
  usageEvents: number;
  /** Measure gets and lists also through the thin proxy (bench/anchor.ts). */
  anchor: boolean;
  /** Only gets and lists: no create + delete runs, call counts or usage. */
  readsOnly: boolean;
  /**
   * Realm size of the create-latency run (creates in a row on one fresh account, each beside its
   * Keycloak calls): undefined = the largest of `sizes`; 0 skips it; larger than every size grows
   * the realm to it after the other measurements.
   */
  createLatencyAt?: number;
  /** Creates in the create-latency run. */
  createLatencyCount: number;
}

export const usage = `npm run bench -- [options]

Benchmarks the API Clients service next to the Keycloak admin API it calls. Starts a local
Keycloak (or uses KEYCLOAK_URL) and the service, seeds the realm, measures, prints a markdown
report and writes the raw figures to bench/results/.

  --sizes 100,5000,20000     realm sizes (clients in the realm), grown one after the other
  --duration 10              seconds of each measured run
  --warmup 3                 seconds of unrecorded warm-up (each side) before each measured run
  --slices 2                 cut each run in slices, direct and service alternating (D S S D ...)
  --connections 10           concurrent connections of each run
  --keycloak-version X       another Keycloak 26.x release (downloaded through Maven)
  --clients-per-account 5    seeded clients per seeded account
  --seed-concurrency 8       parallel admin API calls while seeding
  --log-level info           the service's log level (its log goes to a temporary file)
  --in-process               run the service in the bench process (RSS/CPU then include the load generator)
  --keep-seed                with KEYCLOAK_URL: leave the seeded clients in that Keycloak
  --max-minutes 90           stop everything after this long
  --usage-events 20000       token requests for one client before usage is measured (0: skip; about 75/s here)
  --cpu-profile DIR          write a CPU profile of the service (node --cpu-prof) into DIR
  --no-anchor                leave out the thin proxy (bench/anchor.ts) beside the service
  --reads-only               gets and lists only (no create + delete, call counts or usage)
  --create-latency-at N      realm size of the create-latency run (default: the largest size; 0: skip;
                             above the largest size: the realm is grown to N for it alone)
  --create-latency-count 8   creates in a row on one fresh account in that run
  --help
`;

function positiveInt(name: string, text: string, min = 1): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return value;
}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      sizes: { type: 'string', default: '100,5000,20000' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      slices: { type: 'string', default: '2' },
      connections: { type: 'string', default: '10' },
      'keycloak-version': { type: 'string' },
      'clients-per-account': { type: 'string', default: '5' },
      'seed-concurrency': { type: 'string', default: '8' },
      'log-level': { type: 'string', default: 'info' },
      'in-process': { type: 'boolean', default: false },
      'keep-seed': { type: 'boolean', default: false },
      'max-minutes': { type: 'string', default: '90' },
      'cpu-profile': { type: 'string' },
      'usage-events': { type: 'string', default: '20000' },
      'no-anchor': { type: 'boolean', default: false },
      'reads-only': { type: 'boolean', default: false },
      'create-latency-at': { type: 'string' },
      'create-latency-count': { type: 'string', default: '8' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const sizes = values.sizes
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => positiveInt('sizes', s));
  if (sizes.length === 0) throw new Error('--sizes needs at least one size');
  const version = values['keycloak-version'];
  if (version !== undefined && !/^26\.\d+\.\d+$/.test(version))
    throw new Error('--keycloak-version must be a 26.x.y release, e.g. 26.4.7');
  const duration = positiveInt('duration', values.duration);
  if (duration > 120) throw new Error('--duration is at most 120 seconds');
  return {
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
    duration,
    warmup: positiveInt('warmup', values.warmup, 0),
    slices: positiveInt('slices', values.slices),
    connections: positiveInt('connections', values.connections),
    keycloakVersion: version,
    clientsPerAccount: positiveInt('clients-per-account', values['clients-per-account']),
    seedConcurrency: positiveInt('seed-concurrency', values['seed-concurrency']),
    logLevel: values['log-level'],
    inProcess: values['in-process'],
    keepSeed: values['keep-seed'],
    maxMinutes: positiveInt('max-minutes', values['max-minutes']),
    usageEvents: positiveInt('usage-events', values['usage-events'], 0),
    anchor: !values['no-anchor'],
    readsOnly: values['reads-only'],
    createLatencyAt:
      values['create-latency-at'] === undefined
        ? undefined
        : positiveInt('create-latency-at', values['create-latency-at'], 0),
    createLatencyCount: positiveInt('create-latency-count', values['create-latency-count']),
    cpuProfile: values['cpu-profile'] === undefined ? undefined : resolve(values['cpu-profile']),
  };
}
