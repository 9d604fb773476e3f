// Every Keycloak admin API call the service makes, one row each, named for metrics. No policy
// here: locks, limits, the catalogue and ownership are the domain's (src/api-clients/).
import type AdminEventRepresentation from '@keycloak/keycloak-admin-client/lib/defs/adminEventRepresentation.js';
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import type ClientScopeRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientScopeRepresentation.js';
import type EventRepresentation from '@keycloak/keycloak-admin-client/lib/defs/eventRepresentation.js';
import type EventType from '@keycloak/keycloak-admin-client/lib/defs/eventTypes.js';
import type IdentityProviderRepresentation from '@keycloak/keycloak-admin-client/lib/defs/identityProviderRepresentation.js';
import type RoleRepresentation from '@keycloak/keycloak-admin-client/lib/defs/roleRepresentation.js';
import type { KeycloakAdmin } from './admin.js';
import { KeycloakUnavailableError } from './errors.js';

export type {
  AdminEventRepresentation,
  ClientRepresentation,
  ClientScopeRepresentation,
  EventRepresentation,
  EventType,
  IdentityProviderRepresentation,
  RoleRepresentation,
};

/** A realm role as Keycloak's mapping calls take it: both id and name (it checks that they agree). */
export interface RoleMapping {
  id: string;
  name: string;
}

export type ClientsGateway = ReturnType<typeof createClientsGateway>;

const secretOf = (credential: { value?: string } | undefined): string => {
  if (!credential?.value) throw new KeycloakUnavailableError('Keycloak answered no secret');
  return credential.value;
};

