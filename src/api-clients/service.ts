// The API clients domain, SPEC §2–§4: a table of contents over the rooms that do the work.
// Routes call these functions with an account the caller was already allowed to act on and a
// body read once (input.ts).

import type { ClientRepresentation, ClientsGateway } from '../keycloak/clients-gateway.js';
import { createTtlCache } from '../lib/cache.js';
import { ProblemError } from '../lib/problem.js';
import { type Catalogue, createCatalogue } from './access/catalogue.js';
import { createDirectory, type Loaded } from './access/directory.js';
import { assertRolesHeld, type Grantor, mayGrant } from './access/grants.js';
import {
  type Actor,
  changedFields,
  changeRecord,
  createHistory,
  type HistoryPage,
  recordAttribute,
  updateAction,
} from './activity/history.js';
import { createLastUsed } from './activity/last-used.js';
import { createUsage, type Usage } from './activity/usage.js';
import { bulkDelete } from './bulk-delete.js';
import {
  accountLockName,
  clientLockName,
  createLocks,
  type LockOptions,
} from './consistency/account-lock.js';
import { createLimits, limitRole } from './consistency/limits.js';
import { createServiceClientRoles } from './consistency/service-client.js';
import { checkPrecondition, type Versioned, versioned } from './consistency/versioning.js';
import { createWrites } from './consistency/writes.js';
import { updateLeavingExpiredSecret } from './credentials/expired-secret.js';
import { createExpiring } from './credentials/expiring.js';
import { createFederation } from './credentials/federation.js';
import { createSecrets, previousSecretExpiry, type Rotation } from './credentials/secrets.js';
import { assertClientIdUnchanged, clientIdTaken, limitReached } from './errors.js';
import { type ListOptions, listAccount } from './listing.js';
import {
  keycloakCalledUrls,
  type ResolveHost,
  resolvedHostErrors,
  systemResolver,
} from './resource/host-resolution.js';
import { assertValid, type BodyInput } from './resource/input.js';
import {
  credentialOf,
  DEFAULT_FIELDS,
  fieldsOf,
  fromClientRepresentation,
  rolesOf,
  toCreatePlan,
} from './resource/mapping.js';
import { clientIdErrors, type RuleContext } from './resource/rules.js';
import type { ApiClientFields, CredentialFields, CredentialView } from './resource/schema.js';
import type { Limit, LimitChange, Role, Scope } from './resource/schema-operations.js';
import { type ExpiryPolicy, withEffectiveExpiry } from './resource/secret-expiry.js';
import { STRICT_URL_SAFETY, type UrlSafetyOptions } from './resource/url-safety.js';

export type { Grantor } from './access/grants.js';
export type { Actor } from './activity/history.js';
export type { Versioned } from './consistency/versioning.js';
export type { ListOptions } from './listing.js';

export interface ApiClientsOptions {
  /** The service's own clientId: its roles hold the per-account locks and limits. */
  serviceClientId: string;
  defaultMaxApiClients: number;
  allowWildcardWebOrigin: boolean;
  secretRevealEnabled: boolean;
  /** Every account's maximum secret lifetime in days unless it has its own; null: none. */
  defaultMaxSecretLifetimeDays?: number | null;
  allowOfflineAccess?: boolean;
  urlSafety?: UrlSafetyOptions;
  /** Looks up the names of URLs Keycloak calls (tests: a resolver of their own); the system's by default. */
  resolveHost?: ResolveHost;
  /** How long a replica keeps an account's limit; 0 reads it from Keycloak every time. */
  limitCacheTtlMs?: number;
  /** How long the scope catalogue and the realm's default scopes are kept. */
  catalogueCacheTtlMs?: number;
  /** How long a replica keeps a client's role scope for gets and lists (directory.ts). */
  roleScopeCacheTtlMs?: number;
  lock?: LockOptions;
  /** The bound of admin events one history request reads (activity/history.ts). */
  historyMaxEvents?: number;
  /** Usage (activity/usage.ts): the most login events one answer counts, and how long a replica keeps it. */
  usage?: { maxEvents?: number; cacheTtlMs?: number };
  now?: () => Date;
}

