// A throwaway PostgreSQL server for Keycloak with `db=postgres`, started by the project itself:
// the server binaries of the distribution's `postgresql` package (Debian: /usr/lib/postgresql/<n>/bin;
// elsewhere initdb on PATH), a fresh data directory per run, its own port and socket folder, on
// 127.0.0.1 only, trust authentication (loopback, test data). The system's own PostgreSQL service,
// if any, is never touched. stop() ends the server with `pg_ctl stop -m fast` and removes its data.
import { spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  cacheDir,
  freePort,
  InterruptedError,
  MissingPrerequisiteError,
  onPath,
  type RunningKeycloak,
  startLocalKeycloak,
} from './keycloak-local.js';

/** The database and role Keycloak uses (trust authentication: no password is checked). */
export const postgresDatabase = 'keycloak';
export const postgresUser = 'keycloak';

export interface RunningPostgres {
  port: number;
  /** For Keycloak's --db-url. */
  jdbcUrl: string;
  username: string;
  dataDir: string;
  logFile: string;
  /** `pg_ctl stop -m fast`, then removes the data directory; safe to call twice. */
  stop(): void;
  /** SIGQUIT to the postmaster (immediate shutdown), synchronously: for a process that is exiting. */
  kill(): void;
}

function log(message: string): void {
  process.stderr.write(`[postgres] ${message}\n`);
}

/** The folder holding initdb, pg_ctl and postgres: PG_BIN, else initdb on PATH, else the newest Debian one. */
export function postgresBinDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  // through symlinks: its real folder also holds createdb (Debian links only some tools into /usr/bin)
  const initdb = onPath('initdb');
  if (initdb) return dirname(realpathSync(initdb));
  const debian = '/usr/lib/postgresql';
  const versions = existsSync(debian)
    ? readdirSync(debian)
        .filter((name) => existsSync(join(debian, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0]) return join(debian, versions[0], 'bin');
  throw new MissingPrerequisiteError(
    'PostgreSQL server binaries (initdb, pg_ctl) for KEYCLOAK_DB=postgres: none found. Install them ' +
      '(Debian/Ubuntu: apt install postgresql; macOS: brew install postgresql@17) or set PG_BIN to their folder',
  );
}

// PostgreSQL refuses to run as root: as root, its commands run as the `postgres` system user.
const asRoot = process.getuid?.() === 0;

