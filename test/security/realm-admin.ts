// A Keycloak realm admin for the tests that need more than the service's own client can do:
// Keycloak's example tokens (they read users), and realms the service did not create. It is the
// bootstrap admin of the master realm that the local distribution and testcontainers start with
// (KEYCLOAK_ADMIN_USERNAME / KEYCLOAK_ADMIN_PASSWORD for a Keycloak found by KEYCLOAK_URL).
import KeycloakAdminClient from '@keycloak/keycloak-admin-client';
import { bootstrapAdmin } from '../../scripts/lib/keycloak-local.js';
import { keycloakUrl } from '../support/keycloak.js';

export const masterAdminCredentials = {
  username: process.env.KEYCLOAK_ADMIN_USERNAME ?? bootstrapAdmin.username,
  password: process.env.KEYCLOAK_ADMIN_PASSWORD ?? bootstrapAdmin.password,
};

/** An admin client logged in to the master realm, working on `realm`. */
export async function masterAdmin(realm = 'platform'): Promise<KeycloakAdminClient> {
  const kc = new KeycloakAdminClient({ baseUrl: keycloakUrl(), realmName: 'master' });
  await kc.auth({ grantType: 'password', clientId: 'admin-cli', ...masterAdminCredentials });
  kc.setConfig({ realmName: realm });
  return kc;
}

/** The access token Keycloak would issue to this user through this client (admin "evaluate scopes"). */
export async function exampleAccessToken(
  kc: KeycloakAdminClient,
  clientUuid: string,
  userId: string,
  scope = 'openid offline_access',
): Promise<Record<string, unknown>> {
  const url = new URL(
    `${keycloakUrl()}/admin/realms/${kc.realmName}/clients/${clientUuid}/evaluate-scopes/generate-example-access-token`,
  );
  url.searchParams.set('scope', scope);
  url.searchParams.set('userId', userId);
  const response = await fetch(url, { headers: { authorization: `Bearer ${await kc.getAccessToken()}` } });
  if (!response.ok) throw new Error(`example token: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}
