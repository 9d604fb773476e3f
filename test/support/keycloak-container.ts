// The Docker path of the test setup: the pinned Keycloak image with the same realm import and
// the same server options (keycloak/keycloak.conf) and the same providers (keycloak/providers/,
// built with Maven: the realm's browser flow needs them) as the local distribution and compose.
import { GenericContainer, getContainerRuntimeClient, Wait } from 'testcontainers';
import { realmFile, serverConfFile } from '../../scripts/lib/keycloak-local.js';
import { ensureProviderJars } from '../../scripts/lib/keycloak-providers.js';

export async function dockerAvailable(): Promise<boolean> {
  try {
    const probe = getContainerRuntimeClient();
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('timeout')), 5000).unref(),
    );
    await Promise.race([probe, timeout]);
    return true;
  } catch {
    return false;
  }
}

export async function startKeycloakContainer(
  version: string,
): Promise<{ url: string; stop(): Promise<void> }> {
  const container = await new GenericContainer(`quay.io/keycloak/keycloak:${version}`)
    .withCopyFilesToContainer([
      { source: realmFile, target: '/opt/keycloak/data/import/realm-platform.json' },
      { source: serverConfFile, target: '/opt/keycloak/conf/keycloak.conf' },
      ...ensureProviderJars().map((jar) => ({
        source: jar.path,
        target: `/opt/keycloak/providers/${jar.fileName}`,
      })),
    ])
    .withEnvironment({ KC_BOOTSTRAP_ADMIN_USERNAME: 'admin', KC_BOOTSTRAP_ADMIN_PASSWORD: 'admin' })
    .withCommand(['start-dev', '--import-realm'])
    .withExposedPorts(8080, 9000)
    .withWaitStrategy(Wait.forHttp('/health/ready', 9000).forStatusCode(200))
    .withStartupTimeout(180_000)
    .start();
  const url = `http://${container.getHost()}:${container.getMappedPort(8080)}`;
  return {
    url,
    stop: async () => {
      await container.stop();
    },
  };
}
