// The API clients domain, SPEC §2–§4: a table of contents over the rooms that do the work.
// Routes call these functions with an account the caller was already allowed to act on and a
// body read once (input.ts).
import { createHash } from 'node:crypto';
import { ProblemError } from '../http/problem.js';
import type { ClientsGateway } from '../keycloak/clients-gateway.js';
import { createLocks, type LockOptions } from './account-lock.js';
import { bulkDelete } from './bulk-delete.js';
import { type Catalogue, createCatalogue } from './catalogue.js';
import { createDirectory } from './directory.js';
import { assertClientIdUnchanged, clientIdTaken, limitReached } from './errors.js';
import { assertValid, type BodyInput } from './input.js';
import { createLimits } from './limits.js';
import { DEFAULT_FIELDS, fieldsOf, fromClientRepresentation, toCreatePlan, toSummary } from './mapping.js';
import { clientIdErrors, type RuleContext } from './rules.js';
import { type ApiClientSummary, type Limit, MAX_TEXT, type Scope } from './schema.js';
import { createServiceClientRoles } from './service-client.js';
import type { UrlSafetyOptions } from './url-safety.js';
import { checkPrecondition, type Versioned, versioned } from './versioning.js';
import { createWrites } from './writes.js';

export type { Versioned } from './versioning.js';

export interface ApiClientsOptions {
  /** The service's own clientId: its roles hold the per-account locks and limits. */
  serviceClientId: string;
  defaultMaxApiClients: number;
  allowWildcardWebOrigin: boolean;
  secretRevealEnabled: boolean;
  allowOfflineAccess?: boolean;
  urlSafety?: UrlSafetyOptions;
  /** How long a replica keeps an account's limit; 0 reads it from Keycloak every time. */
  limitCacheTtlMs?: number;
  /** How long the scope catalogue and the realm's default scopes are kept. */
  catalogueCacheTtlMs?: number;
  lock?: LockOptions;
  now?: () => Date;
}

export interface ListOptions {
  search?: string;
  first?: number;
  max?: number;
}

/** What a create starts from: a Script client with nothing else set. */
const CREATE_BASE = { ...DEFAULT_FIELDS, capabilityTypes: ['Script' as const] };

export type ApiClientsService = ReturnType<typeof createApiClientsService>;

