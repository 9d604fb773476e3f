// The Keycloak providers this project ships (keycloak/providers/<name>/, one Maven project each),
// built with Maven and cached outside the repository by a hash of their sources, so that a second
// run builds nothing. keycloak-local.ts copies them into the distribution's providers/ before
// `kc.sh build`; `npm run keycloak -- fetch` also leaves them in keycloak/providers/build/ for
// docker-compose.keycloak.yml to mount.
//
//   account-membership   a WebApp client admits only its account's users (docs/security-boundary.md)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join, relative, resolve } from 'node:path';
// keycloak-local.ts imports this module: what comes from it is used at call time only
import {
  cacheDir,
  findJavaHome,
  InterruptedError,
  javaMajor,
  MissingPrerequisiteError,
  onPath,
  supportedJavaMajors,
} from './keycloak-local.js';

export const providersDir = resolve(import.meta.dirname, '..', '..', 'keycloak', 'providers');
/** Where `npm run keycloak -- fetch` leaves the jars for docker compose (git-ignored). */
export const providersBuildDir = join(providersDir, 'build');
/** The providers, each a folder of providersDir holding a pom.xml. */
export const providerNames = ['account-membership'];

export interface ProviderJar {
  name: string;
  /** The jar's file name in a distribution's providers/ (the prefix marks the project's own). */
  fileName: string;
  path: string;
  /** Of its sources (pom.xml and src/), which name the cached jar. */
  hash: string;
}

export const PROVIDER_PREFIX = 'api-clients-';

function log(message: string): void {
  process.stderr.write(`[keycloak] ${message}\n`);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** A hash of the provider's pom.xml and src/ (paths and contents): its build's cache key. */
export function providerSourceHash(name: string): string {
  const root = join(providersDir, name);
  const hash = createHash('sha256');
  for (const file of [join(root, 'pom.xml'), ...filesUnder(join(root, 'src'))]) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** A JDK Keycloak runs on: the Java keycloak-local.ts picked when it has javac, else one in /usr/lib/jvm. */
function findJdkHome(): string | undefined {
  const jvm = '/usr/lib/jvm';
  const homes = [findJavaHome(), ...(existsSync(jvm) ? readdirSync(jvm).map((name) => join(jvm, name)) : [])];
  return homes.find((home) => {
    const major = existsSync(join(home, 'bin', 'javac')) ? javaMajor(home) : undefined;
    return major !== undefined && supportedJavaMajors.includes(major);
  });
}

/** Maven with a JDK; quiet, and offline when asked. */
function mvn(args: string[], offline: boolean, javaHome: string): boolean {
  const result = spawnSync('mvn', ['-B', '-q', ...(offline ? ['-o'] : []), ...args], {
    // offline: a failure (a dependency not downloaded yet) is expected and retried online, so silent
    stdio: ['ignore', offline ? 'pipe' : 'inherit', offline ? 'pipe' : 'inherit'],
    env: { ...process.env, JAVA_HOME: javaHome },
  });
  if (result.error) throw result.error;
  if (result.signal) throw new InterruptedError(`mvn was stopped by ${result.signal}`);
  return result.status === 0;
}

/**
 * The provider's jar, built once per version of its sources: offline from Maven's local
 * repository when it can, else with downloads from Maven Central. The build happens in a staging
 * folder and the jar is renamed into place: an interrupted run leaves no half-written jar.
 */
export function ensureProviderJar(name: string): ProviderJar {
  const hash = providerSourceHash(name);
  const fileName = `${PROVIDER_PREFIX}${name}.jar`;
  const dir = join(cacheDir(), 'providers');
  const path = join(dir, `${PROVIDER_PREFIX}${name}-${hash}.jar`);
  if (existsSync(path)) return { name, fileName, path, hash };
  if (!onPath('mvn'))
    throw new MissingPrerequisiteError(`Maven (mvn on PATH), to build the Keycloak provider ${name}`);
  const jdk = findJdkHome();
  if (!jdk) {
    throw new MissingPrerequisiteError(
      `a JDK (javac, Java ${supportedJavaMajors.join(', ')}) to build the Keycloak provider ${name}: ` +
        `${findJavaHome()} is a runtime only. Install one (Debian/Ubuntu: apt install openjdk-17-jdk-headless) ` +
        'or set JAVA_HOME to it',
    );
  }
  mkdirSync(dir, { recursive: true });
  const staging = mkdtempSync(join(dir, `.staging-${name}-`));
  try {
    const args = ['package', '-f', join(providersDir, name, 'pom.xml'), `-DbuildDir=${staging}`];
    log(`building the Keycloak provider ${name} (Maven, cached by its sources' hash)`);
    if (!mvn(args, true, jdk) && !mvn(args, false, jdk)) throw new Error(`mvn ${args.join(' ')} failed`);
    renameSync(join(staging, `${PROVIDER_PREFIX}${name}.jar`), path);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return { name, fileName, path, hash };
}

export const ensureProviderJars = (): ProviderJar[] => providerNames.map(ensureProviderJar);

/**
 * Keycloak's `start --optimized` refuses to run when a provider jar is newer than the last
 * `kc.sh build` ("A provider JAR was updated since the last build"): an unchanged jar is not
 * written again.
 */
function copyIfChanged(from: string, to: string): void {
  if (existsSync(to) && readFileSync(to).equals(readFileSync(from))) return;
  copyFileSync(from, to);
}

/**
 * Puts the project's providers into a distribution's providers/ (and takes out any older jar of
 * the project's own); returns what the `kc.sh build` stamp must cover.
 */
export function installProviders(home: string, jars: ProviderJar[] = ensureProviderJars()): string {
  const target = join(home, 'providers');
  mkdirSync(target, { recursive: true });
  const wanted = new Set(jars.map((jar) => jar.fileName));
  for (const file of readdirSync(target)) {
    if (file.startsWith(PROVIDER_PREFIX) && !wanted.has(file)) rmSync(join(target, file));
  }
  for (const jar of jars) copyIfChanged(jar.path, join(target, jar.fileName));
  // Keycloak compares the jars' modification times with those of its last build: they are part of the stamp
  return jars
    .map((jar) => `${jar.fileName}:${jar.hash}:${statSync(join(target, jar.fileName)).mtimeMs}`)
    .join('\n');
}

/** The jars in keycloak/providers/build/, which docker-compose.keycloak.yml mounts as Keycloak's providers/. */
export function writeProvidersForCompose(jars: ProviderJar[] = ensureProviderJars()): string {
  mkdirSync(providersBuildDir, { recursive: true });
  const wanted = new Set(jars.map((jar) => jar.fileName));
  for (const file of readdirSync(providersBuildDir)) {
    if (file.startsWith(PROVIDER_PREFIX) && !wanted.has(file)) rmSync(join(providersBuildDir, file));
  }
  for (const jar of jars) copyFileSync(jar.path, join(providersBuildDir, jar.fileName));
  return providersBuildDir;
}
