// The API clients domain: the rules of SPEC §2–§4 over the Keycloak gateway. Routes call these
// functions with an account the caller was already allowed to act on.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FieldError } from '../http/problem.js';
import { ProblemError } from '../http/problem.js';
import type { ClientsGateway } from '../keycloak/clients-gateway.js';
import { isConflict, isNotFound } from '../keycloak/errors.js';
import {
  ACCOUNT_ATTRIBUTE,
  type ClientRepresentation,
  CREATED_AT_ATTRIBUTE,
  DEFAULT_FIELDS,
  fieldsOf,
  fromClientRepresentation,
  OFFLINE_ACCESS_SCOPE,
  toClientRepresentation,
  toSummary,
  withoutOfflineAccess,
} from './mapping.js';
import { apiClientErrors, clientIdErrors, normaliseFields } from './rules.js';
import type {
  ApiClient,
  ApiClientCreate,
  ApiClientFields,
  ApiClientPatch,
  ApiClientReplace,
  ApiClientSummary,
  BulkDeleteStatus,
  Limit,
  Scope,
} from './schema.js';
import type { UrlSafetyOptions } from './url-safety.js';

export interface ApiClientsOptions {
  defaultMaxApiClients: number;
  allowWildcardWebOrigin: boolean;
  secretRevealEnabled: boolean;
  allowOfflineAccess?: boolean;
  urlSafety?: UrlSafetyOptions;
  /** How long a replica keeps an account's limit; 0 reads it from Keycloak every time. */
  limitCacheTtlMs?: number;
  now?: () => Date;
}

export interface ListOptions {
  search?: string;
  first?: number;
  max?: number;
}

export interface Versioned {
  client: ApiClient;
  etag: string;
}

/** A weak ETag over the resource as the caller sees it. */
export function etagOf(client: ApiClient): string {
  return `W/"${createHash('sha256').update(JSON.stringify(client)).digest('base64url').slice(0, 27)}"`;
}

const notFound = (accountId: string, clientId: string) =>
  new ProblemError('not-found', `Account ${accountId} has no API client ${clientId}`);