function runPg(binDir: string, command: string, args: string[]): void {
  const full = join(binDir, command);
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', full, ...args]] : [full, args];
  const result = spawnSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (result.error) throw result.error;
  if (result.signal) throw new InterruptedError(`${command} was stopped by ${result.signal}`);
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(' ')} exited with ${result.status}: ${result.stderr || result.stdout}`,
    );
}

/** A folder the server's user owns: under the cache folder, or in the temp folder when that user cannot reach it. */
function makeRunDir(port: number): string {
  const base = join(cacheDir(), 'postgres');
  mkdirSync(base, { recursive: true });
  let dir = join(base, `${process.pid}-${port}`);
  mkdirSync(dir, { recursive: true });
  if (!asRoot) return dir;
  const ids = (flag: string): number => {
    const result = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    if (result.status !== 0)
      throw new MissingPrerequisiteError(
        'a `postgres` system user to run PostgreSQL as (apt install postgresql)',
      );
    return Number(result.stdout.trim());
  };
  const [postgresUid, postgresGid] = [ids('-u'), ids('-g')];
  chownSync(dir, postgresUid, postgresGid);
  // e.g. a cache under /root (mode 700): the postgres user cannot reach it
  if (spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-w', dir]).status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    dir = mkdtempSync(join(tmpdir(), 'api-clients-postgres-'));
    chownSync(dir, postgresUid, postgresGid);
  }
  return dir;
}

/** initdb + pg_ctl start on 127.0.0.1:<free port>, then an empty `keycloak` database. */
export async function startLocalPostgres(): Promise<RunningPostgres> {
  const binDir = postgresBinDir();
  const started = Date.now();
  const port = await freePort();
  const runDir = makeRunDir(port);
  const dataDir = join(runDir, 'data');
  const logFile = join(runDir, 'postgres.log');
  let stopped = false;
  const kill = (): void => {
    if (stopped) return;
    try {
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGQUIT');
    } catch {
      // not running
    }
  };
  const stop = (): void => {
    if (stopped) return;
    try {
      if (existsSync(join(dataDir, 'postmaster.pid')))
        runPg(binDir, 'pg_ctl', ['stop', '-D', dataDir, '-m', 'fast', '-w']);
    } catch (error) {
      log(`pg_ctl stop failed (${(error as Error).message}); sending SIGQUIT`);
      kill();
    }
    stopped = true;
    // the log stays for a look afterwards; the data goes
    rmSync(dataDir, { recursive: true, force: true });
    log(`PostgreSQL on port ${port} stopped, its data removed (log ${logFile})`);
  };
  try {
    runPg(binDir, 'initdb', ['-D', dataDir, '-U', postgresUser, '-A', 'trust', '-E', 'UTF8', '--no-sync']);
    // -k: its Unix socket in its own folder; listen_addresses: loopback only, nothing else
    const options = `-p ${port} -k ${runDir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    runPg(binDir, 'pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', options]);
    runPg(binDir, 'createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', postgresUser, postgresDatabase]);
  } catch (error) {
    stop();
    throw error;
  }
  log(
    `PostgreSQL ready on 127.0.0.1:${port} in ${((Date.now() - started) / 1000).toFixed(1)} s (data ${dataDir})`,
  );
  return {
    port,
    jdbcUrl: `jdbc:postgresql://127.0.0.1:${port}/${postgresDatabase}`,
    username: postgresUser,
    dataDir,
    logFile,
    stop,
    kill,
  };
}

export interface KeycloakOnPostgres {
  postgres: RunningPostgres;
  /** One or more nodes of one cluster (the first imported the realm), in start order. */
  nodes: RunningKeycloak[];
  /** Stops every node, then PostgreSQL; safe to call twice. */
  stop(): Promise<void>;
  /** Kills every node and PostgreSQL, synchronously: for a process that is exiting right now. */
  kill(): void;
}

/**
 * A PostgreSQL server of its own, then `nodes` Keycloak nodes on it, started together: node 1 with
 * the realm import, the others join its cluster (Keycloak 26 finds them through the database,
 * JDBC_PING). If anything fails or `signal` aborts during the start, whatever started is stopped.
 * `onStarted` gets the handle before the nodes are ready, so that a signal handler can stop them.
 */
export async function startKeycloakOnPostgres(
  options: {
    nodes?: number;
    signal?: AbortSignal;
    httpPort?: number;
    onStarted?: (all: KeycloakOnPostgres) => void;
  } = {},
): Promise<KeycloakOnPostgres> {
  const postgres = await startLocalPostgres();
  const nodes: RunningKeycloak[] = [];
  let stopping: Promise<void> | undefined;
  const all: KeycloakOnPostgres = {
    postgres,
    nodes,
    stop() {
      stopping ??= (async () => {
        await Promise.all(nodes.map((node) => node.stop()));
        postgres.stop();
      })();
      return stopping;
    },
    kill() {
      for (const node of nodes) node.kill();
      postgres.kill();
    },
  };
  options.onStarted?.(all);
  try {
    const count = options.nodes ?? 1;
    await Promise.all(
      Array.from({ length: count }, (_, index) =>
        startLocalKeycloak({
          postgres,
          httpPort: index === 0 ? options.httpPort : undefined,
          importRealm: index === 0,
          signal: options.signal,
          // the first start on an empty database creates Keycloak's schema: slower than H2
          timeoutMs: 360_000,
          onSpawn: (node) => {
            nodes[index] = node;
          },
        }),
      ),
    );
  } catch (error) {
    await all.stop();
    throw error;
  }
  return all;
}
