// Finding an account's clients in Keycloak: by clientId (with the internal id kept, since ids
// never change), or the whole account by its marker. Never another account's client, never one
// the service does not manage.
import type { ClientRepresentation, ClientsGateway } from '../keycloak/clients-gateway.js';
import { isNotFound } from '../keycloak/errors.js';
import { createTtlCache } from '../lib/cache.js';
import { notFound } from './errors.js';
import { ACCOUNT_ATTRIBUTE, hasAccountPrefix, isManagedBy } from './ownership.js';

export interface Loaded {
  id: string;
  rep: ClientRepresentation;
}

export function createDirectory(gateway: ClientsGateway) {
  /** Keycloak's internal id per clientId, and the account it belongs to. */
  const ids = createTtlCache<string, { id: string; accountId: string }>({ max: 10_000 });

  /** The account's client in full, or not-found. */
  async function load(accountId: string, clientId: string): Promise<Loaded> {
    if (!hasAccountPrefix(clientId, accountId)) throw notFound(accountId, clientId);
    const rep = await gateway.findByClientId(clientId);
    if (!rep?.id || !isManagedBy(rep, accountId)) throw notFound(accountId, clientId);
    ids.set(clientId, { id: rep.id, accountId });
    return { id: rep.id, rep };
  }

  /** The internal id of the account's client, from the cache when it can. */
  async function resolveId(accountId: string, clientId: string): Promise<string> {
    if (!hasAccountPrefix(clientId, accountId)) throw notFound(accountId, clientId);
    const hit = ids.peek(clientId);
    if (hit && hit.accountId === accountId) return hit.id;
    return (await load(accountId, clientId)).id;
  }

  return {
    load,
    remember: (clientId: string, id: string, accountId: string) => ids.set(clientId, { id, accountId }),
    forget: (clientId: string) => ids.delete(clientId),

    /** Runs an operation on a cached id; when Keycloak no longer knows that id, looks it up once more. */
    async withId<T>(accountId: string, clientId: string, run: (id: string) => Promise<T>): Promise<T> {
      const id = await resolveId(accountId, clientId);
      try {
        return await run(id);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        ids.delete(clientId);
        return run((await load(accountId, clientId)).id);
      }
    },

    /** Every client of the account: one indexed query. */
    async accountClients(accountId: string): Promise<ClientRepresentation[]> {
      const reps = await gateway.listByAttribute(ACCOUNT_ATTRIBUTE, accountId);
      return reps.filter((rep) => isManagedBy(rep, accountId));
    },
  };
}

export type Directory = ReturnType<typeof createDirectory>;
