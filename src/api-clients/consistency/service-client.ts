// The service's own Keycloak client, whose client roles hold the per-account limits and locks:
// Keycloak keeps a client's role names unique, and they need no database of the service's own.
import type { ClientsGateway, RoleRepresentation } from '../../keycloak/clients-gateway.js';
import { createTtlCache } from '../../lib/cache.js';

export function createServiceClientRoles(gateway: ClientsGateway, serviceClientId: string) {
  // Internal ids never change: looked up once (a day's TTL only bounds a realm that was rebuilt).
  const uuid = createTtlCache<'id', string>({
    ttlMs: 24 * 3600_000,
    max: 1,
    load: async () => {
      const client = await gateway.findByClientId(serviceClientId);
      if (!client?.id) throw new Error(`the service's own client ${serviceClientId} is not in the realm`);
      return client.id;
    },
  });
  const id = () => uuid.get('id');
  return {
    /** The resource path of one of its roles in Keycloak's admin events. */
    rolePath: async (name: string) => `clients/${await id()}/roles/${name}`,
    find: async (operation: string, name: string) => gateway.findRole(operation, await id(), name),
    create: async (operation: string, role: RoleRepresentation) =>
      gateway.createRole(operation, await id(), role),
    update: async (operation: string, name: string, role: RoleRepresentation) =>
      gateway.updateRole(operation, await id(), name, role),
    delete: async (operation: string, name: string) => gateway.deleteRole(operation, await id(), name),
    deleteById: (operation: string, roleId: string) => gateway.deleteRoleById(operation, roleId),
  };
}

export type ServiceClientRoles = ReturnType<typeof createServiceClientRoles>;