/** Keycloak's internal id, kept per clientId: ids never change, so a miss only costs one lookup. */
class IdCache {
  readonly #entries = new Map<string, { id: string; accountId: string }>();
  constructor(readonly capacity = 10_000) {}
  get(clientId: string) {
    return this.#entries.get(clientId);
  }
  set(clientId: string, id: string, accountId: string) {
    if (this.#entries.size >= this.capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(clientId, { id, accountId });
  }
  delete(clientId: string) {
    this.#entries.delete(clientId);
  }
}

/** RFC 7396 merges objects member by member: a patch may change one setting of back-channel logout. */
function mergeBackchannel(current: ApiClient, patch: unknown): ApiClientFields['backchannelLogout'] {
  const changes = Object.fromEntries(
    Object.entries(patch as Record<string, unknown>).filter(([, v]) => v !== null),
  );
  return {
    url: current.backchannelLogout?.url ?? '',
    sessionRequired: current.backchannelLogout?.sessionRequired ?? false,
    revokeOfflineSessions: current.backchannelLogout?.revokeOfflineSessions ?? false,
    ...changes,
  } as ApiClientFields['backchannelLogout'];
}

/**
 * The fields of a body that failed schema validation, as far as they can be read: each member of
 * the wrong type falls back to `base`, list items of the wrong type become "" (keeping indexes),
 * so that the domain rules can still report every other failing field in the same answer.
 */
export function lenientFields(raw: unknown, base: ApiClientFields): ApiClientFields {
  const body = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const text = (name: keyof ApiClientFields, fallback: string | null) =>
    typeof body[name] === 'string' ? (body[name] as string) : body[name] === null ? null : fallback;
  const list = (name: keyof ApiClientFields, fallback: string[]) =>
    Array.isArray(body[name])
      ? (body[name] as unknown[]).map((item) => (typeof item === 'string' ? item : ''))
      : body[name] === null
        ? [] // a merge patch's null: back to the default, no list
        : fallback;
  const types = Array.isArray(body.capabilityTypes)
    ? (body.capabilityTypes as unknown[]).filter(
        (t): t is 'WebApp' | 'Script' => t === 'WebApp' || t === 'Script',
      )
    : base.capabilityTypes;
  const backchannel = body.backchannelLogout as Record<string, unknown> | null | undefined;
  return {
    displayName: text('displayName', base.displayName),
    description: text('description', base.description),
    rootUrl: text('rootUrl', base.rootUrl),
    homeUrl: text('homeUrl', base.homeUrl),
    adminUrl: text('adminUrl', base.adminUrl),
    redirectUris: list('redirectUris', base.redirectUris),
    postLogoutRedirectUris: list('postLogoutRedirectUris', base.postLogoutRedirectUris),
    webOrigins: list('webOrigins', base.webOrigins),
    capabilityTypes: types.length > 0 ? types : base.capabilityTypes,
    backchannelLogout:
      backchannel && typeof backchannel === 'object'
        ? {
            url: typeof backchannel.url === 'string' ? backchannel.url : (base.backchannelLogout?.url ?? ''),
            sessionRequired: backchannel.sessionRequired === true,
            revokeOfflineSessions: backchannel.revokeOfflineSessions === true,
          }
        : backchannel === null
          ? null
          : base.backchannelLogout,
    scopes: list('scopes', base.scopes),
    enabled: typeof body.enabled === 'boolean' ? body.enabled : base.enabled,
  };
}

/** Schema errors first, then the domain's for fields the schema did not already flag. */
function mergeErrors(schemaErrors: FieldError[], domainErrors: FieldError[]): FieldError[] {
  const flagged = schemaErrors.map((error) => error.pointer);
  const covered = (pointer: string) =>
    flagged.some((p) => pointer === p || pointer.startsWith(`${p}/`) || p.startsWith(`${pointer}/`));
  return [...schemaErrors, ...domainErrors.filter((error) => !covered(error.pointer))];
}

export type ApiClientsService = ReturnType<typeof createApiClientsService>;

export function createApiClientsService(gateway: ClientsGateway, options: ApiClientsOptions) {
  const now = options.now ?? (() => new Date());
  const ids = new IdCache();

  const isManagedBy = (rep: ClientRepresentation, accountId: string): boolean =>
    !!rep.clientId?.startsWith(`${accountId}_`) &&
    (rep.attributes as Record<string, unknown> | undefined)?.[ACCOUNT_ATTRIBUTE] === accountId;

  async function catalogueNames(): Promise<string[]> {
    return (await gateway.catalogue()).map((scope) => scope.name);
  }

  /** The account's client in full, or not-found: never another account's, never an unmanaged one. */
  async function loadManaged(
    accountId: string,
    clientId: string,
  ): Promise<{ id: string; rep: ClientRepresentation }> {
    if (!clientId.startsWith(`${accountId}_`)) throw notFound(accountId, clientId);
    const rep = await gateway.findByClientId(clientId);
    if (!rep?.id || !isManagedBy(rep, accountId)) throw notFound(accountId, clientId);
    ids.set(clientId, rep.id, accountId);
    return { id: rep.id, rep };
  }

  /** The internal id of the account's client, from the cache when it can. */
  async function resolveId(accountId: string, clientId: string): Promise<string> {
    if (!clientId.startsWith(`${accountId}_`)) throw notFound(accountId, clientId);
    const hit = ids.get(clientId);
    if (hit && hit.accountId === accountId) return hit.id;
    return (await loadManaged(accountId, clientId)).id;
  }

  /** Runs an operation on a cached id; when Keycloak no longer knows that id, looks it up once more. */
  async function withClientId<T>(
    accountId: string,
    clientId: string,
    run: (id: string) => Promise<T>,
  ): Promise<T> {
    const id = await resolveId(accountId, clientId);
    try {
      return await run(id);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      ids.delete(clientId);
      const fresh = await loadManaged(accountId, clientId);
      return run(fresh.id);
    }
  }

  /**
   * The account's limit, kept for limitCacheTtlMs: looking up an account with no limit of its own
   * is a miss in Keycloak, which turns out costly next to the account query on a large realm
   * (see the README's performance section). A change made here is seen here at once, on other
   * replicas within the TTL.
   */
  const limits = new Map<string, { max: number; until: number }>();
  async function maxFor(accountId: string): Promise<number> {
    const hit = limits.get(accountId);
    if (hit && hit.until > Date.now()) return hit.max;
    const max = (await gateway.getAccountLimit(accountId)) ?? options.defaultMaxApiClients;
    if (limits.size >= 10_000) limits.clear();
    limits.set(accountId, { max, until: Date.now() + (options.limitCacheTtlMs ?? 10_000) });
    return max;
  }

  async function accountClients(accountId: string): Promise<ClientRepresentation[]> {
    const reps = await gateway.listByAccount(accountId, ACCOUNT_ATTRIBUTE);
    return reps.filter((rep) => isManagedBy(rep, accountId));
  }

  async function validate(
    accountId: string,
    fields: ApiClientFields,
    schemaErrors: FieldError[],
    extra: FieldError[] = [],
  ): Promise<void> {
    const catalogue = new Set(await catalogueNames());
    const domain = [
      ...extra,
      ...apiClientErrors(fields, {
        accountId,
        catalogue,
        allowWildcardWebOrigin: options.allowWildcardWebOrigin,
        urlSafety: options.urlSafety,
      }),
    ];
    const errors = mergeErrors(schemaErrors, domain);
    if (errors.length > 0) {
      throw new ProblemError('validation-failed', `${errors.length} field(s) failed validation`, { errors });
    }
  }

  function checkPrecondition(current: ApiClient, ifMatch: string | undefined): void {
    if (ifMatch === undefined) return;
    const etag = etagOf(current);
    const accepted = ifMatch.split(',').map((tag) => tag.trim());
    const strip = (tag: string) => tag.replace(/^W\//, '');
    if (!accepted.includes('*') && !accepted.some((tag) => strip(tag) === strip(etag))) {
      throw new ProblemError('precondition-failed', `If-Match does not match the current ETag ${etag}`);
    }
  }

  function checkClientIdUnchanged(bodyClientId: string | undefined, clientId: string): void {
    if (bodyClientId !== undefined && bodyClientId !== clientId) {
      throw new ProblemError('client-id-immutable', `clientId is ${clientId} and cannot be changed`, {
        errors: [{ pointer: '/clientId', in: 'body', reason: `must be ${clientId} or left out` }],
      });
    }
  }

  /**
   * Writes new fields over a loaded client: the representation, then the catalogue scopes one
   * by one (Keycloak ignores scope lists on update). A failure puts back what was written.
   */
  async function writeFields(
    accountId: string,
    loaded: { id: string; rep: ClientRepresentation },
    fields: ApiClientFields,
  ) {
    const catalogue = await gateway.catalogue();
    const before = fromClientRepresentation(
      loaded.rep,
      catalogue.map((scope) => scope.name),
    );
    const createdAt = before.createdAt ?? now().toISOString();
    const rep = toClientRepresentation(before.clientId, accountId, createdAt, fields);
    const scopeId = new Map(catalogue.map((scope) => [scope.name, scope.id]));
    const toAdd = fields.scopes.filter((scope) => !before.scopes.includes(scope));
    const toRemove = before.scopes.filter((scope) => !fields.scopes.includes(scope));

    await gateway.update(loaded.id, rep);
    const added: string[] = [];
    const removed: string[] = [];
    try {
      for (const scope of toAdd) {
        await gateway.addDefaultScope(loaded.id, scopeId.get(scope) as string);
        added.push(scope);
      }
      for (const scope of toRemove) {
        await gateway.removeDefaultScope(loaded.id, scopeId.get(scope) as string);
        removed.push(scope);
      }
      // A client made before token hygiene may still offer offline tokens: not after this update.
      const scopesNow = [
        ...(loaded.rep.defaultClientScopes ?? []),
        ...(loaded.rep.optionalClientScopes ?? []),
      ];
      if (withoutOfflineAccess(scopesNow, options.allowOfflineAccess).length < scopesNow.length)
        await gateway.removeScopeByName(loaded.id, OFFLINE_ACCESS_SCOPE);
    } catch (error) {
      // Undo in reverse: scopes, then the representation as it was.
      const undo = async () => {
        for (const scope of removed) await gateway.addDefaultScope(loaded.id, scopeId.get(scope) as string);
        for (const scope of added) await gateway.removeDefaultScope(loaded.id, scopeId.get(scope) as string);
        await gateway.update(
          loaded.id,
          toClientRepresentation(before.clientId, accountId, createdAt, fieldsOf(before)),
        );
      };
      try {
        await undo();
      } catch {
        throw new ProblemError(
          'keycloak-unavailable',
          `Keycloak failed during the change of ${before.clientId}, and part of it could not be undone yet; ` +
            'read the client and send the change again',
          { headers: { 'retry-after': '5' }, cause: error },
        );
      }
      throw error;
    }
    const defaultScopes = new Set(loaded.rep.defaultClientScopes ?? []);
    for (const scope of toAdd) defaultScopes.add(scope);
    for (const scope of toRemove) defaultScopes.delete(scope);
    const client = fromClientRepresentation(
      { ...loaded.rep, ...rep, defaultClientScopes: [...defaultScopes] },
      catalogue.map((scope) => scope.name),
    );
    return { client, etag: etagOf(client) };
  }

  return {
    async list(accountId: string, query: ListOptions) {
      const [reps, max, catalogue] = await Promise.all([
        accountClients(accountId),
        maxFor(accountId),
        catalogueNames(),
      ]);
      const needle = query.search?.toLowerCase();
      const rows: ApiClientSummary[] = reps
        .map((rep) => toSummary(fromClientRepresentation(rep, catalogue)))
        .filter(
          (row) =>
            !needle ||
            row.clientId.toLowerCase().includes(needle) ||
            (row.displayName ?? '').toLowerCase().includes(needle),
        )
        .sort((a, b) => a.clientId.localeCompare(b.clientId));
      return {
        items: rows.slice(query.first ?? 0, (query.first ?? 0) + (query.max ?? 20)),
        total: rows.length,
        limit: { max, used: reps.length },
      };
    },

    async get(accountId: string, clientId: string): Promise<Versioned> {
      const [{ rep }, catalogue] = await Promise.all([loadManaged(accountId, clientId), catalogueNames()]);
      const client = fromClientRepresentation(rep, catalogue);
      return { client, etag: etagOf(client) };
    },

    async create(
      accountId: string,
      input: ApiClientCreate,
      schemaErrors: FieldError[] = [],
    ): Promise<Versioned & { secret: string }> {
      const { clientId, ...given } = input;
      const base = { ...DEFAULT_FIELDS, capabilityTypes: ['Script' as const] };
      const fields = normaliseFields(
        schemaErrors.length > 0 ? lenientFields(input, base) : { ...DEFAULT_FIELDS, ...given },
      );
      const idErrors = typeof clientId === 'string' ? clientIdErrors(clientId, accountId) : [];
      await validate(accountId, fields, schemaErrors, idErrors);
      const [catalogue, realmDefaults] = await Promise.all([
        gateway.catalogue(),
        gateway.realmDefaultScopes(),
      ]);
      const catalogueNamesSet = new Set(catalogue.map((scope) => scope.name));
      const createdAt = now().toISOString();
      const rep: ClientRepresentation = {
        ...toClientRepresentation(clientId, accountId, createdAt, fields),
        // Sent on create, these lists replace the realm's defaults: send the realm's own (less
        // any catalogue scope) plus the chosen catalogue scopes.
        defaultClientScopes: [
          ...withoutOfflineAccess(realmDefaults.defaults, options.allowOfflineAccess).filter(
            (s) => !catalogueNamesSet.has(s),
          ),
          ...fields.scopes,
        ],
        optionalClientScopes: withoutOfflineAccess(realmDefaults.optional, options.allowOfflineAccess).filter(
          (s) => !catalogueNamesSet.has(s),
        ),
      };
      // On create, an OIDC client with any rootUrl (even "") and no redirect URIs or web origins
      // gets "/*" for them from Keycloak. Leave rootUrl out when there is none, and put the
      // lists back right after create when there is one.
      const { rootUrl: _root, ...withoutRootUrl } = rep;
      const createRep = fields.rootUrl === null ? withoutRootUrl : rep;
      const keycloakFillsDefaults =
        fields.rootUrl !== null && (fields.redirectUris.length === 0 || fields.webOrigins.length === 0);

      const limitReached = (count: number, max: number) =>
        new ProblemError(
          'limit-reached',
          `Account ${accountId} already has ${count} of its ${max} API clients`,
        );

      /** Removes what a failed create left, found by id or, when Keycloak's answer was lost, by clientId. */
      async function undoCreate(knownId: string | undefined, cause: unknown): Promise<never> {
        for (let attempt = 0; attempt < 3; attempt++) {
          try {
            const leftover = knownId ?? (await gateway.findByClientId(clientId));
            const id = typeof leftover === 'string' ? leftover : leftover?.id;
            const ours =
              typeof leftover === 'string' ||
              (leftover !== undefined &&
                isManagedBy(leftover, accountId) &&
                (leftover.attributes as Record<string, unknown> | undefined)?.[CREATED_AT_ATTRIBUTE] ===
                  createdAt);
            if (id && ours) await gateway.remove(id);
            throw cause;
          } catch (error) {
            if (error === cause) throw error;
            await sleep(100 * (attempt + 1));
          }
        }
        throw new ProblemError(
          'keycloak-unavailable',
          `Keycloak failed while ${clientId} was created, and what was created could not be removed yet; ` +
            'retry the create, or delete the client',
          { headers: { 'retry-after': '5' }, cause },
        );
      }

      return gateway.withAccountLock(
        accountId,
        async () => {
          const [existing, max] = await Promise.all([accountClients(accountId), maxFor(accountId)]);
          if (existing.length >= max) throw limitReached(existing.length, max);
          let id: string;
          try {
            id = await gateway.create(createRep);
          } catch (error) {
            if (isConflict(error)) throw new ProblemError('client-id-taken', `${clientId} is already in use`);
            // The answer may be lost after Keycloak created the client: look for it and remove it.
            return undoCreate(undefined, error);
          }
          let secret: string;
          try {
            if (keycloakFillsDefaults) await gateway.update(id, rep);
            secret = await gateway.getSecret(id);
          } catch (error) {
            // No half-done work: a client that is not as asked, or whose secret nobody got, goes again.
            return undoCreate(id, error);
          }
          ids.set(clientId, id, accountId);
          const client = fromClientRepresentation(
            rep,
            catalogue.map((scope) => scope.name),
          );
          return { client, etag: etagOf(client), secret };
        },
        // While other creates of the account hold the lock: once it is full, say so at once.
        async () => {
          const [existing, max] = await Promise.all([accountClients(accountId), maxFor(accountId)]);
          if (existing.length >= max) throw limitReached(existing.length, max);
        },
      );
    },

    async replace(
      accountId: string,
      clientId: string,
      body: ApiClientReplace,
      ifMatch?: string,
      schemaErrors: FieldError[] = [],
    ): Promise<Versioned> {
      if (schemaErrors.length === 0) checkClientIdUnchanged(body.clientId, clientId);
      const loaded = await loadManaged(accountId, clientId);
      const current = fromClientRepresentation(loaded.rep, await catalogueNames());
      checkPrecondition(current, ifMatch);
      const { clientId: _ignored, ...fields } = body;
      const normalised = normaliseFields(
        schemaErrors.length > 0 ? lenientFields(body, fieldsOf(current)) : fields,
      );
      await validate(accountId, normalised, schemaErrors);
      return writeFields(accountId, loaded, normalised);
    },

    async patch(
      accountId: string,
      clientId: string,
      patch: ApiClientPatch,
      ifMatch?: string,
      schemaErrors: FieldError[] = [],
    ): Promise<Versioned> {
      if (schemaErrors.length === 0) checkClientIdUnchanged(patch.clientId, clientId);
      const loaded = await loadManaged(accountId, clientId);
      const current = fromClientRepresentation(loaded.rep, await catalogueNames());
      checkPrecondition(current, ifMatch);
      const { clientId: _ignored, ...changes } = patch;
      const merged: ApiClientFields = { ...fieldsOf(current) };
      for (const [name, value] of Object.entries(changes) as [keyof ApiClientFields, unknown][]) {
        if (value === undefined) continue;
        // RFC 7396: null removes the member, which for this resource means its default
        const reset = name === 'capabilityTypes' ? current.capabilityTypes : DEFAULT_FIELDS[name];
        (merged as Record<string, unknown>)[name] =
          value === null ? reset : name === 'backchannelLogout' ? mergeBackchannel(current, value) : value;
      }
      const normalised = normaliseFields(
        schemaErrors.length > 0 ? lenientFields(patch, fieldsOf(current)) : merged,
      );
      await validate(accountId, normalised, schemaErrors);
      return writeFields(accountId, loaded, normalised);
    },

    async remove(accountId: string, clientId: string, ifMatch?: string): Promise<void> {
      if (ifMatch !== undefined) {
        const loaded = await loadManaged(accountId, clientId);
        checkPrecondition(fromClientRepresentation(loaded.rep, await catalogueNames()), ifMatch);
        await gateway.remove(loaded.id);
      } else {
        await withClientId(accountId, clientId, (id) => gateway.remove(id));
      }
      ids.delete(clientId);
    },

    async bulkDelete(accountId: string, clientIds: string[]) {
      const owned = new Map(
        (await accountClients(accountId)).map((rep) => [rep.clientId as string, rep.id as string]),
      );
      const results: { clientId: string; status: BulkDeleteStatus }[] = [];
      // a few at a time: Keycloak deletes are not free, and the answer keeps the request's order
      const queue = clientIds.map((clientId, index) => ({ clientId, index }));
      const statuses = new Array<BulkDeleteStatus>(clientIds.length);
      const worker = async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const id = owned.get(next.clientId);
          if (!id) {
            statuses[next.index] = 'not-found';
            continue;
          }
          try {
            await gateway.remove(id);
            ids.delete(next.clientId);
            statuses[next.index] = 'deleted';
          } catch (error) {
            statuses[next.index] = isNotFound(error) ? 'not-found' : 'failed';
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(4, clientIds.length) }, worker));
      clientIds.forEach((clientId, index) => {
        results.push({ clientId, status: statuses[index] ?? 'failed' });
      });
      return { results };
    },

    async revealSecret(accountId: string, clientId: string): Promise<string> {
      if (!options.secretRevealEnabled) {
        throw new ProblemError(
          'forbidden',
          'Revealing secrets is switched off on this service: regenerate the secret to get a new one',
        );
      }
      return withClientId(accountId, clientId, (id) => gateway.getSecret(id));
    },

    async regenerateSecret(accountId: string, clientId: string): Promise<string> {
      return withClientId(accountId, clientId, (id) => gateway.regenerateSecret(id));
    },

    async getLimit(accountId: string): Promise<Limit> {
      const [max, clients] = await Promise.all([maxFor(accountId), accountClients(accountId)]);
      return { maxApiClients: max, used: clients.length };
    },

    async setLimit(accountId: string, maxApiClients: number | null): Promise<Limit> {
      limits.delete(accountId);
      await gateway.setAccountLimit(accountId, maxApiClients);
      limits.delete(accountId);
      const used = (await accountClients(accountId)).length;
      return { maxApiClients: maxApiClients ?? options.defaultMaxApiClients, used };
    },

    async scopes(): Promise<Scope[]> {
      return (await gateway.catalogue()).map(({ name, description }) => ({ name, description }));
    },
  };
}
