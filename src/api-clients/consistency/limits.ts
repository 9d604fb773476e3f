// Each account's limits: how many API clients it may hold, and how long a secret of its clients
// may live (SPEC §4 Limit, Expiry). Each is the configured default or the account's own, kept in
// Keycloak as attributes (maxApiClients, maxSecretLifetimeDays) of one client role
// `limit.<account>` of the service's own client: one read, kept per replica, serves both a
// create's rules (the lifetime) and its limit check.
// Each change writes the role with a change record (activity/history.ts): the role's admin events
// are the account's limit history. An account back to both defaults keeps the role with no limit
// of its own (a delete's admin event could not carry who did it).
import { isConflict } from '../../keycloak/errors.js';
import { createTtlCache } from '../../lib/cache.js';
import { type Actor, CHANGE_ATTRIBUTE, changeRecord } from '../activity/history.js';
import type { ServiceClientRoles } from './service-client.js';

export const limitRole = (accountId: string) => `limit.${accountId}`;

export interface LimitOptions {
  defaultMaxApiClients: number;
  /** null: no maximum secret lifetime unless an account has its own. */
  defaultMaxSecretLifetimeDays?: number | null;
  /**
   * How long a replica keeps an account's limits; 0 reads them from Keycloak every time. Looking
   * up an account with no limits of its own is a miss in Keycloak, which turned out costly next to
   * the account query on a large realm (docs/performance.md). A change made here is seen here at
   * once, on other replicas within the TTL.
   */
  cacheTtlMs?: number;
}

export interface AccountLimits {
  maxApiClients: number;
  maxSecretLifetimeDays: number | null;
}

/** What a change asks for, per limit: a number sets the account's own, null returns to the default, absent keeps it. */
export interface LimitsChange {
  maxApiClients?: number | null;
  maxSecretLifetimeDays?: number | null;
}

type Attributes = Record<string, string[]>;

/** The account's own value of a limit, when its role holds a valid one (a limit of 0 clients is one; a lifetime of 0 days is not). */
const ownValue = (attributes: Attributes | undefined, name: keyof AccountLimits): number | undefined => {
  const text = attributes?.[name]?.[0];
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return name === 'maxSecretLifetimeDays' && value === 0 ? undefined : value;
};

export function createLimits(roles: ServiceClientRoles, options: LimitOptions) {
  const defaults: AccountLimits = {
    maxApiClients: options.defaultMaxApiClients,
    maxSecretLifetimeDays: options.defaultMaxSecretLifetimeDays ?? null,
  };

  async function readOwn(accountId: string): Promise<Attributes | undefined> {
    return (await roles.find('limits.get', limitRole(accountId)))?.attributes as Attributes | undefined;
  }
  const withDefaults = (attributes: Attributes | undefined): AccountLimits => ({
    maxApiClients: ownValue(attributes, 'maxApiClients') ?? defaults.maxApiClients,
    maxSecretLifetimeDays: ownValue(attributes, 'maxSecretLifetimeDays') ?? defaults.maxSecretLifetimeDays,
  });
  const cache = createTtlCache<string, AccountLimits>({
    ttlMs: options.cacheTtlMs ?? 10_000,
    load: async (accountId) => withDefaults(await readOwn(accountId)),
  });

  return {
    of: (accountId: string): Promise<AccountLimits> => cache.get(accountId),

    maxFor: async (accountId: string): Promise<number> => (await cache.get(accountId)).maxApiClients,

    maxSecretLifetimeOf: async (accountId: string): Promise<number | null> =>
      (await cache.get(accountId)).maxSecretLifetimeDays,

    /** The limit as Keycloak holds it now (a create checks it under the lock: a change on another replica counts at once). */
    async current(accountId: string): Promise<number> {
      const limits = withDefaults(await readOwn(accountId));
      cache.set(accountId, limits);
      return limits.maxApiClients;
    },

    /**
     * Applies a change over what Keycloak holds now, recorded as `actor`'s change (the names of
     * the limits it sets). Platform admins change limits rarely: two changes of one account at
     * the same moment on two replicas may keep only the later one's attributes.
     */
    async set(accountId: string, change: LimitsChange, actor: Actor): Promise<AccountLimits> {
      cache.delete(accountId);
      try {
        const name = limitRole(accountId);
        const own = { ...(await readOwn(accountId)) };
        const names = (['maxApiClients', 'maxSecretLifetimeDays'] as const).filter(
          (key) => change[key] !== undefined,
        );
        for (const key of names) {
          const value = change[key];
          if (value === null) delete own[key];
          else if (value !== undefined) own[key] = [String(value)];
        }
        const record = changeRecord('limit-changed', accountId, null, actor, [...names]);
        own[CHANGE_ATTRIBUTE] = [JSON.stringify(record)];
        const role = {
          name,
          description: `API Clients service: limits of account ${accountId}`,
          attributes: own,
        };
        try {
          await roles.create('limits.create', role);
        } catch (error) {
          if (!isConflict(error)) throw error;
          await roles.update('limits.update', name, role);
        }
        return withDefaults(own);
      } finally {
        cache.delete(accountId);
      }
    },
  };
}

export type Limits = ReturnType<typeof createLimits>;
