// Runs the pinned Keycloak server distribution on this machine, without Docker.
//
// The distribution comes from Maven Central (org.keycloak:keycloak-quarkus-dist:<version>:tar.gz),
// is unpacked into a cache folder outside the repository, is prepared once with `kc.sh build`
// using keycloak/keycloak.conf and the project's providers (keycloak/providers/), and is started on
// loopback with the realm import.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { installProviders } from './keycloak-providers.js';

export const projectRoot = resolve(import.meta.dirname, '..', '..');
export const realmFile = join(projectRoot, 'keycloak', 'realm-platform.json');
export const serverConfFile = join(projectRoot, 'keycloak', 'keycloak.conf');
/** The one place the Keycloak version is pinned (compose repeats it as its default; a test compares). */
export const versionFile = join(projectRoot, 'keycloak', 'version');
export const realmName = 'platform';

/** Demo credentials of the realm import; the bootstrap admin is for the master realm's console only. */
export const bootstrapAdmin = { username: 'admin', password: 'admin' };

/**
 * The database a distribution is built for (a build-time option, so each has its own folder):
 * `dev-mem` (in-memory H2, keycloak/keycloak.conf as it is) or `postgres` (the same options with
 * db=postgres; the server comes from scripts/lib/postgres-local.ts).
 */
export type KeycloakDb = 'dev-mem' | 'postgres';

/** KEYCLOAK_DB=postgres selects PostgreSQL; anything else (or nothing) the in-memory H2. */
export function keycloakDbFromEnv(env: NodeJS.ProcessEnv = process.env): KeycloakDb {
  const value = env.KEYCLOAK_DB?.trim();
  if (!value || value === 'dev-mem' || value === 'h2') return 'dev-mem';
  if (value === 'postgres') return 'postgres';
  throw new MissingPrerequisiteError(
    `KEYCLOAK_DB=${value}: use postgres, or leave it unset for the in-memory H2`,
  );
}

/**
 * keycloak/keycloak.conf for that database: the file itself, or with its db= line set to postgres;
 * with `tracing`, also Keycloak's OpenTelemetry tracing, a build-time option (`npm run dev -- --tracing`).
 */
export function serverConf(db: KeycloakDb, tracing = false): string {
  let conf = readFileSync(serverConfFile, 'utf8');
  if (db !== 'dev-mem') {
    if (!/^db=.*$/m.test(conf)) throw new Error(`${serverConfFile} has no db= line`);
    conf = conf.replace(/^db=.*$/m, `db=${db}`);
  }
  if (!tracing) return conf;
  // Build-time options both. A request the service traces is traced here too (its traceparent is
  // sampled); Keycloak's own work alone (logins in a browser, background tasks) is not.
  return `${conf}\n# traced (npm run dev -- --tracing, test/tracing.test.ts): spans to the endpoint given at start\ntracing-enabled=true\ntracing-sampler-type=parentbased_always_off\n`;
}

/** Java releases Keycloak 26 runs on. */
export const supportedJavaMajors = [17, 21, 25];

export function pinnedKeycloakVersion(): string {
  const version = readFileSync(versionFile, 'utf8').trim();
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`${versionFile} must hold a version like 26.7.3`);
  return version;
}

export function cacheDir(): string {
  return process.env.KEYCLOAK_CACHE_DIR ?? join(homedir(), '.cache', 'api-clients-service');
}

function log(message: string): void {
  process.stderr.write(`[keycloak] ${message}\n`);
}

/** A tool this machine lacks; the message says what to install, one line per missing tool. */
export class MissingPrerequisiteError extends Error {
  override name = 'MissingPrerequisiteError';
}

/** A child process ended by a signal (Ctrl-C reaches the whole foreground process group). */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (result.error) throw result.error;
  if (result.signal) throw new InterruptedError(`${command} was stopped by ${result.signal}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`);
}

/** The executable's full path when it is on PATH. */
export function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** The major version of the Java in `home`: from its `release` file, else from `java -version`. */
export function javaMajor(home: string): number | undefined {
  let version: string | undefined;
  try {
    version = /^JAVA_VERSION="([^"]+)"/m.exec(readFileSync(join(home, 'release'), 'utf8'))?.[1];
  } catch {
    const result = spawnSync(join(home, 'bin', 'java'), ['-version'], { encoding: 'utf8', timeout: 15_000 });
    version = /version "([^"]+)"/.exec(`${result.stderr ?? ''}`)?.[1];
  }
  if (!version) return undefined;
  // "1.8.0_392" is Java 8; "17.0.15" and "25" are themselves
  const [first, second] = version.split('.').map(Number);
  return first === 1 ? second : first;
}

