// What Keycloak itself holds for a client's roles, read with the master realm's admin.
import { masterAdmin } from '../../security/realm-admin.js';
import { keycloakClient } from '../../support/keycloak.js';

/** A client's role scope and, for a Script client, its service account's realm roles, sorted. */
export async function keycloakRoles(clientId: string) {
  const kc = await masterAdmin();
  const rep = await keycloakClient(clientId);
  if (!rep) return undefined;
  const scope = (await kc.clients.listRealmScopeMappings({ id: rep.id })).map((r) => r.name).sort();
  const account = rep.serviceAccountsEnabled
    ? await kc.clients.getServiceAccountUser({ id: rep.id })
    : undefined;
  const accountRoles = account?.id
    ? (await kc.users.listRealmRoleMappings({ id: account.id })).map((r) => r.name).sort()
    : [];
  return { scope, accountRoles };
}
