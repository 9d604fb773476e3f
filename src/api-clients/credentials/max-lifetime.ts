// Each account's maximum secret lifetime (SPEC §4 Expiry): the configured default, or the account's
// own, kept in Keycloak beside the account's limit of clients (consistency/limits.ts) as the client
// role `secret-lifetime.<account>` (attribute maxSecretLifetimeDays) of the service's own client.
import { isConflict, isNotFound } from '../../keycloak/errors.js';
import { createTtlCache } from '../../lib/cache.js';
import type { ServiceClientRoles } from '../consistency/service-client.js';

const lifetimeRole = (accountId: string) => `secret-lifetime.${accountId}`;

export interface MaxLifetimeOptions {
  /** null: no maximum unless an account has its own. */
  defaultMaxSecretLifetimeDays: number | null;
  /** How long a replica keeps an account's maximum (the limit's TTL). */
  cacheTtlMs?: number;
}

export function createMaxLifetimes(roles: ServiceClientRoles, options: MaxLifetimeOptions) {
  /** 0 stands for "no maximum" in the cache, which holds no null. */
  async function read(accountId: string): Promise<number> {
    const role = await roles.find('secret-lifetime.get', lifetimeRole(accountId));
    const value = Number(role?.attributes?.maxSecretLifetimeDays?.[0]);
    return role && Number.isInteger(value) && value > 0 ? value : (options.defaultMaxSecretLifetimeDays ?? 0);
  }
  const cache = createTtlCache<string, number>({ ttlMs: options.cacheTtlMs ?? 10_000, load: read });

  return {
    of: async (accountId: string): Promise<number | null> => (await cache.get(accountId)) || null,

    /** Sets the account's own maximum, or (null) returns it to the default. */
    async set(accountId: string, days: number | null): Promise<number | null> {
      cache.delete(accountId);
      try {
        const name = lifetimeRole(accountId);
        if (days === null) {
          await roles.delete('secret-lifetime.delete', name).catch((error) => {
            if (!isNotFound(error)) throw error;
          });
          return options.defaultMaxSecretLifetimeDays;
        }
        const role = {
          name,
          description: `API Clients service: maximum secret lifetime (days) of account ${accountId}`,
          attributes: { maxSecretLifetimeDays: [String(days)] },
        };
        try {
          await roles.create('secret-lifetime.create', role);
        } catch (error) {
          if (!isConflict(error)) throw error;
          await roles.update('secret-lifetime.update', name, role);
        }
        return days;
      } finally {
        cache.delete(accountId);
      }
    },
  };
}

export type MaxLifetimes = ReturnType<typeof createMaxLifetimes>;
