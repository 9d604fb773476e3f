// Domain-level Keycloak operations for API clients: every admin API call the service makes for
// them goes through here, named (for metrics) and counted.

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import type RoleRepresentation from '@keycloak/keycloak-admin-client/lib/defs/roleRepresentation.js';
import type { KeycloakAdmin } from './admin.js';
import { isConflict, isNotFound, isUnavailable, KeycloakUnavailableError } from './errors.js';

/** Marks a realm client scope as part of the catalogue API clients may get. */
export const CATALOGUE_ATTRIBUTE = 'api-clients.catalogue';

export interface CatalogueScope {
  id: string;
  name: string;
  description: string;
}

export interface RealmDefaultScopes {
  defaults: string[];
  optional: string[];
}

export interface GatewayOptions {
  /** The service's own clientId: its roles hold the per-account locks and limits. */
  serviceClientId: string;
  /** How long catalogue and realm defaults are cached. */
  cacheTtlMs?: number;
  lockTtlMs?: number;
  lockWaitMs?: number;
}

export class LockTimeoutError extends KeycloakUnavailableError {
  override name = 'LockTimeoutError';
}

/** A value read from Keycloak at most once per TTL, one read at a time. */
function cached<T>(ttlMs: number, load: () => Promise<T>): { get(): Promise<T>; clear(): void } {
  let value: { data: T; until: number } | undefined;
  let pending: Promise<T> | undefined;
  return {
    async get() {
      if (value && Date.now() < value.until) return value.data;
      pending ??= load()
        .then((data) => {
          value = { data, until: Date.now() + ttlMs };
          return data;
        })
        .finally(() => {
          pending = undefined;
        });
      return pending;
    },
    clear() {
      value = undefined;
    },
  };
}

export type ClientsGateway = ReturnType<typeof createClientsGateway>;

