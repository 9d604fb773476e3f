// The scope catalogue: the realm's client scopes marked for API clients, with their descriptions,
// and the realm's own default scopes, which every managed client keeps. Read from Keycloak, kept
// briefly, and loaded once per operation.
import type { ClientsGateway } from '../keycloak/clients-gateway.js';
import { createTtlCache } from '../lib/cache.js';

/** Marks a realm client scope as part of the catalogue API clients may get. */
export const CATALOGUE_ATTRIBUTE = 'api-clients.catalogue';

export interface CatalogueScope {
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

export function createCatalogue(gateway: ClientsGateway, ttlMs = 60_000) {
  const names = (list: { name?: string }[]) =>
    list.map((scope) => scope.name).filter((n): n is string => !!n);
  const cache = createTtlCache<'scopes' | 'realm-defaults', RealmScopes | RealmDefaults>({
    ttlMs,
    max: 2,
    load: async (key) => {
      if (key === 'realm-defaults') {
        const [defaults, optional] = await Promise.all([
          gateway.listRealmDefaultScopes(),
          gateway.listRealmOptionalScopes(),
        ]);
        return { defaults: names(defaults), optional: names(optional) };
      }
      const all = (await gateway.listClientScopes()).filter((scope) => scope.id && scope.name);
      const catalogue = all
        .filter((scope) => scope.attributes?.[CATALOGUE_ATTRIBUTE] === 'true')
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
    /** The catalogue: one call when cold. Load it once per operation and pass it down. */
    async load(): Promise<Catalogue> {
      const { catalogue: scopes, ids } = (await cache.get('scopes')) as RealmScopes;
      return { scopes, names: scopes.map((scope) => scope.name), ids };
    },
    /** The realm's own default scopes, which a create must send along (two calls when cold). */
    realmDefaults: async (): Promise<RealmDefaults> => (await cache.get('realm-defaults')) as RealmDefaults,
  };
}

export type CatalogueReader = ReturnType<typeof createCatalogue>;
