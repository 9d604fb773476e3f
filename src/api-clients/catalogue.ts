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
}

/** The realm's default and optional client scopes, by name, catalogue ones included. */
export interface RealmDefaults {
  defaults: string[];
  optional: string[];
}

export const scopeIdOf = (catalogue: Catalogue, name: string): string => {
  const scope = catalogue.scopes.find((candidate) => candidate.name === name);
  if (!scope) throw new Error(`${name} is not in the scope catalogue`);
  return scope.id;
};

export function createCatalogue(gateway: ClientsGateway, ttlMs = 60_000) {
  const names = (list: { name?: string }[]) =>
    list.map((scope) => scope.name).filter((n): n is string => !!n);
  const cache = createTtlCache<'scopes' | 'realm-defaults', CatalogueScope[] | RealmDefaults>({
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
      return (await gateway.listClientScopes())
        .filter((scope) => scope.attributes?.[CATALOGUE_ATTRIBUTE] === 'true' && scope.id && scope.name)
        .map((scope) => ({
          id: scope.id as string,
          name: scope.name as string,
          description: scope.description ?? '',
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
    },
  });
  return {
    /** The catalogue: one call when cold. Load it once per operation and pass it down. */
    async load(): Promise<Catalogue> {
      const scopes = (await cache.get('scopes')) as CatalogueScope[];
      return { scopes, names: scopes.map((scope) => scope.name) };
    },
    /** The realm's own default scopes, which a create must send along (two calls when cold). */
    realmDefaults: async (): Promise<RealmDefaults> => (await cache.get('realm-defaults')) as RealmDefaults,
  };
}

export type CatalogueReader = ReturnType<typeof createCatalogue>;
