// Finds a Keycloak for the whole test run, in this order:
//   1. KEYCLOAK_URL: one already running, with keycloak/realm-platform.json imported;
//   2. a Docker engine, through testcontainers (the pinned image, the same realm and options);
//   3. the local distribution from Maven (scripts/lib/keycloak-local.ts).
// It is started once, and stopped at the end of the run, also when tests fail.
import type { TestProject } from 'vitest/node';
import { pinnedKeycloakVersion, startLocalKeycloak, waitForRealm } from '../scripts/lib/keycloak-local.js';
import { dockerAvailable, startKeycloakContainer } from './support/keycloak-container.js';

declare module 'vitest' {
  export interface ProvidedContext {
    keycloakUrl: string;
    keycloakSource: 'KEYCLOAK_URL' | 'testcontainers' | 'local distribution';
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const external = process.env.KEYCLOAK_URL;
  if (external) {
    await waitForRealm(external);
    project.provide('keycloakUrl', external.replace(/\/+$/, ''));
    project.provide('keycloakSource', 'KEYCLOAK_URL');
    console.log(`[keycloak] using KEYCLOAK_URL=${external}`);
    return async () => undefined;
  }
  if (await dockerAvailable()) {
    const container = await startKeycloakContainer(pinnedKeycloakVersion());
    project.provide('keycloakUrl', container.url);
    project.provide('keycloakSource', 'testcontainers');
    console.log(
      `[keycloak] container ready at ${container.url} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return () => container.stop();
  }
  console.log('[keycloak] no KEYCLOAK_URL and no Docker engine: starting the local distribution');
  const keycloak = await startLocalKeycloak();
  project.provide('keycloakUrl', keycloak.url);
  project.provide('keycloakSource', 'local distribution');
  return async () => {
    await keycloak.stop();
    console.log('[keycloak] local distribution stopped');
  };
}
