// A client's roles in Keycloak (SPEC §2 `roles`): the realm roles in its role scope (scope
// mappings), which bound every token issued to or through it (fullScopeAllowed is false), and for
// a Script client the same roles mapped to its service-account user, so that its own
// client-credentials token carries them. Only catalogue roles are ever added, whatever the caller
// sent and whatever the service's Keycloak account would allow: this file checks it again.
import type { ClientsGateway, RoleMapping, RoleRepresentation } from '../../keycloak/clients-gateway.js';
import { type Catalogue, roleOf } from './catalogue.js';

/** Steps that put back what was done, run last to first. */
export type UndoSteps = (() => Promise<void>)[];

export interface RoleChange {
  /** The client's role scope as read before the change (ids of roles outside the catalogue too). */
  held: readonly RoleRepresentation[];
  roles: readonly string[];
  /** Whether the client is a Script client after the change (it has a service-account user). */
  script: boolean;
  /** Whether it was one before (a new service account starts with no catalogue role). */
  wasScript: boolean;
}

const asMapping = (role: RoleRepresentation): RoleMapping => ({
  id: role.id as string,
  name: role.name as string,
});

/** The catalogue role of this name, as a mapping; throws for any other name (never granted). */
function catalogueMapping(catalogue: Catalogue, name: string): RoleMapping {
  const role = roleOf(catalogue, name);
  if (!role) throw new Error(`refusing to grant ${name}: it is not in the role catalogue`);
  return { id: role.id, name: role.name };
}

export function createRoleAssignment(gateway: ClientsGateway) {
  /**
   * Gives a Script client's service-account user the roles added to its role scope (all of its
   * catalogue roles when it has just become a Script client) and takes away the removed ones. The
   * service may not read users (no view-users), so it writes without reading: Keycloak ignores a
   * role mapped twice and the removal of a role that is not mapped.
   */
  async function syncServiceAccount(
    clientUuid: string,
    { add, remove }: { add: RoleMapping[]; remove: RoleMapping[] },
    undo: UndoSteps,
  ): Promise<void> {
    if (add.length === 0 && remove.length === 0) return;
    const userId = await gateway.serviceAccountUserId(clientUuid);
    if (add.length > 0) {
      await gateway.addUserRealmRoles(userId, add);
      undo.push(() => gateway.removeUserRealmRoles(userId, add));
    }
    if (remove.length > 0) {
      await gateway.removeUserRealmRoles(userId, remove);
      undo.push(() => gateway.addUserRealmRoles(userId, remove));
    }
  }

  return {
    /** The client's role scope: one call. */
    read: (clientUuid: string): Promise<RoleRepresentation[]> => gateway.listRoleScope(clientUuid),

    /**
     * Brings the client's role scope, and a Script client's service account, to `change.roles`.
     * Each step done pushes its undo onto `undo` before the next starts.
     */
    async apply(
      clientUuid: string,
      change: RoleChange,
      catalogue: Catalogue,
      undo: UndoSteps,
    ): Promise<void> {
      const heldNames = change.held.map((role) => role.name);
      const add = change.roles
        .filter((name) => !heldNames.includes(name))
        .map((name) => catalogueMapping(catalogue, name));
      const remove = change.held
        .filter((role) => role.name && !change.roles.includes(role.name))
        .map(asMapping);
      if (add.length > 0) {
        await gateway.addToRoleScope(clientUuid, add);
        undo.push(() => gateway.removeFromRoleScope(clientUuid, add));
      }
      if (remove.length > 0) {
        await gateway.removeFromRoleScope(clientUuid, remove);
        undo.push(() => gateway.addToRoleScope(clientUuid, remove));
      }
      if (!change.script) return;
      // A new service account holds no catalogue role yet: it gets every one the client keeps.
      const accountAdd = change.wasScript
        ? add
        : change.roles
            .filter((name) => roleOf(catalogue, name))
            .map((name) => catalogueMapping(catalogue, name));
      await syncServiceAccount(clientUuid, { add: accountAdd, remove: change.wasScript ? remove : [] }, undo);
    },
  };
}

export type RoleAssignment = ReturnType<typeof createRoleAssignment>;