export function createApiClientsService(gateway: ClientsGateway, options: ApiClientsOptions) {
  const now = options.now ?? (() => new Date());
  const catalogues = createCatalogue(gateway, options.catalogueCacheTtlMs);
  const directory = createDirectory(gateway);
  const roles = createServiceClientRoles(gateway, options.serviceClientId);
  const limits = createLimits(roles, {
    defaultMaxApiClients: options.defaultMaxApiClients,
    cacheTtlMs: options.limitCacheTtlMs,
  });
  const locks = createLocks(roles, options.lock);
  const writes = createWrites(gateway, { allowOfflineAccess: options.allowOfflineAccess ?? false });

  const ruleContext = (
    accountId: string,
    catalogue: Catalogue,
    extras: { kept?: string[]; clientId?: string } = {},
  ): RuleContext => ({
    accountId,
    clientId: extras.clientId,
    catalogue: new Set(catalogue.names),
    kept: new Set(extras.kept ?? []),
    allowWildcardWebOrigin: options.allowWildcardWebOrigin,
    urlSafety: options.urlSafety,
  });
  const catalogueNames = async () => (await catalogues.load()).names;

  /**
   * Throws limit-reached when the account holds as many clients as its limit allows; `exact`
   * (under the account's lock) reads the limit from Keycloak rather than this replica's cache.
   */
  async function assertRoom(accountId: string, exact = false): Promise<void> {
    const [existing, max] = await Promise.all([
      directory.accountClients(accountId),
      exact ? limits.current(accountId) : limits.maxFor(accountId),
    ]);
    if (existing.length >= max) throw limitReached(accountId, existing.length, max);
  }

  async function assertClientIdFree(clientId: string): Promise<void> {
    if (await gateway.findByClientId(clientId)) throw clientIdTaken(clientId);
  }

  /** Reads the client and checks If-Match and the body: the whole check of an update, no write. */
  async function prepareUpdate(accountId: string, clientId: string, input: BodyInput, ifMatch?: string) {
    const [loaded, catalogue] = await Promise.all([directory.load(accountId, clientId), catalogues.load()]);
    const current = fromClientRepresentation(loaded.rep, catalogue.names);
    const fields = input.over(fieldsOf(current));
    // bad input first: a request that is wrong whatever the client's version gets 400, not 412
    assertValid(fields, input, ruleContext(accountId, catalogue, { kept: current.scopes, clientId }));
    checkPrecondition(current, ifMatch);
    return { loaded, catalogue, current, fields };
  }

  /**
   * Account locks are `lock.<account>`, client locks `lock.<clientId>`: an account id has no "_", a
   * clientId has. Keycloak's role names are at most 255 characters (KEYCLOAK_ROLE.NAME; a longer one
   * fails with a database error), so a longer clientId's lock is `lock.#<sha256>`: "#" is in
   * neither an account id nor a clientId.
   */
  const lockOf = (name: string) =>
    `lock.${name}`.length <= MAX_TEXT
      ? `lock.${name}`
      : `lock.#${createHash('sha256').update(name).digest('hex')}`;

  return {
    async list(accountId: string, query: ListOptions) {
      const [reps, max, names] = await Promise.all([
        directory.accountClients(accountId),
        limits.maxFor(accountId),
        catalogueNames(),
      ]);
      const needle = query.search?.toLowerCase();
      const rows: ApiClientSummary[] = reps
        .map((rep) => toSummary(fromClientRepresentation(rep, names)))
        .filter(
          (row) =>
            !needle ||
            row.clientId.toLowerCase().includes(needle) ||
            (row.displayName ?? '').toLowerCase().includes(needle),
        )
        .sort((a, b) => a.clientId.localeCompare(b.clientId));
      const first = query.first ?? 0;
      return {
        items: rows.slice(first, first + (query.max ?? 20)),
        total: rows.length,
        limit: { max, used: reps.length },
      };
    },

    async get(accountId: string, clientId: string): Promise<Versioned> {
      const [{ rep }, names] = await Promise.all([directory.load(accountId, clientId), catalogueNames()]);
      return versioned(fromClientRepresentation(rep, names));
    },

    async create(accountId: string, input: BodyInput): Promise<Versioned & { secret: string }> {
      const [catalogue, realmDefaults] = await Promise.all([catalogues.load(), catalogues.realmDefaults()]);
      const fields = input.over(CREATE_BASE);
      const idErrors = input.clientId === undefined ? [] : clientIdErrors(input.clientId, accountId);
      assertValid(fields, input, ruleContext(accountId, catalogue, { clientId: input.clientId }), idErrors);
      // valid: the schema requires a clientId
      const clientId = input.clientId as string;
      const plan = toCreatePlan(clientId, accountId, now().toISOString(), fields, catalogue, realmDefaults, {
        allowOfflineAccess: options.allowOfflineAccess ?? false,
      });
      // Refusals cost Keycloak no write: a taken clientId and a full account are found before the lock.
      await Promise.all([assertRoom(accountId), assertClientIdFree(clientId)]);
      return locks.withLock(
        lockOf(accountId),
        'API Clients service: held while an API client of this account is created',
        async (lease) => {
          await assertRoom(accountId, true);
          lease.assertLeft(`the create of ${clientId}`);
          const { id, secret } = await writes.create(plan, accountId);
          directory.remember(clientId, id, accountId);
          return { ...versioned(fromClientRepresentation(plan.rep, catalogue.names)), secret };
        },
        // While other creates of the account hold the lock: once it is full, say so at once.
        () => assertRoom(accountId),
      );
    },

    /** PUT and PATCH: the body's fields over the current client, with If-Match honoured. */
    async update(
      accountId: string,
      clientId: string,
      input: BodyInput,
      ifMatch?: string,
    ): Promise<Versioned> {
      if (input.errors.length === 0) assertClientIdUnchanged(input.clientId, clientId);
      // Checked once without the lock, so that a refused update writes nothing (not even a lock),
      // then again under the client's lock over what Keycloak holds then: two updates at once
      // are applied one after the other (a PATCH over the other's result), or the second is
      // refused by its If-Match; an undo puts back what this update read under the lock.
      await prepareUpdate(accountId, clientId, input, ifMatch);
      return locks.withLock(
        lockOf(clientId),
        'API Clients service: held while this API client is changed',
        async (lease) => {
          const { loaded, catalogue, current, fields } = await prepareUpdate(
            accountId,
            clientId,
            input,
            ifMatch,
          );
          const createdAt = now().toISOString();
          return versioned(
            await writes.update(accountId, loaded, current, fields, catalogue, createdAt, lease.assertLeft),
          );
        },
      );
    },

    async remove(accountId: string, clientId: string, ifMatch?: string): Promise<void> {
      if (ifMatch !== undefined) {
        // under the client's lock: no update may land between the check and the delete
        await locks.withLock(
          lockOf(clientId),
          'API Clients service: held while this API client is deleted',
          async () => {
            const loaded = await directory.load(accountId, clientId);
            checkPrecondition(fromClientRepresentation(loaded.rep, await catalogueNames()), ifMatch);
            await gateway.remove(loaded.id);
          },
        );
      } else {
        await directory.withId(accountId, clientId, (id) => gateway.remove(id));
      }
      directory.forget(clientId);
    },

    bulkDelete: (accountId: string, clientIds: string[]) =>
      bulkDelete(gateway, directory, accountId, clientIds),

    async revealSecret(accountId: string, clientId: string): Promise<string> {
      if (!options.secretRevealEnabled) {
        throw new ProblemError(
          'forbidden',
          'Revealing secrets is switched off on this service: regenerate the secret to get a new one',
        );
      }
      return directory.withId(accountId, clientId, (id) => gateway.getSecret(id));
    },

    regenerateSecret: (accountId: string, clientId: string): Promise<string> =>
      directory.withId(accountId, clientId, (id) => gateway.regenerateSecret(id)),

    async getLimit(accountId: string): Promise<Limit> {
      const [max, clients] = await Promise.all([
        limits.maxFor(accountId),
        directory.accountClients(accountId),
      ]);
      return { maxApiClients: max, used: clients.length };
    },

    async setLimit(accountId: string, maxApiClients: number | null): Promise<Limit> {
      const max = await limits.set(accountId, maxApiClients);
      return { maxApiClients: max, used: (await directory.accountClients(accountId)).length };
    },

    scopes: async (): Promise<Scope[]> =>
      (await catalogues.load()).scopes.map(({ name, description }) => ({ name, description })),
  };
}