export function createClientsGateway({ call }: KeycloakAdmin) {
  return {
    /** The client with exactly this clientId, in full, or undefined. One call. */
    async findByClientId(clientId: string): Promise<ClientRepresentation | undefined> {
      const found = await call('clients.find-by-client-id', (kc) =>
        kc.clients.find({ clientId, first: 0, max: 1 }),
      );
      return found.find((client) => client.clientId === clientId);
    },
    /** Clients whose searchable attribute has this value: one indexed query, not a realm scan. */
    listByAttribute: (name: string, value: string): Promise<ClientRepresentation[]> =>
      call('clients.list-by-account', (kc) => kc.clients.find({ q: `${name}:${value}` })),
    /** One page of the clients whose searchable attribute has this value, in clientId order. */
    pageByAttribute: (
      name: string,
      value: string,
      first: number,
      max: number,
    ): Promise<ClientRepresentation[]> =>
      call('clients.page-by-attribute', (kc) => kc.clients.find({ q: `${name}:${value}`, first, max })),
    /** Creates the client and answers its internal id (from the Location header). */
    create: async (rep: ClientRepresentation): Promise<string> =>
      (await call('clients.create', (kc) => kc.clients.create(rep))).id,
    update: (id: string, rep: ClientRepresentation): Promise<void> =>
      call('clients.update', (kc) => kc.clients.update({ id }, rep)),
    remove: (id: string): Promise<void> => call('clients.delete', (kc) => kc.clients.del({ id })),
    getSecret: async (id: string): Promise<string> =>
      secretOf(await call('clients.get-secret', (kc) => kc.clients.getClientSecret({ id }))),
    regenerateSecret: async (id: string): Promise<string> =>
      secretOf(await call('clients.regenerate-secret', (kc) => kc.clients.generateNewClientSecret({ id }))),
    /** Rotated-out secret (client-secret-rotation): Keycloak stops accepting it at once. 204 also when there is none. */
    endRotatedSecret: (id: string): Promise<void> =>
      call('clients.end-rotated-secret', (kc) => kc.clients.invalidateSecret({ id })),
    /** The newest events of these types, of one client or (clientId undefined) of the realm; newest first. */
    findEvents: (query: {
      clientId?: string;
      types: EventType[];
      max: number;
      first?: number;
      sinceMs?: number;
      untilMs?: number;
    }) =>
      call(query.clientId ? 'events.find-by-client' : 'events.find-recent', (kc) =>
        kc.realms.findEvents({
          realm: kc.realmName,
          ...(query.clientId ? { client: query.clientId } : {}),
          type: query.types,
          max: query.max,
          ...(query.first ? { first: query.first } : {}),
          ...(query.sinceMs !== undefined ? { dateFrom: String(query.sinceMs) } : {}),
          ...(query.untilMs !== undefined ? { dateTo: String(query.untilMs) } : {}),
        }),
      ),
    /** The realm's login-event settings (eventsExpiration: how long Keycloak keeps them). */
    eventsConfig: () => call('events.config', (kc) => kc.realms.getConfigEvents({ realm: kc.realmName })),
    /**
     * Admin events, newest first, of a resource path (exact, or ending in *) or resource types, of
     * these operation types (each list sent as repeated parameters, as Keycloak reads them).
     */
    findAdminEvents: (query: {
      resourcePath?: string;
      resourceTypes?: string[];
      operationTypes: string[];
      first: number;
      max: number;
    }): Promise<AdminEventRepresentation[]> =>
      call(query.resourcePath ? 'admin-events.find-by-path' : 'admin-events.find-by-type', (kc) =>
        kc.realms.findAdminEvents({
          realm: kc.realmName,
          ...(query.resourcePath ? { resourcePath: query.resourcePath } : {}),
          // the admin client types these as one string; an array is sent as repeated parameters
          ...(query.resourceTypes ? { resourceTypes: query.resourceTypes as unknown as string } : {}),
          operationTypes: query.operationTypes as unknown as string,
          first: query.first,
          max: query.max,
        }),
      ),
    addDefaultScope: (id: string, clientScopeId: string): Promise<void> =>
      call('clients.add-default-scope', (kc) => kc.clients.addDefaultClientScope({ id, clientScopeId })),
    removeDefaultScope: (id: string, clientScopeId: string): Promise<void> =>
      call('clients.remove-default-scope', (kc) => kc.clients.delDefaultClientScope({ id, clientScopeId })),

    listDefaultScopes: (id: string): Promise<ClientScopeRepresentation[]> =>
      call('clients.list-default-scopes', (kc) => kc.clients.listDefaultClientScopes({ id })),
    listOptionalScopes: (id: string): Promise<ClientScopeRepresentation[]> =>
      call('clients.list-optional-scopes', (kc) => kc.clients.listOptionalClientScopes({ id })),
    removeOptionalScope: (id: string, clientScopeId: string): Promise<void> =>
      call('clients.remove-optional-scope', (kc) => kc.clients.delOptionalClientScope({ id, clientScopeId })),

    listClientScopes: (): Promise<ClientScopeRepresentation[]> =>
      call('client-scopes.list', (kc) => kc.clientScopes.find()),
    listRealmDefaultScopes: (): Promise<ClientScopeRepresentation[]> =>
      call('realm.default-scopes', (kc) => kc.clientScopes.listDefaultClientScopes()),
    listRealmOptionalScopes: (): Promise<ClientScopeRepresentation[]> =>
      call('realm.optional-scopes', (kc) => kc.clientScopes.listDefaultOptionalClientScopes()),

    /** The realm's own access-token lifespan in seconds (its representation's accessTokenLifespan). */
    realmAccessTokenLifespan: async (): Promise<number | undefined> =>
      (await call('realm.get', (kc) => kc.realms.findOne({ realm: kc.realmName })))?.accessTokenLifespan,

    /** The realm's roles with their attributes (the role catalogue is read from them). */
    listRealmRoles: (): Promise<RoleRepresentation[]> =>
      call('roles.list', (kc) => kc.roles.find({ briefRepresentation: false })),
    /** The realm roles in a client's role scope (its scope mappings). */
    listRoleScope: (id: string): Promise<RoleRepresentation[]> =>
      call('clients.list-role-scope', (kc) => kc.clients.listRealmScopeMappings({ id })),
    addToRoleScope: (id: string, roles: RoleMapping[]): Promise<void> =>
      call('clients.add-role-scope', (kc) => kc.clients.addRealmScopeMappings({ id }, roles)),
    removeFromRoleScope: (id: string, roles: RoleMapping[]): Promise<void> =>
      call('clients.remove-role-scope', (kc) => kc.clients.delRealmScopeMappings({ id }, roles)),
    /** The id of a client's service-account user. */
    serviceAccountUserId: async (id: string): Promise<string> => {
      const user = await call('clients.service-account-user', (kc) =>
        kc.clients.getServiceAccountUser({ id }),
      );
      if (!user?.id) throw new KeycloakUnavailableError('Keycloak answered no service-account user');
      return user.id;
    },
    listUserRealmRoles: (userId: string): Promise<RoleRepresentation[]> =>
      call('users.list-realm-roles', (kc) => kc.users.listRealmRoleMappings({ id: userId })),
    addUserRealmRoles: (userId: string, roles: RoleMapping[]): Promise<void> =>
      call('users.add-realm-roles', (kc) => kc.users.addRealmRoleMappings({ id: userId, roles })),
    removeUserRealmRoles: (userId: string, roles: RoleMapping[]): Promise<void> =>
      call('users.remove-realm-roles', (kc) => kc.users.delRealmRoleMappings({ id: userId, roles })),

    /** Roles of one client (by internal id); `operation` names the call for metrics (lock.acquire, limits.get, ...). */
    findRole: async (operation: string, id: string, roleName: string): Promise<RoleRepresentation | null> =>
      (await call(operation, (kc) => kc.clients.findRole({ id, roleName }))) as RoleRepresentation | null,
    createRole: async (operation: string, id: string, role: RoleRepresentation): Promise<void> => {
      await call(operation, (kc) => kc.clients.createRole({ id, ...role }));
    },
    updateRole: (operation: string, id: string, roleName: string, role: RoleRepresentation): Promise<void> =>
      call(operation, (kc) => kc.clients.updateRole({ id, roleName }, role)),
    deleteRole: (operation: string, id: string, roleName: string): Promise<void> =>
      call(operation, (kc) => kc.clients.delRole({ id, roleName })),
    deleteRoleById: (operation: string, roleId: string): Promise<void> =>
      call(operation, (kc) => kc.roles.delById({ id: roleId })),
    /** The identity provider with this alias, or undefined. */
    findIdentityProvider: (alias: string): Promise<IdentityProviderRepresentation | undefined> =>
      call('identity-providers.get', (kc) => kc.identityProviders.findOne({ alias })),
    /** Keycloak reads an OIDC discovery document (it calls `fromUrl`) and answers it as an identity provider's config. */
    discoverIdentityProvider: (fromUrl: string): Promise<Record<string, string>> =>
      call('identity-providers.import-config', (kc) =>
        kc.identityProviders.importFromUrl({ fromUrl, providerId: 'oidc' }),
      ),
    createIdentityProvider: async (rep: IdentityProviderRepresentation): Promise<void> => {
      await call('identity-providers.create', (kc) => kc.identityProviders.create(rep));
    },
    removeIdentityProvider: (alias: string): Promise<void> =>
      call('identity-providers.delete', (kc) => kc.identityProviders.del({ alias })),
  };
}
