// The catalogues: the realm's client scopes and realm roles marked for API clients, with their
// descriptions, and the realm's own default scopes, which every managed client keeps. Read from
// Keycloak, kept briefly, and loaded once per operation.
import type { ClientsGateway, RoleRepresentation } from '../../keycloak/clients-gateway.js';
import { createTtlCache } from '../../lib/cache.js';

/** Marks a realm client scope, or a realm role, as part of the catalogue API clients may get. */
export const CATALOGUE_ATTRIBUTE = 'api-clients.catalogue';
/** Keycloak's built-in role behind offline tokens: never a catalogue role, whatever its attributes say. */
const OFFLINE_ACCESS_ROLE = 'offline_access';

export interface CatalogueScope {
  id: string;
  name: string;
  description: string;
}

/** A realm role an API client may hold; `id` is what Keycloak's role-mapping calls need. */
export interface CatalogueRole {
  id: string;
  name: string;
  description: string;
}

export interface Catalogue {
  /** In name order. */
  scopes: CatalogueScope[];
  names: string[];
  /**
   * Every client scope of the realm, by name: a scope taken out of the catalogue stays on the
   * clients that have it, and removing it needs its id.
   */
  ids: ReadonlyMap<string, string>;
  /** The role catalogue, in name order. */
  roles: CatalogueRole[];
}

/** The realm's default and optional client scopes, by name, catalogue ones included. */
export interface RealmDefaults {
  defaults: string[];
  optional: string[];
}

export const scopeIdOf = (catalogue: Catalogue, name: string): string => {
  const id = catalogue.ids.get(name);
  if (!id) throw new Error(`${name} is not a client scope of the realm`);
  return id;
};

interface RealmScopes {
  catalogue: CatalogueScope[];
  ids: Map<string, string>;
}

export const roleOf = (catalogue: Catalogue, name: string): CatalogueRole | undefined =>
  catalogue.roles.find((role) => role.name === name);

const isMarked = (attributes: Record<string, unknown> | undefined): boolean => {
  const value = attributes?.[CATALOGUE_ATTRIBUTE];
  return value === 'true' || (Array.isArray(value) && value[0] === 'true');
};

/**
 * The realm roles marked for the catalogue. A composite role is left out even when marked: a
 * client's role scope takes in a composite's members, so it would carry roles the catalogue
 * does not name (Keycloak's TokenManager expands scope mappings the same way as user roles).
 */
function catalogueRoles(roles: RoleRepresentation[]): CatalogueRole[] {
  return roles
    .filter(
      (role) => isMarked(role.attributes) && !role.composite && !role.clientRole && role.id && role.name,
    )
    .filter((role) => role.name !== OFFLINE_ACCESS_ROLE)
    .map((role) => ({
      id: role.id as string,
      name: role.name as string,
      description: role.description ?? '',
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

type Entry = RealmScopes | CatalogueRole[] | RealmDefaults;

export function createCatalogue(gateway: ClientsGateway, ttlMs = 60_000) {
  const names = (list: { name?: string }[]) =>
    list.map((scope) => scope.name).filter((n): n is string => !!n);
  const cache = createTtlCache<'scopes' | 'roles' | 'realm-defaults', Entry>({
    ttlMs,
    max: 3,
    load: async (key) => {
      if (key === 'roles') return catalogueRoles(await gateway.listRealmRoles());
      if (key === 'realm-defaults') {
        const [defaults, optional] = await Promise.all([
          gateway.listRealmDefaultScopes(),
          gateway.listRealmOptionalScopes(),
        ]);
        return { defaults: names(defaults), optional: names(optional) };
      }
      const all = (await gateway.listClientScopes()).filter((scope) => scope.id && scope.name);
      const catalogue = all
        .filter((scope) => isMarked(scope.attributes))
        .map((scope) => ({
          id: scope.id as string,
          name: scope.name as string,
          description: scope.description ?? '',
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
      return { catalogue, ids: new Map(all.map((scope) => [scope.name as string, scope.id as string])) };
    },
  });
  return {
    /** The catalogues: two calls when cold. Load them once per operation and pass them down. */
    async load(): Promise<Catalogue> {
      const [{ catalogue: scopes, ids }, roles] = (await Promise.all([
        cache.get('scopes'),
        cache.get('roles'),
      ])) as [RealmScopes, CatalogueRole[]];
      return { scopes, names: scopes.map((scope) => scope.name), ids, roles };
    },
    /** The realm's own default scopes, which a create must send along (two calls when cold). */
    realmDefaults: async (): Promise<RealmDefaults> => (await cache.get('realm-defaults')) as RealmDefaults,
  };
}

export type CatalogueReader = ReturnType<typeof createCatalogue>;