export function createClientsGateway(keycloak: KeycloakAdmin, options: GatewayOptions) {
  const { call } = keycloak;
  const cacheTtlMs = options.cacheTtlMs ?? 60_000;
  const lockTtlMs = options.lockTtlMs ?? 30_000;
  const lockWaitMs = options.lockWaitMs ?? 15_000;

  const serviceClient = cached(24 * 3600_000, async () => {
    const [client] = await call('service-client.find', (kc) =>
      kc.clients.find({ clientId: options.serviceClientId, first: 0, max: 1 }),
    );
    if (!client?.id)
      throw new Error(`the service's own client ${options.serviceClientId} is not in the realm`);
    return client.id;
  });

  const catalogue = cached(cacheTtlMs, async (): Promise<CatalogueScope[]> => {
    const scopes = await call('client-scopes.list', (kc) => kc.clientScopes.find());
    return scopes
      .filter((scope) => scope.attributes?.[CATALOGUE_ATTRIBUTE] === 'true' && scope.id && scope.name)
      .map((scope) => ({
        id: scope.id as string,
        name: scope.name as string,
        description: scope.description ?? '',
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  });

  const realmDefaults = cached(cacheTtlMs, async (): Promise<RealmDefaultScopes> => {
    const [defaults, optional] = await Promise.all([
      call('realm.default-scopes', (kc) => kc.clientScopes.listDefaultClientScopes()),
      call('realm.optional-scopes', (kc) => kc.clientScopes.listDefaultOptionalClientScopes()),
    ]);
    const names = (list: { name?: string }[]) =>
      list.map((scope) => scope.name).filter((n): n is string => !!n);
    return { defaults: names(defaults), optional: names(optional) };
  });

  const lockRole = (accountId: string) => `lock.${accountId}`;
  const limitRole = (accountId: string) => `limit.${accountId}`;

  return {
    catalogue: () => catalogue.get(),
    realmDefaultScopes: () => realmDefaults.get(),

    /** The client with exactly this clientId, in full, or undefined. One call. */
    async findByClientId(clientId: string): Promise<ClientRepresentation | undefined> {
      const found = await call('clients.find-by-client-id', (kc) =>
        kc.clients.find({ clientId, first: 0, max: 1 }),
      );
      return found.find((client) => client.clientId === clientId);
    },

    /** Every client carrying the account's marker: one indexed attribute query, not a realm scan. */
    async listByAccount(accountId: string, marker: string): Promise<ClientRepresentation[]> {
      return call('clients.list-by-account', (kc) => kc.clients.find({ q: `${marker}:${accountId}` }));
    },

    /** Creates the client and answers its internal id (from the Location header). */
    async create(rep: ClientRepresentation): Promise<string> {
      const { id } = await call('clients.create', (kc) => kc.clients.create(rep));
      return id;
    },

    async update(id: string, rep: ClientRepresentation): Promise<void> {
      await call('clients.update', (kc) => kc.clients.update({ id }, rep));
    },

    async remove(id: string): Promise<void> {
      await call('clients.delete', (kc) => kc.clients.del({ id }));
    },

    async getSecret(id: string): Promise<string> {
      const credential = await call('clients.get-secret', (kc) => kc.clients.getClientSecret({ id }));
      if (!credential?.value) throw new KeycloakUnavailableError('Keycloak answered no secret');
      return credential.value;
    },

    async regenerateSecret(id: string): Promise<string> {
      const credential = await call('clients.regenerate-secret', (kc) =>
        kc.clients.generateNewClientSecret({ id }),
      );
      if (!credential?.value) throw new KeycloakUnavailableError('Keycloak answered no secret');
      return credential.value;
    },

    async addDefaultScope(id: string, clientScopeId: string): Promise<void> {
      await call('clients.add-default-scope', (kc) =>
        kc.clients.addDefaultClientScope({ id, clientScopeId }),
      );
    },

    async removeDefaultScope(id: string, clientScopeId: string): Promise<void> {
      await call('clients.remove-default-scope', (kc) =>
        kc.clients.delDefaultClientScope({ id, clientScopeId }),
      );
    },

    /** Takes a realm client scope, by name, off the client's default and optional scopes. */
    async removeScopeByName(id: string, name: string): Promise<void> {
      const [defaults, optional] = await Promise.all([
        call('clients.list-default-scopes', (kc) => kc.clients.listDefaultClientScopes({ id })),
        call('clients.list-optional-scopes', (kc) => kc.clients.listOptionalClientScopes({ id })),
      ]);
      for (const scope of defaults.filter((s) => s.name === name && s.id)) {
        const clientScopeId = scope.id as string;
        await call('clients.remove-default-scope', (kc) =>
          kc.clients.delDefaultClientScope({ id, clientScopeId }),
        );
      }
      for (const scope of optional.filter((s) => s.name === name && s.id)) {
        const clientScopeId = scope.id as string;
        await call('clients.remove-optional-scope', (kc) =>
          kc.clients.delOptionalClientScope({ id, clientScopeId }),
        );
      }
    },

    /** The account's own limit, or undefined when it has none. */
    async getAccountLimit(accountId: string): Promise<number | undefined> {
      const id = await serviceClient.get();
      const role = (await call('limits.get', (kc) =>
        kc.clients.findRole({ id, roleName: limitRole(accountId) }),
      )) as RoleRepresentation | null;
      const value = Number(role?.attributes?.maxApiClients?.[0]);
      return role && Number.isInteger(value) ? value : undefined;
    },

    async setAccountLimit(accountId: string, maxApiClients: number | null): Promise<void> {
      const id = await serviceClient.get();
      const roleName = limitRole(accountId);
      if (maxApiClients === null) {
        await call('limits.delete', (kc) => kc.clients.delRole({ id, roleName })).catch((error) => {
          if (!isNotFound(error)) throw error;
        });
        return;
      }
      const role: RoleRepresentation = {
        name: roleName,
        description: `API Clients service: maximum number of API clients of account ${accountId}`,
        attributes: { maxApiClients: [String(maxApiClients)] },
      };
      try {
        await call('limits.create', (kc) => kc.clients.createRole({ id, ...role }));
      } catch (error) {
        if (!isConflict(error)) throw error;
        await call('limits.update', (kc) => kc.clients.updateRole({ id, roleName }, role));
      }
    },

    /**
     * Runs `work` while holding the account's lock: a role of the service's own client whose
     * name Keycloak keeps unique (creating it a second time answers 409), so that it holds across
     * replicas. A lock left by a crashed replica expires after lockTtlMs. While it waits,
     * `whileWaiting` may end the wait early by throwing (e.g. when the account is already full).
     */
    async withAccountLock<T>(
      accountId: string,
      work: () => Promise<T>,
      whileWaiting?: () => Promise<void>,
    ): Promise<T> {
      const id = await serviceClient.get();
      const roleName = lockRole(accountId);
      const deadline = Date.now() + lockWaitMs;
      let pause = 20;
      let unexplainedErrors = 0;
      let lastWaitCheck = 0;
      for (;;) {
        const acquiredAt = Date.now();
        const owner = randomUUID();
        let held = false;
        try {
          await call('lock.acquire', (kc) =>
            kc.clients.createRole({
              id,
              name: roleName,
              description: 'API Clients service: held while an API client of this account is created',
              attributes: { expiresAt: [String(acquiredAt + lockTtlMs)], owner: [owner] },
            }),
          );
          held = true;
        } catch (error) {
          if (!isConflict(error) && !isUnavailable(error)) throw error;
          // 409: someone holds it. A 5xx or a lost answer says nothing for sure: two creates of
          // the same role at one instant sometimes end in a 500 for the loser, and a create whose
          // answer was lost may have made the lock ours. Look at the holder to know.
          const holder = (await call('lock.inspect', (kc) =>
            kc.clients.findRole({ id, roleName }),
          )) as RoleRepresentation | null;
          if (holder?.attributes?.owner?.[0] === owner) {
            held = true;
          } else if (!holder?.id) {
            // nobody holds it: a lost race that nobody won, or a failure of Keycloak itself
            if (!isConflict(error) && ++unexplainedErrors > 3) throw error;
            continue;
          } else if (Number(holder.attributes?.expiresAt?.[0] ?? Number.POSITIVE_INFINITY) < Date.now()) {
            // The holder is gone; remove exactly the lock we saw (by id), not a newer one.
            const staleId = holder.id;
            await call('lock.expire', (kc) => kc.roles.delById({ id: staleId })).catch((e) => {
              if (!isNotFound(e)) throw e;
            });
            continue;
          }
        }
        if (!held) {
          if (Date.now() + pause > deadline) throw new LockTimeoutError(`account ${accountId} stayed locked`);
          if (whileWaiting && Date.now() - lastWaitCheck > 250) {
            lastWaitCheck = Date.now();
            await whileWaiting();
          }
          await sleep(pause + Math.random() * pause);
          pause = Math.min(pause * 2, 250);
          continue;
        }
        try {
          return await work();
        } finally {
          await release(acquiredAt);
        }
      }

      async function release(acquiredAt: number): Promise<void> {
        // A few tries: a lock left behind blocks the account until it expires. Past its expiry
        // another replica may hold a lock of the same name: leave that one be.
        for (let attempt = 0; attempt < 3 && Date.now() < acquiredAt + lockTtlMs; attempt++) {
          try {
            await call('lock.release', (kc) => kc.clients.delRole({ id, roleName }));
            return;
          } catch (error) {
            if (isNotFound(error)) return;
            await sleep(50 * (attempt + 1));
          }
        }
      }
    },
  };
}