function javaCandidates(): Array<{ home: string; from: string }> {
  const candidates: Array<{ home: string; from: string }> = [];
  const javaOnPath = onPath('java');
  // /usr/bin/java -> /etc/alternatives/java -> /usr/lib/jvm/java-17-openjdk-amd64/bin/java
  if (javaOnPath) candidates.push({ home: dirname(dirname(realpathSync(javaOnPath))), from: 'java on PATH' });
  const folders: Array<[string, string]> = [['/usr/lib/jvm', '']];
  if (process.platform === 'darwin') {
    folders.push(
      ['/Library/Java/JavaVirtualMachines', 'Contents/Home'],
      [join(homedir(), 'Library', 'Java', 'JavaVirtualMachines'), 'Contents/Home'],
      ['/opt/homebrew/opt', 'libexec/openjdk.jdk/Contents/Home'],
      ['/usr/local/opt', 'libexec/openjdk.jdk/Contents/Home'],
    );
  }
  for (const [folder, inside] of folders) {
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder)) {
      if (folder.endsWith('/opt') && !name.startsWith('openjdk')) continue;
      candidates.push({ home: join(folder, name, inside), from: folder });
    }
  }
  return candidates.filter(({ home }) => existsSync(join(home, 'bin', 'java')));
}

let foundJavaHome: string | undefined;

/**
 * A Java able to run Keycloak 26 (17, 21 or 25): JAVA_HOME when it is one of those, else the
 * newest such Java among the one on PATH, /usr/lib/jvm and (macOS) the JavaVirtualMachines and
 * Homebrew folders.
 */
export function findJavaHome(): string {
  if (foundJavaHome) return foundJavaHome;
  const wanted = supportedJavaMajors.join(', ');
  const javaHome = process.env.JAVA_HOME;
  if (javaHome) {
    const major = existsSync(join(javaHome, 'bin', 'java')) ? javaMajor(javaHome) : undefined;
    if (major !== undefined && supportedJavaMajors.includes(major)) {
      foundJavaHome = javaHome;
      return javaHome;
    }
    log(
      major === undefined
        ? `JAVA_HOME=${javaHome} holds no bin/java; looking elsewhere`
        : `JAVA_HOME=${javaHome} is Java ${major}, Keycloak needs ${wanted}; looking elsewhere`,
    );
  }
  const seen = javaCandidates().map((candidate) => ({ ...candidate, major: javaMajor(candidate.home) }));
  const best = seen
    .filter(({ major }) => major !== undefined && supportedJavaMajors.includes(major))
    .sort((a, b) => (b.major ?? 0) - (a.major ?? 0))[0];
  if (best) {
    foundJavaHome = best.home;
    return best.home;
  }
  const found = seen.map(({ home, major }) => `${home} (Java ${major ?? '?'})`).join(', ');
  throw new MissingPrerequisiteError(
    `a Java ${wanted} (JDK or JRE) for Keycloak: none found${found ? `, only ${found}` : ''}. ` +
      'Install one (Debian/Ubuntu: apt install default-jre-headless; macOS: brew install openjdk@21) ' +
      'or set JAVA_HOME to it',
  );
}

/**
 * Every tool the local distribution still needs, checked at once, so that one message names
 * them all: Java to run Keycloak, and Maven and tar while the distribution is not unpacked yet.
 */
export function checkPrerequisites(version = pinnedKeycloakVersion(), db: KeycloakDb = 'dev-mem'): void {
  const missing: string[] = [];
  if (!existsSync(join(distributionHome(version, db), 'bin', 'kc.sh'))) {
    if (!onPath('mvn'))
      missing.push(
        'Maven (mvn on PATH), to download the Keycloak distribution once: ' +
          'apt install maven, brew install maven, or https://maven.apache.org/download.cgi',
      );
    if (!onPath('tar')) missing.push('tar on PATH, to unpack the Keycloak distribution');
  }
  try {
    findJavaHome();
  } catch (error) {
    if (!(error instanceof MissingPrerequisiteError)) throw error;
    missing.push(error.message);
  }
  if (missing.length > 0) {
    throw new MissingPrerequisiteError(
      `The local Keycloak needs:\n${missing.map((line) => `  - ${line}`).join('\n')}\n` +
        'Or point KEYCLOAK_URL at a running Keycloak (docker compose -f docker-compose.keycloak.yml up -d).',
    );
  }
}

/**
 * The distribution's folder in the cache, one per build (database, tracing or not): switching
 * between them never rebuilds. Built with the project's providers, it has a name of its own:
 * checkouts from before the providers share the cache, and their `start --optimized` would refuse
 * a folder whose providers/ holds a jar newer than their last build.
 */