/** What a create starts from: a Script client with nothing else set. */
const CREATE_BASE = { ...DEFAULT_FIELDS, capabilityTypes: ['Script' as const] };
export type ApiClientsService = ReturnType<typeof createApiClientsService>;

export function createApiClientsService(gateway: ClientsGateway, options: ApiClientsOptions) {
  const now = options.now ?? (() => new Date());
  const catalogues = createCatalogue(gateway, options.catalogueCacheTtlMs);
  const directory = createDirectory(gateway, { roleScopeTtlMs: options.roleScopeCacheTtlMs });
  const roles = createServiceClientRoles(gateway, options.serviceClientId);
  const limits = createLimits(roles, {
    defaultMaxApiClients: options.defaultMaxApiClients,
    defaultMaxSecretLifetimeDays: options.defaultMaxSecretLifetimeDays ?? null,
    cacheTtlMs: options.limitCacheTtlMs,
  });
  const locks = createLocks(roles, options.lock);
  const writes = createWrites(gateway, { allowOfflineAccess: options.allowOfflineAccess ?? false });
  const secrets = createSecrets(gateway, directory, { now, maxLifetimeOf: limits.maxSecretLifetimeOf });
  // The realm's access-token lifespan bounds a client's own; realm settings change rarely.
  const realmLifespanCache = createTtlCache<'realm', { seconds?: number }>({
    ttlMs: options.catalogueCacheTtlMs ?? 60_000,
    max: 1,
    load: async () => ({ seconds: await gateway.realmAccessTokenLifespan() }),
  });
  /**
   * The realm's lifespan, read only when the body sets a client lifespan of its own that differs
   * from the client's (a value sent back unchanged is not judged again): no Keycloak call otherwise.
   */
  const realmLifespanFor = async (asked: ApiClientFields, before?: ApiClientFields) => {
    const wanted = asked.tokenSettings.accessTokenLifetimeSeconds;
    if (wanted === null || wanted === before?.tokenSettings.accessTokenLifetimeSeconds) return undefined;
    return (await realmLifespanCache.get('realm')).seconds;
  };
  const expiryPolicy = async (accountId: string): Promise<ExpiryPolicy> => ({
    now: now(),
    maxSecretLifetimeDays: await limits.maxSecretLifetimeOf(accountId),
  });
  const lastUsed = createLastUsed(gateway, { now });
  const history = createHistory(gateway, { maxEvents: options.historyMaxEvents });
  const usage = createUsage(gateway, { now, ...options.usage });
  const federation = createFederation(gateway, locks, {
    urlSafety: options.urlSafety ?? STRICT_URL_SAFETY,
    resolveHost: options.resolveHost ?? systemResolver(),
  });
  const issuerOf = (credential: CredentialFields | CredentialView): string | null =>
    credential.type === 'federated' ? credential.issuer : null;
  /** What a client's usage adds: lastUsedAt (1 events query, read before any write) and the grace period. */
  const usageOf = (loaded: Loaded, lastUsedAt: string | null) => ({
    lastUsedAt,
    previousSecretExpiresAt: previousSecretExpiry(loaded.rep.attributes, now()),
  });

  const ruleContext = (
    accountId: string,
    catalogue: Catalogue,
    extras: {
      kept?: string[];
      clientId?: string;
      heldRoles?: string[];
      expiry?: ExpiryPolicy;
      currentCredential?: CredentialFields;
      realmAccessTokenLifespan?: number;
    } = {},
  ): RuleContext => ({
    expiry: extras.expiry,
    currentCredential: extras.currentCredential,
    realmAccessTokenLifespan: extras.realmAccessTokenLifespan,
    accountId,
    clientId: extras.clientId,
    catalogue: new Set(catalogue.names),
    kept: new Set(extras.kept ?? []),
    roleCatalogue: new Set(catalogue.roles.map((role) => role.name)),
    heldRoles: new Set(extras.heldRoles ?? []),
    allowWildcardWebOrigin: options.allowWildcardWebOrigin,
    urlSafety: options.urlSafety,
  });
  const catalogueNames = async () => (await catalogues.load()).names;
  const resolveHost = options.resolveHost ?? systemResolver();
  /** The URLs Keycloak calls that resolve inside the platform; those in `current` were judged when stored. */
  const resolvedErrors = (fields: ApiClientFields, current?: ApiClientFields) =>
    resolvedHostErrors(
      fields,
      options.urlSafety ?? STRICT_URL_SAFETY,
      resolveHost,
      current ? keycloakCalledUrls(current).map(([, url]) => url) : [],
    );

  /**
   * A loaded client as the resource: its roles are its role scope, one more call unless this
   * replica read it within the role scope's TTL (a get); `fresh` for every check before a write.
   */
  async function read(loaded: Loaded, names: readonly string[], fresh = false) {
    const held = await directory.roleScope(loaded.id, { fresh });
    return { held, client: fromClientRepresentation(loaded.rep, names, rolesOf(held)) };
  }

  /**
   * Throws limit-reached when the account holds as many clients as its limit allows, else answers
   * how many it holds; `exact` (under the account's lock) reads the limit from Keycloak rather
   * than this replica's cache. A refusal is always exact: a full account under the cached limit is
   * checked once more against the limit Keycloak holds now, so a limit raised on another replica
   * counts at once.
   */
  async function assertRoom(accountId: string, exact = false): Promise<number> {
    const [existing, cached] = await Promise.all([
      directory.accountClients(accountId),
      exact ? limits.current(accountId) : limits.maxFor(accountId),
    ]);
    if (existing.length < cached) return existing.length;
    const max = exact ? cached : await limits.current(accountId);
    if (existing.length >= max) throw limitReached(accountId, existing.length, max);
    return existing.length;
  }

  /**
   * The count the last create of an account on this replica left: what it read under the lock,
   * plus its own client. Kept as long as the limit (limitCacheTtlMs), dropped when a create fails.
   * It may be low by creates since: the one holding the lock now (a waiter's turn comes after it
   * has set its own), and those of other replicas.
   */
  const countLeft = createTtlCache<string, number>({
    ttlMs: options.limitCacheTtlMs ?? 10_000,
    max: 10_000,
  });

  /**
   * The check before the lock (on arrival, and when a queued create's turn comes): refuses without
   * a write once the account is full. While the count this replica's last create of the account
   * left shows room, it spares the account query (the exact count is read under the lock next);
   * a refusal is always read from Keycloak.
   */
  async function assertRoomBeforeLock(accountId: string): Promise<void> {
    const left = countLeft.peek(accountId);
    const cachedMax = limits.maxFor(accountId);
    if (left !== undefined && left < (await cachedMax)) return;
    const [{ joined, count }, max] = await Promise.all([countNow(accountId), cachedMax]);
    if (count < max) return;
    // a refusal is read by this request, and checked against the limit Keycloak holds now
    if (joined) return void (await assertRoom(accountId));
    const current = await limits.current(accountId);
    if (count >= current) throw limitReached(accountId, count, current);
  }

  /** Account queries in flight, by account: creates arriving together share one (see countNow). */
  const countsInFlight = new Map<string, Promise<number>>();

  /**
   * The account's count, from a query in flight when there is one: ten creates of one account
   * arriving together make one query, not ten. A joined query only ever lets a create go on to the
   * lock (where the exact count is read); a refusal rests on a query of the request's own.
   */
  async function countNow(accountId: string): Promise<{ joined: boolean; count: number }> {
    const inFlight = countsInFlight.get(accountId);
    if (inFlight) return { joined: true, count: await inFlight };
    const count = directory
      .accountClients(accountId)
      .then((clients) => clients.length)
      .finally(() => countsInFlight.delete(accountId));
    countsInFlight.set(accountId, count);
    return { joined: false, count: await count };
  }

  async function assertClientIdFree(clientId: string): Promise<void> {
    if (await gateway.findByClientId(clientId)) throw clientIdTaken(clientId);
  }

  /** Reads the client and checks the body, the caller's grants and If-Match: the whole check of an update, no write. */
  async function prepareUpdate(
    accountId: string,
    clientId: string,
    input: BodyInput,
    grantor: Grantor,
    { ifMatch, resolveNames }: { ifMatch: string | undefined; resolveNames: boolean },
  ) {
    const [loaded, catalogue, expiry] = await Promise.all([
      directory.load(accountId, clientId),
      catalogues.load(),
      expiryPolicy(accountId),
    ]);
    const { held, client: current } = await read(loaded, catalogue.names, true);
    const before = fieldsOf(current);
    const asked = input.over(before);
    const [lifespan, hostErrors] = await Promise.all([
      realmLifespanFor(asked, before),
      resolveNames ? resolvedErrors(asked, before) : [],
    ]);
    // bad input first: a request that is wrong whatever the client's version gets 400, not 412
    assertValid(
      asked,
      input,
      ruleContext(accountId, catalogue, {
        kept: current.scopes,
        clientId,
        heldRoles: current.roles,
        expiry,
        currentCredential: before.credential,
        realmAccessTokenLifespan: lifespan,
      }),
      hostErrors,
    );
    // a role the client has stays whoever edits it; an added one must be the caller's own
    assertRolesHeld(asked.roles, current.roles, grantor);
    checkPrecondition(current, ifMatch);
    const fields: ApiClientFields = {
      ...asked,
      credential: withEffectiveExpiry(asked.credential, expiry, before.credential),
    };
    return { loaded, catalogue, held, current, fields };
  }

  return {
    list: (accountId: string, query: ListOptions) =>
      listAccount({ directory, limits, catalogues, lastUsed }, accountId, query),

    async get(accountId: string, clientId: string): Promise<Versioned> {
      const [loaded, names] = await Promise.all([directory.load(accountId, clientId), catalogueNames()]);
      const [{ client }, lastUsedAt] = await Promise.all([read(loaded, names), lastUsed.of(clientId)]);
      return versioned(client, usageOf(loaded, lastUsedAt));
    },

    async create(
      accountId: string,
      input: BodyInput,
      grantor: Grantor,
      actor: Actor,
    ): Promise<Versioned & { secret?: string }> {
      const asked = input.over(CREATE_BASE);
      const [catalogue, realmDefaults, expiry, hostErrors, lifespan] = await Promise.all([
        catalogues.load(),
        catalogues.realmDefaults(),
        expiryPolicy(accountId),
        resolvedErrors(asked),
        realmLifespanFor(asked),
      ]);
      const idErrors = input.clientId === undefined ? [] : clientIdErrors(input.clientId, accountId);
      assertValid(
        asked,
        input,
        ruleContext(accountId, catalogue, {
          clientId: input.clientId,
          expiry,
          realmAccessTokenLifespan: lifespan,
        }),
        [...idErrors, ...hostErrors],
      );
      assertRolesHeld(asked.roles, [], grantor);
      const fields: ApiClientFields = { ...asked, credential: withEffectiveExpiry(asked.credential, expiry) };
      // valid: the schema requires a clientId
      const clientId = input.clientId as string;
      const plan = toCreatePlan(clientId, accountId, now().toISOString(), fields, catalogue, realmDefaults, {
        allowOfflineAccess: options.allowOfflineAccess ?? false,
      });
      // Who created it, in the CREATE's admin event (the fix-up write, when there is one, repeats it).
      Object.assign(
        plan.rep.attributes ?? {},
        recordAttribute(changeRecord('created', accountId, clientId, actor)),
      );
      // Refusals cost Keycloak no write: a taken clientId and a full account are found before the lock.
      await Promise.all([assertRoomBeforeLock(accountId), assertClientIdFree(clientId)]);
      return locks.withLock(
        accountLockName(accountId),
        'API Clients service: held while an API client of this account is created',
        async (lease) => {
          const used = await assertRoom(accountId, true).catch((error: unknown) => {
            // full after all (another replica's creates): the next check reads the account
            countLeft.delete(accountId);
            throw error;
          });
          lease.assertLeft(`the create of ${clientId}`);
          const { id, secret } = await federation
            .withBinding(fields.credential, undefined, () =>
              writes.create(plan, accountId, fields.roles, catalogue, lease),
            )
            .catch(async (error: unknown) => {
              // what a failed create left is not known for sure (an unknown outcome keeps the lock)
              countLeft.delete(accountId);
              // an identity provider made for this create alone goes again
              await federation.releaseIfUnused(issuerOf(fields.credential));
              throw error;
            });
          directory.remember(clientId, id, accountId);
          countLeft.set(accountId, used + 1);
          return {
            ...versioned(fromClientRepresentation(plan.rep, catalogue.names, fields.roles)),
            ...(secret !== undefined ? { secret } : {}),
          };
        },
        // While other creates of the account hold the lock: once it is full, say so at once.
        // (while another replica holds it, this replica's count says nothing: read it)
        (moment) =>
          moment === 'turn' ? assertRoomBeforeLock(accountId) : assertRoom(accountId).then(() => {}),
        // Creates of one account on this replica queue here: one at a time asks Keycloak for the lock.
        { queueLocally: true },
      );
    },

    /**
     * PUT and PATCH: the body's fields over the current client, with If-Match honoured. A switch
     * of the credential to a secret answers the secret Keycloak generated for it.
     */
    async update(
      accountId: string,
      clientId: string,
      input: BodyInput,
      grantor: Grantor,
      actor: Actor,
      ifMatch?: string,
    ): Promise<Versioned & { secret?: string }> {
      if (input.errors.length === 0) assertClientIdUnchanged(input.clientId, clientId);
      // Checked once without the lock, so that a refused update writes nothing (not even a lock),
      // then again under the client's lock over what Keycloak holds then: two updates at once
      // are applied one after the other (a PATCH over the other's result), or the second is
      // refused by its If-Match; an undo puts back what this update read under the lock.
      // The account check (directory.load in prepareUpdate) comes before any query the path's
      // clientId names: lastUsedAt's events query runs only for the account's own client.
      await prepareUpdate(accountId, clientId, input, grantor, { ifMatch, resolveNames: true });
      const lastUsedAt = lastUsed.of(clientId);
      lastUsedAt.catch(() => undefined); // awaited below; a failure before then is not unhandled
      return locks.withLock(
        clientLockName(clientId),
        'API Clients service: held while this API client is changed',
        async (lease) => {
          const { loaded, catalogue, held, current, fields } = await prepareUpdate(
            accountId,
            clientId,
            input,
            grantor,
            // the body's names were looked up above; what another writer stored was judged then
            { ifMatch, resolveNames: false },
          );
          const createdAt = now().toISOString();
          const [before, after] = [fieldsOf(current), fields] as unknown as Record<string, unknown>[];
          const change = changeRecord(
            updateAction(before ?? {}, after ?? {}),
            accountId,
            clientId,
            actor,
            changedFields(before ?? {}, after ?? {}),
          );
          try {
            const { client, secret } = await federation
              .withBinding(fields.credential, loaded.id, () =>
                writes.update(
                  accountId,
                  loaded,
                  current,
                  fields,
                  catalogue,
                  createdAt,
                  held,
                  change,
                  lease.assertLeft,
                ),
              )
              .catch(async (error: unknown) => {
                if (issuerOf(fields.credential) !== issuerOf(current.credential))
                  await federation.releaseIfUnused(issuerOf(fields.credential));
                throw error;
              });
            // switched away from an issuer, or to another: its identity provider may have no client left
            if (issuerOf(current.credential) !== issuerOf(fields.credential))
              await federation.releaseIfUnused(issuerOf(current.credential));
            // a switch or an expired secret's revival ended the rotated secret: no grace period left
            const usage = usageOf(loaded, await lastUsedAt);
            return {
              ...versioned(
                client,
                secret !== undefined ? { ...usage, previousSecretExpiresAt: null } : usage,
              ),
              ...(secret !== undefined ? { secret } : {}),
            };
          } finally {
            directory.forgetRoleScope(loaded.id);
          }
        },
      );
    },

    /** Deletes the client: one write first records who deletes it (history.ts), the DELETE's event confirms it. */
    async remove(accountId: string, clientId: string, actor: Actor, ifMatch?: string): Promise<void> {
      // the record's write must not revive an expired secret, should the DELETE then fail
      const recordDelete = (id: string, before: ClientRepresentation) =>
        updateLeavingExpiredSecret(
          gateway,
          id,
          before,
          { attributes: recordAttribute(changeRecord('deleted', accountId, clientId, actor)) },
          now,
        );
      let issuer: string | null = null;
      if (ifMatch !== undefined) {
        // The account check and the precondition first, so that a refused delete writes nothing
        // (not even a lock), then again under the client's lock: no update may land between the
        // check and the delete.
        const names = await catalogueNames();
        checkPrecondition(
          (await read(await directory.load(accountId, clientId), names, true)).client,
          ifMatch,
        );
        await locks.withLock(
          clientLockName(clientId),
          'API Clients service: held while this API client is deleted',
          async () => {
            const loaded = await directory.load(accountId, clientId);
            checkPrecondition((await read(loaded, await catalogueNames(), true)).client, ifMatch);
            issuer = issuerOf(credentialOf(loaded.rep));
            await recordDelete(loaded.id, loaded.rep);
            await gateway.remove(loaded.id);
            directory.forgetRoleScope(loaded.id);
          },
        );
      } else {
        const loaded = await directory.load(accountId, clientId);
        issuer = issuerOf(credentialOf(loaded.rep));
        await directory.withId(accountId, clientId, async (id) => {
          await recordDelete(id, loaded.rep);
          await gateway.remove(id);
        });
      }
      directory.forget(clientId);
      // the last client of an issuer takes its identity provider with it
      await federation.releaseIfUnused(issuer);
    },

    bulkDelete: (accountId: string, clientIds: string[], actor: Actor) =>
      bulkDelete(gateway, directory, accountId, clientIds, actor, (rep) =>
        federation.releaseIfUnused(issuerOf(credentialOf(rep))),
      ),

    async revealSecret(accountId: string, clientId: string): Promise<string> {
      if (!options.secretRevealEnabled) {
        throw new ProblemError(
          'forbidden',
          'Revealing secrets is switched off on this service: regenerate the secret to get a new one',
        );
      }
      return secrets.reveal(accountId, clientId);
    },

    regenerateSecret: (
      accountId: string,
      clientId: string,
      gracePeriodSeconds: number,
      actor: Actor,
      expiresAt?: string | null,
    ): Promise<Rotation> => secrets.regenerate(accountId, clientId, gracePeriodSeconds, actor, expiresAt),
    endGracePeriod: secrets.endGracePeriod,
    invalidate: secrets.invalidate,
    /** Platform admins: the secrets of every account that expire within the window, in order of expiry. */
    expiring: createExpiring(gateway, now),

    async getLimit(accountId: string): Promise<Limit> {
      const [own, clients] = await Promise.all([limits.of(accountId), directory.accountClients(accountId)]);
      return { ...own, used: clients.length };
    },

    /**
     * Sets the account's limit and (when given) its maximum secret lifetime; null returns either to
     * the default. Recorded as `actor`'s change in the account's history.
     */
    async setLimit(accountId: string, change: LimitChange, actor: Actor): Promise<Limit> {
      const own = await limits.set(accountId, change, actor);
      return { ...own, used: (await directory.accountClients(accountId)).length };
    },

    /** The client's changes, newest first (activity/history.ts). */
    clientHistory: (accountId: string, clientId: string, first: number, max: number): Promise<HistoryPage> =>
      directory.withId(accountId, clientId, (id) => history.ofClient(accountId, id, first, max)),

    /** The account's changes, deleted clients and limit changes included. */
    accountHistory: async (accountId: string, first: number, max: number): Promise<HistoryPage> =>
      history.ofAccount(accountId, await roles.rolePath(limitRole(accountId)), first, max),

    /** Tokens issued and refusals per day (activity/usage.ts), for a client of the account. */
    async usage(accountId: string, clientId: string, days: number): Promise<Usage> {
      await usage.assertRange(days);
      await directory.withId(accountId, clientId, async () => undefined);
      return usage.of(clientId, days);
    },

    scopes: async (): Promise<Scope[]> =>
      (await catalogues.load()).scopes.map(({ name, description }) => ({ name, description })),

    /** The role catalogue, each role with whether this caller may give it. */
    roles: async (grantor: Grantor): Promise<Role[]> =>
      (await catalogues.load()).roles.map(({ name, description }) => ({
        name,
        description,
        grantable: mayGrant(grantor, name),
      })),
  };
}
