// npm run keycloak -- <fetch|start|stop|status> [--detach] [--port N]
//
//   fetch    download (Maven, cached) and prepare the pinned Keycloak distribution (with
//            KEYCLOAK_DB=postgres: the one built for PostgreSQL) with the project's providers,
//            built once (keycloak/providers/), also left in keycloak/providers/build/ for compose
//   start    start it on loopback with the realm import; stays in the foreground until Ctrl-C,
//            or with --detach returns once it is ready and records its PID for `stop`
//   stop     stop a Keycloak started with --detach, by its recorded PID
//   status   print the recorded Keycloak, if it is still running
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  cacheDir,
  checkPrerequisites,
  ensureBuilt,
  ensureDistribution,
  InterruptedError,
  isReady,
  keycloakDbFromEnv,
  MissingPrerequisiteError,
  pinnedKeycloakVersion,
  type RunningKeycloak,
  startLocalKeycloak,
} from './lib/keycloak-local.js';
import { writeProvidersForCompose } from './lib/keycloak-providers.js';

const stateFile = join(cacheDir(), 'keycloak-detached.json');

interface DetachedState {
  pid: number;
  url: string;
  managementUrl: string;
  logFile: string;
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { detach: { type: 'boolean', default: false }, port: { type: 'string' } },
});

function readState(): DetachedState | undefined {
  return existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as DetachedState) : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

try {
  await command(positionals[0]);
} catch (error) {
  if (!(error instanceof MissingPrerequisiteError || error instanceof InterruptedError)) throw error;
  process.stderr.write(`\n${error.message}\n\n`);
  process.exitCode = 1;
}

async function command(name: string | undefined): Promise<void> {
  switch (name) {
    case 'fetch': {
      // KEYCLOAK_DB=postgres prepares the distribution built for PostgreSQL (the test run's, the cluster test's)
      const db = keycloakDbFromEnv();
      checkPrerequisites(undefined, db);
      const home = ensureDistribution(undefined, db);
      ensureBuilt(home, db);
      console.log(`Keycloak ${pinnedKeycloakVersion()} (db=${db}) is ready to start: ${home}`);
      console.log(`The project's Keycloak providers, for docker compose: ${writeProvidersForCompose()}`);
      break;
    }
    case 'start': {
      const previous = readState();
      if (previous && isAlive(previous.pid)) {
        console.log(`Keycloak already running at ${previous.url} (pid ${previous.pid})`);
        break;
      }
      // In the foreground, Ctrl-C at any moment (also while it boots) stops it: the handler comes first.
      let keycloak: RunningKeycloak | undefined;
      const interrupted = new AbortController();
      if (!values.detach) {
        const shutdown = async (): Promise<void> => {
          if (interrupted.signal.aborted) {
            keycloak?.kill();
            process.exit(1);
          }
          interrupted.abort(new InterruptedError('interrupted'));
          await keycloak?.stop();
          process.exit(0);
        };
        process.on('SIGINT', shutdown);
        process.on('SIGTERM', shutdown);
        process.on('SIGHUP', shutdown);
        process.on('exit', () => keycloak?.kill());
      }
      try {
        keycloak = await startLocalKeycloak({
          httpPort: values.port ? Number(values.port) : undefined,
          signal: interrupted.signal,
          onSpawn: (started) => {
            keycloak = started;
          },
        });
      } catch (error) {
        if (interrupted.signal.aborted) break; // the handler exits
        throw error;
      }
      console.log(`KEYCLOAK_URL=${keycloak.url}`);
      if (values.detach) {
        const state: DetachedState = {
          pid: keycloak.pid,
          url: keycloak.url,
          managementUrl: keycloak.managementUrl,
          logFile: keycloak.logFile,
        };
        writeFileSync(stateFile, JSON.stringify(state, null, 2));
        console.log(`Stop it with: npm run keycloak -- stop`);
        break;
      }
      console.log('Press Ctrl-C to stop it.');
      setInterval(() => undefined, 1 << 30);
      break;
    }
    case 'stop': {
      const state = readState();
      if (!state || !isAlive(state.pid)) {
        console.log('No detached Keycloak is running.');
        rmSync(stateFile, { force: true });
        break;
      }
      process.kill(-state.pid, 'SIGTERM');
      for (let i = 0; i < 100 && isAlive(state.pid); i++) await new Promise((r) => setTimeout(r, 200));
      if (isAlive(state.pid)) process.kill(-state.pid, 'SIGKILL');
      rmSync(stateFile, { force: true });
      console.log(`Stopped Keycloak (pid ${state.pid}).`);
      break;
    }
    case 'status': {
      const state = readState();
      if (state && isAlive(state.pid)) {
        console.log(
          `Keycloak at ${state.url} (pid ${state.pid}), ready: ${await isReady(state.managementUrl)}`,
        );
      } else {
        console.log('No detached Keycloak is running.');
      }
      break;
    }
    default:
      console.error('usage: npm run keycloak -- <fetch|start|stop|status> [--detach] [--port N]');
      process.exitCode = 2;
  }
}
