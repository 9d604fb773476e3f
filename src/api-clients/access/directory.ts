// Finding an account's clients in Keycloak: by clientId (with the internal id kept, since ids
// never change), or the whole account by its marker. Never another account's client, never one
// the service does not manage. Also each client's role scope, kept briefly for reads.
import type {
  ClientRepresentation,
  ClientsGateway,
  RoleRepresentation,
} from '../../keycloak/clients-gateway.js';
import { isNotFound } from '../../keycloak/errors.js';
import { createTtlCache } from '../../lib/cache.js';
import { notFound } from '../errors.js';
import { ACCOUNT_ATTRIBUTE, hasAccountPrefix, isManagedBy } from './ownership.js';

export interface Loaded {
  id: string;
  rep: ClientRepresentation;
}

export interface DirectoryOptions {
  /**
   * How long a replica keeps a client's role scope for gets and lists; 0 reads it every time.
   * Keyed by Keycloak's internal id, which is never reused: a client deleted and created again
   * under the same clientId is another key. Writes read it fresh and drop what this replica kept.
   */
  roleScopeTtlMs?: number;
}

/** How long a role scope is kept by default: as long as the limit and the recent events. */
export const ROLE_SCOPE_TTL_MS = 10_000;

export function createDirectory(gateway: ClientsGateway, options: DirectoryOptions = {}) {
  /** Keycloak's internal id per clientId, and the account it belongs to. */
  const ids = createTtlCache<string, { id: string; accountId: string }>({ max: 10_000 });
  const roleScopes = createTtlCache<string, RoleRepresentation[]>({
    ttlMs: options.roleScopeTtlMs ?? ROLE_SCOPE_TTL_MS,
    max: 10_000,
    load: (id) => gateway.listRoleScope(id),
  });

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

    /** The realm roles in the client's role scope: kept briefly, or (fresh) read now and kept. */
    async roleScope(id: string, { fresh = false }: { fresh?: boolean } = {}): Promise<RoleRepresentation[]> {
      if (!fresh) return roleScopes.get(id);
      const held = await gateway.listRoleScope(id);
      roleScopes.set(id, held);
      return held;
    },
    /** After a write of the client's roles (or its removal) on this replica. */
    forgetRoleScope: (id: string) => roleScopes.delete(id),

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
