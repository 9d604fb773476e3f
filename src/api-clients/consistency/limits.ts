// Each account's limit of API clients: the configured default, or the account's own override,
// kept in Keycloak as the client role `limit.<account>` (attribute maxApiClients) of the
// service's own client. Each change writes the role with a change record (activity/history.ts): the
// role's admin events are the account's limit history. Back to the default keeps the role without
// maxApiClients (a delete's admin event could not carry who did it).
import { isConflict } from '../../keycloak/errors.js';
import { createTtlCache } from '../../lib/cache.js';
import { type Actor, CHANGE_ATTRIBUTE, changeRecord } from '../activity/history.js';
import type { ServiceClientRoles } from './service-client.js';

export const limitRole = (accountId: string) => `limit.${accountId}`;

export interface LimitOptions {
  defaultMaxApiClients: number;
  /**
   * How long a replica keeps an account's limit; 0 reads it from Keycloak every time. Looking up
   * an account with no limit of its own is a miss in Keycloak, which turned out costly next to the
   * account query on a large realm (docs/performance.md). A change made here is seen here at once,
   * on other replicas within the TTL.
   */
  cacheTtlMs?: number;
}

export function createLimits(roles: ServiceClientRoles, options: LimitOptions) {
  async function read(accountId: string): Promise<number> {
    const role = await roles.find('limits.get', limitRole(accountId));
    const value = Number(role?.attributes?.maxApiClients?.[0]);
    return role && Number.isInteger(value) ? value : options.defaultMaxApiClients;
  }
  const cache = createTtlCache<string, number>({ ttlMs: options.cacheTtlMs ?? 10_000, load: read });

  return {
    maxFor: (accountId: string): Promise<number> => cache.get(accountId),

    /** The limit as Keycloak holds it now (a create checks it under the lock: a change on another replica counts at once). */
    async current(accountId: string): Promise<number> {
      const max = await read(accountId);
      cache.set(accountId, max);
      return max;
    },

    /** Sets the account's own limit, or (null) returns it to the default; recorded as `actor`'s change. */
    async set(accountId: string, maxApiClients: number | null, actor: Actor): Promise<number> {
      cache.delete(accountId);
      try {
        const name = limitRole(accountId);
        const record = changeRecord('limit-changed', accountId, null, actor, ['maxApiClients']);
        const role = {
          name,
          description: `API Clients service: maximum number of API clients of account ${accountId}`,
          attributes: {
            ...(maxApiClients === null ? {} : { maxApiClients: [String(maxApiClients)] }),
            [CHANGE_ATTRIBUTE]: [JSON.stringify(record)],
          },
        };
        try {
          await roles.create('limits.create', role);
        } catch (error) {
          if (!isConflict(error)) throw error;
          await roles.update('limits.update', name, role);
        }
        return maxApiClients ?? options.defaultMaxApiClients;
      } finally {
        cache.delete(accountId);
      }
    },
  };
}

export type Limits = ReturnType<typeof createLimits>;