export function distributionHome(
  version = pinnedKeycloakVersion(),
  db: KeycloakDb = 'dev-mem',
  tracing = false,
): string {
  const name = db === 'dev-mem' ? `keycloak-${version}` : `keycloak-${version}-${db}`;
  return join(cacheDir(), `${name}${tracing ? '-tracing' : ''}-with-providers`);
}

/**
 * Downloads (once, through Maven, so its own settings and local repository apply) and unpacks the
 * distribution; returns its home folder. The unpack happens in a staging folder that is renamed
 * into place at the end: an interrupted run leaves no half-unpacked distribution behind.
 */
export function ensureDistribution(
  version = pinnedKeycloakVersion(),
  db: KeycloakDb = 'dev-mem',
  tracing = false,
): string {
  const home = distributionHome(version, db, tracing);
  if (existsSync(join(home, 'bin', 'kc.sh'))) return home;
  checkPrerequisites(version, db);
  mkdirSync(cacheDir(), { recursive: true });
  removeStaleStaging();
  const staging = mkdtempSync(join(cacheDir(), `.staging-${version}-`));
  try {
    const artifact = `org.keycloak:keycloak-quarkus-dist:${version}:tar.gz`;
    log(`getting ${artifact} through Maven (downloaded once into its local repository)`);
    run('mvn', ['-B', '-q', 'dependency:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${staging}`]);
    const tarball = join(staging, `keycloak-quarkus-dist-${version}.tar.gz`);
    log(`unpacking ${artifact}`);
    run('tar', ['xzf', tarball, '-C', staging]);
    try {
      renameSync(join(staging, `keycloak-${version}`), home);
    } catch (error) {
      // another run unpacked it at the same moment
      if (!existsSync(join(home, 'bin', 'kc.sh'))) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return home;
}

/** Staging folders of runs killed outright (SIGKILL), once they are an hour old. */
function removeStaleStaging(): void {
  for (const name of readdirSync(cacheDir())) {
    const path = join(cacheDir(), name);
    if (name.startsWith('.staging-') && Date.now() - statSync(path).mtimeMs > 3_600_000)
      rmSync(path, { recursive: true, force: true });
  }
}

/**
 * Prepares the distribution for fast starts: puts the project's Keycloak providers into its
 * providers/ (scripts/lib/keycloak-providers.ts) and runs `kc.sh build` again only when
 * keycloak.conf (database, tracing) or a provider changed.
 */
export function ensureBuilt(home: string, db: KeycloakDb = 'dev-mem', tracing = false): void {
  const conf = serverConf(db, tracing);
  const providers = installProviders(home);
  const stamp = createHash('sha256').update(conf).update('\0').update(providers).digest('hex');
  const stampFile = join(home, '.api-clients-build');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return;
  writeFileSync(join(home, 'conf', 'keycloak.conf'), conf);
  log(
    `preparing the distribution for db=${db}${tracing ? ' with tracing' : ''} with the project's providers (kc.sh build), once`,
  );
  run(join(home, 'bin', 'kc.sh'), ['build'], { ...process.env, JAVA_HOME: findJavaHome() });
  writeFileSync(stampFile, stamp);
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface RunningKeycloak {
  url: string;
  managementUrl: string;
  pid: number;
  logFile: string;
  /** SIGTERM to its process group (kc.sh and the JVM), SIGKILL after 20 s; safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL to its process group, synchronously: for a process that is exiting right now. */
  kill(): void;
}

export interface StartOptions {
  version?: string;
  httpPort?: number;
  managementPort?: number;
  /** How long to wait for /health/ready. */
  timeoutMs?: number;
  /** Aborting it during the start stops Keycloak and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called as soon as the process exists, before it is ready: whoever cleans up gets it early. */
  onSpawn?: (keycloak: RunningKeycloak) => void;
  /** A PostgreSQL database (scripts/lib/postgres-local.ts): runs the db=postgres distribution on it. */
  postgres?: { jdbcUrl: string; username: string };
  /** Its cluster (JGroups) port on 127.0.0.1, with `postgres`; a free one when not given. */
  clusterPort?: number;
  /** Imports keycloak/realm-platform.json when the realm is missing (default true). */
  importRealm?: boolean;
  /**
   * Keycloak's own spans, to this OTLP/HTTP endpoint (e.g. http://127.0.0.1:4318): runs a
   * distribution built with tracing-enabled=true; sampled when the caller's traceparent says so.
   */
  tracingEndpoint?: string;
}

/** Starts Keycloak on loopback with the realm import and waits until it is ready. */
export async function startLocalKeycloak(options: StartOptions = {}): Promise<RunningKeycloak> {
  const version = options.version ?? pinnedKeycloakVersion();
  const db: KeycloakDb = options.postgres ? 'postgres' : 'dev-mem';
  const tracing = options.tracingEndpoint !== undefined;
  const home = ensureDistribution(version, db, tracing);
  ensureBuilt(home, db, tracing);
  const httpPort = options.httpPort ?? (await freePort());
  const managementPort = options.managementPort ?? (await freePort());
  options.signal?.throwIfAborted();
  const runDir = join(cacheDir(), 'run', `${process.pid}-${httpPort}`);
  const importDir = join(runDir, 'import');
  mkdirSync(importDir, { recursive: true });
  copyFileSync(realmFile, join(importDir, 'realm-platform.json'));
  const importArgs =
    options.importRealm === false ? [] : ['--import-realm', `-Dkeycloak.migration.dir=${importDir}`];
  // On PostgreSQL the node joins the cluster of every node on that database (JDBC_PING discovery,
  // Keycloak 26's default stack): its cluster traffic stays on loopback, on a port of its own.
  const dbArgs = options.postgres
    ? [
        `--db-url=${options.postgres.jdbcUrl}`,
        `--db-username=${options.postgres.username}`,
        '--cache-embedded-network-bind-address=127.0.0.1',
        `--cache-embedded-network-bind-port=${options.clusterPort ?? (await freePort())}`,
      ]
    : [];
  const logFile = join(runDir, 'keycloak.log');
  const out = openSync(logFile, 'a');
  const started = Date.now();
  const child = spawn(
    join(home, 'bin', 'kc.sh'),
    [
      'start',
      '--optimized',
      '--http-enabled=true',
      '--hostname-strict=false',
      '--http-host=127.0.0.1',
      `--http-port=${httpPort}`,
      `--http-management-port=${managementPort}`,
      ...dbArgs,
      ...importArgs,
      ...(tracing
        ? [`--tracing-endpoint=${options.tracingEndpoint}`, '--tracing-protocol=http/protobuf']
        : []),
    ],
    {
      // Its own process group, so that stop() ends kc.sh and the JVM it starts, and nothing else;
      // a terminal's Ctrl-C does not reach it: whoever started it stops it.
      detached: true,
      stdio: ['ignore', out, out],
      env: {
        ...process.env,
        JAVA_HOME: findJavaHome(),
        KC_BOOTSTRAP_ADMIN_USERNAME: bootstrapAdmin.username,
        KC_BOOTSTRAP_ADMIN_PASSWORD: bootstrapAdmin.password,
      },
    },
  );
  closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new Error('Keycloak did not start');
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  child.unref();

  const url = `http://127.0.0.1:${httpPort}`;
  const managementUrl = `http://127.0.0.1:${managementPort}`;
  const signalGroup = (signal: NodeJS.Signals): boolean => {
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      return false; // the group is gone
    }
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exited || !signalGroup('SIGTERM')) return;
      for (let waited = 0; waited < 20_000 && !exited; waited += 200) await sleep(200);
      if (!exited) signalGroup('SIGKILL');
    })();
    return stopping;
  };
  const kill = (): void => {
    if (!exited) signalGroup('SIGKILL');
  };
  const keycloak: RunningKeycloak = { url, managementUrl, pid, logFile, stop, kill };
  log(`starting Keycloak ${version} (db=${db}) at ${url} (pid ${pid}, log ${logFile})`);
  options.onSpawn?.(keycloak);

  const deadline = started + (options.timeoutMs ?? 180_000);
  while (Date.now() < deadline) {
    if (options.signal?.aborted) {
      await stop();
      throw options.signal.reason;
    }
    if (exited) throw new Error(`Keycloak exited during start; see ${logFile}`);
    if (await isReady(managementUrl)) {
      log(`Keycloak ${version} ready at ${url} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return keycloak;
    }
    await sleep(500);
  }
  await stop();
  throw new Error(`Keycloak was not ready within ${options.timeoutMs ?? 180_000} ms; see ${logFile}`);
}

export async function isReady(managementUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${managementUrl}/health/ready`, { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** Waits until the realm's OpenID configuration answers (used for a Keycloak found by URL). */
export async function waitForRealm(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/realms/${realmName}/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(2000),
      });
      if (response.ok) return;
    } catch {
      // not yet
    }
    await sleep(1000);
  }
  throw new Error(`Keycloak at ${url} did not serve realm '${realmName}' within ${timeoutMs} ms`);
}
