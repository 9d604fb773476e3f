// Runs the pinned Keycloak server distribution on this machine, without Docker.
//
// The distribution comes from Maven Central (org.keycloak:keycloak-quarkus-dist:<version>:tar.gz),
// is unpacked into a cache folder outside the repository, is prepared once with `kc.sh build`
// using keycloak/keycloak.conf, and is started on loopback with the realm import.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const projectRoot = resolve(import.meta.dirname, '..', '..');
export const realmFile = join(projectRoot, 'keycloak', 'realm-platform.json');
export const serverConfFile = join(projectRoot, 'keycloak', 'keycloak.conf');
export const realmName = 'platform';

/** Demo credentials of the realm import; the bootstrap admin is for the master realm's console only. */
export const bootstrapAdmin = { username: 'admin', password: 'admin' };

export function pinnedKeycloakVersion(): string {
  const text = readFileSync(join(projectRoot, '.env'), 'utf8');
  const match = /^KEYCLOAK_VERSION=(\S+)$/m.exec(text);
  if (!match?.[1]) throw new Error('KEYCLOAK_VERSION is missing from .env');
  return match[1];
}

export function cacheDir(): string {
  return process.env.KEYCLOAK_CACHE_DIR ?? join(homedir(), '.cache', 'api-clients-service');
}

function log(message: string): void {
  process.stderr.write(`[keycloak] ${message}\n`);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`);
}

/** A JDK able to run Keycloak 26 (17, 21 or 25): JAVA_HOME when set, else the newest under /usr/lib/jvm. */
export function findJavaHome(): string {
  if (process.env.JAVA_HOME && existsSync(join(process.env.JAVA_HOME, 'bin', 'java')))
    return process.env.JAVA_HOME;
  const jvmDir = '/usr/lib/jvm';
  const candidates = existsSync(jvmDir)
    ? readdirSync(jvmDir)
        .map((name) => ({ name, major: Number(/(?:^|-)(\d+)(?:[.-]|$)/.exec(name)?.[1] ?? 0) }))
        .filter(
          ({ name, major }) => [17, 21, 25].includes(major) && existsSync(join(jvmDir, name, 'bin', 'java')),
        )
        .sort((a, b) => b.major - a.major)
    : [];
  const best = candidates[0];
  if (!best) throw new Error('No JDK 17, 21 or 25 found: set JAVA_HOME or install one under /usr/lib/jvm');
  return join(jvmDir, best.name);
}

/** Downloads (once, through Maven) and unpacks the distribution; returns its home folder. */
export function ensureDistribution(version = pinnedKeycloakVersion()): string {
  const home = join(cacheDir(), `keycloak-${version}`);
  if (existsSync(join(home, 'bin', 'kc.sh'))) return home;
  mkdirSync(cacheDir(), { recursive: true });
  const artifact = `org.keycloak:keycloak-quarkus-dist:${version}:tar.gz`;
  const tarball = join(
    homedir(),
    '.m2',
    'repository',
    'org',
    'keycloak',
    'keycloak-quarkus-dist',
    version,
    `keycloak-quarkus-dist-${version}.tar.gz`,
  );
  if (!existsSync(tarball)) {
    log(`downloading ${artifact} with Maven`);
    run('mvn', ['-B', '-q', 'dependency:get', `-Dartifact=${artifact}`, '-Dtransitive=false']);
  }
  log(`unpacking ${tarball}`);
  run('tar', ['xzf', tarball, '-C', cacheDir()]);
  return home;
}

/** Prepares the distribution for fast starts; runs `kc.sh build` again only when keycloak.conf changed. */
export function ensureBuilt(home: string): void {
  const conf = readFileSync(serverConfFile);
  const stamp = createHash('sha256').update(conf).digest('hex');
  const stampFile = join(home, '.api-clients-build');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return;
  copyFileSync(serverConfFile, join(home, 'conf', 'keycloak.conf'));
  log('preparing the distribution (kc.sh build), once');
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
  stop(): Promise<void>;
}

export interface StartOptions {
  version?: string;
  httpPort?: number;
  managementPort?: number;
  /** How long to wait for /health/ready. */
  timeoutMs?: number;
}

/** Starts Keycloak on loopback with the realm import and waits until it is ready. */
export async function startLocalKeycloak(options: StartOptions = {}): Promise<RunningKeycloak> {
  const home = ensureDistribution(options.version);
  ensureBuilt(home);
  const httpPort = options.httpPort ?? (await freePort());
  const managementPort = options.managementPort ?? (await freePort());
  const runDir = join(cacheDir(), 'run', `${process.pid}-${httpPort}`);
  const importDir = join(runDir, 'import');
  mkdirSync(importDir, { recursive: true });
  copyFileSync(realmFile, join(importDir, 'realm-platform.json'));
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
      '--import-realm',
      `-Dkeycloak.migration.dir=${importDir}`,
    ],
    {
      // Its own process group, so that stop() ends kc.sh and the JVM it starts, and nothing else.
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
  const stop = async (): Promise<void> => {
    if (exited) return;
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      return;
    }
    for (let waited = 0; waited < 20_000 && !exited; waited += 200) await sleep(200);
    if (!exited) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };

  const deadline = started + (options.timeoutMs ?? 180_000);
  while (Date.now() < deadline) {
    if (exited) throw new Error(`Keycloak exited during start; see ${logFile}`);
    if (await isReady(managementUrl)) {
      log(
        `Keycloak ${options.version ?? pinnedKeycloakVersion()} ready at ${url} in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${pid}, log ${logFile})`,
      );
      return { url, managementUrl, pid, logFile, stop };
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
