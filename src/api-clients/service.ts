// The API clients domain, SPEC §2–§4: a table of contents over the rooms that do the work.
// Routes call these functions with an account the caller was already allowed to act on and a
// body read once (input.ts).
import { ProblemError } from '../http/problem.js';
import type { ClientsGateway } from '../keycloak/clients-gateway.js';
import { isNotFound } from '../keycloak/errors.js';
import { createAccountLock, type LockOptions } from './account-lock.js';
import { type Catalogue, createCatalogue } from './catalogue.js';
import { createDirectory } from './directory.js';
import { assertClientIdUnchanged, limitReached } from './errors.js';
import { assertValid, type BodyInput } from './input.js';
import { createLastUsed } from './last-used.js';
import { createLimits } from './limits.js';
import { DEFAULT_FIELDS, fieldsOf, fromClientRepresentation, toCreatePlan, toSummary } from './mapping.js';
import { hasAccountPrefix } from './ownership.js';
import { clientIdErrors, type RuleContext } from './rules.js';
import type { BulkDeleteStatus, Limit, Scope } from './schema.js';
import { createSecrets, previousSecretExpiry, type Rotation } from './secrets.js';
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
/** How many deletes of one bulk delete run at once: Keycloak deletes are not free. */
const BULK_DELETE_CONCURRENCY = 4;

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
  const lock = createAccountLock(roles, options.lock);
  const writes = createWrites(gateway, { allowOfflineAccess: options.allowOfflineAccess ?? false });
  const secrets = createSecrets(gateway, directory, { now });
  const lastUsed = createLastUsed(gateway, { now });
  /**
   * A client with what its usage adds: lastUsedAt (1 events query, sent next to the client's own
   * read, and before any write so that its failure changes nothing) and the grace period.
   */
  async function loadWithUsage(accountId: string, clientId: string) {
    const [loaded, lastUsedAt] = await Promise.all([
      directory.load(accountId, clientId),
      hasAccountPrefix(clientId, accountId) ? lastUsed.of(clientId) : null,
    ]);
    const previousSecretExpiresAt = previousSecretExpiry(loaded.rep.attributes, now());
    return { loaded, usage: { lastUsedAt, previousSecretExpiresAt } };
  }

  const ruleContext = (accountId: string, catalogue: Catalogue): RuleContext => ({
    accountId,
    catalogue: new Set(catalogue.names),
    allowWildcardWebOrigin: options.allowWildcardWebOrigin,
    urlSafety: options.urlSafety,
  });
  const catalogueNames = async () => (await catalogues.load()).names;

  /** Throws limit-reached when the account holds as many clients as its limit allows. */
  async function assertRoom(accountId: string): Promise<void> {
    const [existing, max] = await Promise.all([
      directory.accountClients(accountId),
      limits.maxFor(accountId),
    ]);
    if (existing.length >= max) throw limitReached(accountId, existing.length, max);
  }

  return {
    async list(accountId: string, query: ListOptions) {
      const [reps, max, names] = await Promise.all([
        directory.accountClients(accountId),
        limits.maxFor(accountId),
        catalogueNames(),
      ]);
      const needle = query.search?.toLowerCase();
      const rows = reps
        .map((rep) => fromClientRepresentation(rep, names))
        .filter(
          (row) =>
            !needle ||
            row.clientId.toLowerCase().includes(needle) ||
            (row.displayName ?? '').toLowerCase().includes(needle),
        )
        .sort((a, b) => a.clientId.localeCompare(b.clientId));
      const first = query.first ?? 0;
      const page = rows.slice(first, first + (query.max ?? 20));
      const used = await lastUsed.ofMany(page.map((row) => row.clientId));
      return {
        items: page.map((row) => toSummary(row, used.get(row.clientId) ?? null)),
        total: rows.length,
        limit: { max, used: reps.length },
      };
    },

    async get(accountId: string, clientId: string): Promise<Versioned> {
      const [{ loaded, usage }, names] = await Promise.all([
        loadWithUsage(accountId, clientId),
        catalogueNames(),
      ]);
      return versioned(fromClientRepresentation(loaded.rep, names), usage);
    },

    async create(accountId: string, input: BodyInput): Promise<Versioned & { secret: string }> {
      const [catalogue, realmDefaults] = await Promise.all([catalogues.load(), catalogues.realmDefaults()]);
      const fields = input.over(CREATE_BASE);
      const idErrors = input.clientId === undefined ? [] : clientIdErrors(input.clientId, accountId);
      assertValid(fields, input, ruleContext(accountId, catalogue), idErrors);
      // valid: the schema requires a clientId
      const clientId = input.clientId as string;
      const plan = toCreatePlan(clientId, accountId, now().toISOString(), fields, catalogue, realmDefaults, {
        allowOfflineAccess: options.allowOfflineAccess ?? false,
      });
      return lock.withAccountLock(
        accountId,
        async () => {
          await assertRoom(accountId);
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
      const [{ loaded, usage }, catalogue] = await Promise.all([
        loadWithUsage(accountId, clientId),
        catalogues.load(),
      ]);
      const current = fromClientRepresentation(loaded.rep, catalogue.names);
      checkPrecondition(current, ifMatch);
      const fields = input.over(fieldsOf(current));
      assertValid(fields, input, ruleContext(accountId, catalogue));
      const updated = await writes.update(accountId, loaded, current, fields, catalogue, now().toISOString());
      return versioned(updated, usage);
    },

    async remove(accountId: string, clientId: string, ifMatch?: string): Promise<void> {
      if (ifMatch !== undefined) {
        const loaded = await directory.load(accountId, clientId);
        checkPrecondition(fromClientRepresentation(loaded.rep, await catalogueNames()), ifMatch);
        await gateway.remove(loaded.id);
      } else {
        await directory.withId(accountId, clientId, (id) => gateway.remove(id));
      }
      directory.forget(clientId);
    },

    /** One result per requested id, in the order sent, a few deletes at a time. */
    async bulkDelete(accountId: string, clientIds: string[]) {
      const owned = new Map(
        (await directory.accountClients(accountId)).map((rep) => [rep.clientId as string, rep.id as string]),
      );
      const statuses = new Array<BulkDeleteStatus>(clientIds.length).fill('failed');
      let next = 0;
      const worker = async () => {
        for (let index = next++; index < clientIds.length; index = next++) {
          const clientId = clientIds[index] as string;
          const id = owned.get(clientId);
          if (!id) {
            statuses[index] = 'not-found';
            continue;
          }
          try {
            await gateway.remove(id);
            directory.forget(clientId);
            statuses[index] = 'deleted';
          } catch (error) {
            statuses[index] = isNotFound(error) ? 'not-found' : 'failed';
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(BULK_DELETE_CONCURRENCY, clientIds.length) }, worker));
      return {
        results: clientIds.map((clientId, index) => ({
          clientId,
          status: statuses[index] as BulkDeleteStatus,
        })),
      };
    },

    async revealSecret(accountId: string, clientId: string): Promise<string> {
      if (!options.secretRevealEnabled) {
        throw new ProblemError(
          'forbidden',
          'Revealing secrets is switched off on this service: regenerate the secret to get a new one',
        );
      }
      return directory.withId(accountId, clientId, (id) => gateway.getSecret(id));
    },

    regenerateSecret: (accountId: string, clientId: string, gracePeriodSeconds = 0): Promise<Rotation> =>
      secrets.regenerate(accountId, clientId, gracePeriodSeconds),
    endGracePeriod: secrets.endGracePeriod,
    invalidate: secrets.invalidate,

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
