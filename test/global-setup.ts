// Finds a Keycloak for the whole test run, in this order:
//   1. KEYCLOAK_URL: one already running, with keycloak/realm-platform.json imported;
//   2. a Docker engine, through testcontainers (the pinned image, the same realm and options);
//   3. the local distribution from Maven (scripts/lib/keycloak-local.ts); with KEYCLOAK_DB=postgres
//      always this one, built for PostgreSQL, on a PostgreSQL server of its own started here
//      (scripts/lib/postgres-local.ts: a fresh database per run).
// It is started once, and stopped at the end of the run, also when tests fail.
import type { TestProject } from 'vitest/node';
import {
  keycloakDbFromEnv,
  pinnedKeycloakVersion,
  startLocalKeycloak,
  waitForRealm,
} from '../scripts/lib/keycloak-local.js';
import { type KeycloakOnPostgres, startKeycloakOnPostgres } from '../scripts/lib/postgres-local.js';
import { dockerAvailable, startKeycloakContainer } from './support/keycloak-container.js';

declare module 'vitest' {
  export interface ProvidedContext {
    keycloakUrl: string;
    keycloakSource: 'KEYCLOAK_URL' | 'testcontainers' | 'local distribution';
    /** The database of the Keycloak the run started; unknown for one found by KEYCLOAK_URL. */
    keycloakDb: 'dev-mem' | 'postgres' | 'unknown';
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const external = process.env.KEYCLOAK_URL;
  if (external) {
    await waitForRealm(external);
    project.provide('keycloakUrl', external.replace(/\/+$/, ''));
    project.provide('keycloakSource', 'KEYCLOAK_URL');
    project.provide('keycloakDb', 'unknown');
    console.log(`[keycloak] using KEYCLOAK_URL=${external}`);
    return async () => undefined;
  }
  if (keycloakDbFromEnv() === 'postgres') return startOnPostgres(project);
  if (await dockerAvailable()) {
    const container = await startKeycloakContainer(pinnedKeycloakVersion());
    project.provide('keycloakUrl', container.url);
    project.provide('keycloakSource', 'testcontainers');
    project.provide('keycloakDb', 'dev-mem');
    console.log(
      `[keycloak] container ready at ${container.url} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return () => container.stop();
  }
  console.log('[keycloak] no KEYCLOAK_URL and no Docker engine: starting the local distribution');
  const keycloak = await startLocalKeycloak();
  project.provide('keycloakUrl', keycloak.url);
  project.provide('keycloakSource', 'local distribution');
  project.provide('keycloakDb', 'dev-mem');
  return async () => {
    await keycloak.stop();
    console.log('[keycloak] local distribution stopped');
  };
}

/** PostgreSQL, then Keycloak on it; both stopped at the end, and also when the start fails half-way. */
async function startOnPostgres(project: TestProject): Promise<() => Promise<void>> {
  console.log('[keycloak] KEYCLOAK_DB=postgres: starting PostgreSQL and the local distribution built for it');
  let started: KeycloakOnPostgres | undefined;
  // a run killed outright still takes both down
  const onExit = (): void => started?.kill();
  process.once('exit', onExit);
  const { nodes, stop } = await startKeycloakOnPostgres({ onStarted: (all) => (started = all) });
  const [keycloak] = nodes;
  if (!keycloak) throw new Error('no Keycloak node started');
  project.provide('keycloakUrl', keycloak.url);
  project.provide('keycloakSource', 'local distribution');
  project.provide('keycloakDb', 'postgres');
  return async () => {
    await stop();
    process.off('exit', onExit);
    console.log('[keycloak] local distribution and PostgreSQL stopped');
  };
}
