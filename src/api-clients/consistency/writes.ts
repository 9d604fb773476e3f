// Writes of several Keycloak calls, each with its undo: no half-done work. A create that fails
// after Keycloak made the client removes it again (found by clientId and createdAt when Keycloak's
// answer was lost; its role mappings go with it); an update that fails puts back the roles, the
// scopes and the representation as they were. An update runs under the client's lock (service.ts),
// so what it puts back is what it read under that lock: no other writer of the service can have
// changed the client in between, as long as the lease runs: every undo write first checks that
// one more call can end within the lease, and writes nothing once it cannot (after it, another
// replica may hold the client's lock and have written since).
//
// A create whose answer never came (a timeout, a lost connection, a gateway's 502/504) has an
// unknown outcome: Keycloak may still commit it after the service gave up. It is settled under the
// account's lock before the answer: looked up at once, and again once a call sent then has surely
// landed (a call's budget after it was sent, the bound the lease rests on); a client found is
// removed. Only a lookup that succeeds lets the answer say "not created"; when none does, the lock
// is kept until its lease ends (docs/consistency-edges.md).
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientsGateway, RoleRepresentation } from '../../keycloak/clients-gateway.js';
import { isConflict, isNotFound, isUnavailable, keycloakStatus } from '../../keycloak/errors.js';
import { keycloakUnavailable } from '../../lib/problem.js';
import { type Catalogue, scopeIdOf } from '../access/catalogue.js';
import type { Loaded } from '../access/directory.js';
import { isManagedBy } from '../access/ownership.js';
import { createRoleAssignment, type UndoSteps } from '../access/role-assignment.js';
import { type ChangeRecord, recordAttribute, undoRecord } from '../activity/history.js';
import { clientIdTaken } from '../errors.js';
import {
  type ClientRepresentation,
  CREATED_AT_ATTRIBUTE,
  type CreatePlan,
  fieldsOf,
  fromClientRepresentation,
  OFFLINE_ACCESS_SCOPE,
  toClientRepresentation,
} from '../resource/mapping.js';
import type { ApiClientConfig, ApiClientFields } from '../resource/schema.js';
import { type Lease, LeaseExpiredError } from './account-lock.js';

/**
 * Whether a failed call may still have been done by Keycloak: no answer at all (a timeout, a lost
 * connection) or a gateway's 502/504. An answer of Keycloak's own (a 500) rolled its work back.
 */
export function outcomeUnknown(error: unknown): boolean {
  const status = keycloakStatus(error);
  return status === undefined ? isUnavailable(error) : status === 502 || status === 504;
}

export interface WriteOptions {
  /** Whether managed clients may keep offline_access (offline tokens). */
  allowOfflineAccess: boolean;
}

export function createWrites(gateway: ClientsGateway, options: WriteOptions) {
  const roleAssignment = createRoleAssignment(gateway);

  /** A client made before the token-hygiene rule may still carry offline_access: take it off. */
  async function removeOfflineAccess(id: string, rep: ClientRepresentation): Promise<void> {
    if (options.allowOfflineAccess) return;
    const has = (list: string[] | undefined) => (list ?? []).includes(OFFLINE_ACCESS_SCOPE);
    if (!has(rep.defaultClientScopes) && !has(rep.optionalClientScopes)) return;
    const [defaults, optional] = await Promise.all([
      gateway.listDefaultScopes(id),
      gateway.listOptionalScopes(id),
    ]);
    for (const scope of defaults.filter((s) => s.name === OFFLINE_ACCESS_SCOPE && s.id))
      await gateway.removeDefaultScope(id, scope.id as string);
    for (const scope of optional.filter((s) => s.name === OFFLINE_ACCESS_SCOPE && s.id))
      await gateway.removeOptionalScope(id, scope.id as string);
  }

  /** Removes what a failed create left, found by id or, when Keycloak's answer was lost, by clientId. */
  async function undoCreate(
    plan: CreatePlan,
    accountId: string,
    knownId: string | undefined,
    cause: unknown,
  ): Promise<never> {
    const { clientId } = plan.rep as { clientId: string };
    const createdAt = (plan.rep.attributes as Record<string, string>)[CREATED_AT_ATTRIBUTE];
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
    throw keycloakUnavailable(
      `Keycloak failed while ${clientId} was created, and what was created could not be removed yet; ` +
        'retry the create, or delete the client',
      cause,
    );
  }

  /** The client this create made, if Keycloak holds it: same clientId, account marker and createdAt. */
  async function findOurs(plan: CreatePlan, accountId: string): Promise<string | undefined> {
    const found = await gateway.findByClientId(plan.rep.clientId as string);
    const createdAt = (plan.rep.attributes as Record<string, string>)[CREATED_AT_ATTRIBUTE];
    const ours =
      found?.id !== undefined &&
      isManagedBy(found, accountId) &&
      (found.attributes as Record<string, unknown> | undefined)?.[CREATED_AT_ATTRIBUTE] === createdAt;
    return ours ? found?.id : undefined;
  }

  /**
   * The create's answer never came: find out under the lock whether Keycloak made the client, and
   * remove it if so. Always throws a 503 whose detail says what is known.
   */
  async function settleUnknownCreate(
    plan: CreatePlan,
    accountId: string,
    cause: unknown,
    lease: Lease,
    sentAt: number,
  ): Promise<never> {
    const clientId = plan.rep.clientId as string;
    const look = () =>
      findOurs(plan, accountId).then(
        (id) => ({ id }),
        () => 'failed' as const,
      );
    // At once: a create that landed already is found and removed without waiting.
    let seen = await look();
    if (seen === 'failed' || seen.id === undefined) {
      // A create still on its way lands within a call's budget after it was sent, or never.
      await lease.landed(sentAt);
      seen = await look();
      for (let retry = 1; seen === 'failed' && retry < 3; retry++) {
        await sleep(100 * retry);
        seen = await look();
      }
    }
    if (seen === 'failed') {
      // Nobody knows whether the client exists: keep the account's lock until its lease ends.
      lease.keep();
      throw keycloakUnavailable(
        `Keycloak did not answer the create of ${clientId}, and could not be asked since whether it made ` +
          'the client: it may exist. No other create of the account proceeds until the lock lease ends; ' +
          'then read the client and delete it, or retry the create',
        cause,
      );
    }
    const { id } = seen;
    if (id === undefined) {
      throw keycloakUnavailable(
        `Keycloak did not answer the create of ${clientId}; it was not created. Try again shortly`,
        cause,
      );
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await gateway.remove(id);
        break;
      } catch (error) {
        if (isNotFound(error)) break;
        if (attempt === 2) {
          throw keycloakUnavailable(
            `Keycloak did not answer the create of ${clientId} in time but made the client, which could ` +
              'not be removed yet; delete the client, or retry the create',
            cause,
          );
        }
        await sleep(100 * (attempt + 1));
      }
    }
    throw keycloakUnavailable(
      `Keycloak did not answer the create of ${clientId} in time; the client it made was removed again, ` +
        'so nothing was created. Try again shortly',
      cause,
    );
  }

  return {
    /**
     * Creates the client as planned, gives it its roles and reads its secret; undone on any
     * failure. Keycloak generates the secret (SPEC §4); its create answers only a Location, so the
     * secret is one more call (a service-made secret sent with the representation would save it,
     * but the spec leaves secret generation to Keycloak).
     */
    async create(
      plan: CreatePlan,
      accountId: string,
      roles: readonly string[],
      catalogue: Catalogue,
      /** The account lock's lease: an unknown outcome is settled while it is held. */
      lease: Lease,
    ): Promise<{ id: string; secret: string }> {
      let id: string;
      const sentAt = lease.now();
      try {
        id = await gateway.create(plan.rep);
      } catch (error) {
        if (isConflict(error)) throw clientIdTaken(plan.rep.clientId as string);
        if (outcomeUnknown(error)) return settleUnknownCreate(plan, accountId, error, lease, sentAt);
        // Keycloak answered a failure: look for the client anyway and remove it.
        return undoCreate(plan, accountId, undefined, error);
      }
      try {
        if (plan.fixUp) await gateway.update(id, plan.fixUp);
        // Undone by removing the client: its scope mappings and service account go with it.
        const script = plan.rep.serviceAccountsEnabled === true;
        await roleAssignment.apply(id, { held: [], roles, script, wasScript: false }, catalogue, []);
        // No half-done work: a client whose secret nobody got goes again.
        return { id, secret: await gateway.getSecret(id) };
      } catch (error) {
        return undoCreate(plan, accountId, id, error);
      }
    },

    /**
     * Writes new fields over a loaded client: the representation, then the catalogue scopes one
     * by one (Keycloak ignores scope lists on update). A failure puts back what was written.
     */
    async update(
      accountId: string,
      loaded: Loaded,
      before: ApiClientConfig,
      fields: ApiClientFields,
      catalogue: Catalogue,
      createdAtIfMissing: string,
      heldRoles: readonly RoleRepresentation[],
      /** Who changed what (activity/history.ts): written with the representation, and again, undone, by an undo. */
      record: ChangeRecord,
      /**
       * Called before each write and each undo write; throws to stop (the lock's lease ran out): what
       * was written is undone while the lease lasts, and nothing is written after it.
       */
      beforeWrite: (what: string) => void = () => {},
    ): Promise<ApiClientConfig> {
      const createdAt = before.createdAt ?? createdAtIfMissing;
      const written = toClientRepresentation(before.clientId, accountId, createdAt, fields);
      const rep = { ...written, attributes: { ...written.attributes, ...recordAttribute(record) } };
      const toAdd = fields.scopes.filter((scope) => !before.scopes.includes(scope));
      const toRemove = before.scopes.filter((scope) => !fields.scopes.includes(scope));
      const scopeId = (name: string) => scopeIdOf(catalogue, name);

      beforeWrite(`the change of ${before.clientId}`);
      await gateway.update(loaded.id, rep);
      const added: string[] = [];
      const removed: string[] = [];
      const undoRoles: UndoSteps = [];
      try {
        for (const scope of toAdd) {
          beforeWrite(`adding ${scope}`);
          await gateway.addDefaultScope(loaded.id, scopeId(scope));
          added.push(scope);
        }
        for (const scope of toRemove) {
          beforeWrite(`removing ${scope}`);
          await gateway.removeDefaultScope(loaded.id, scopeId(scope));
          removed.push(scope);
        }
        const change = {
          held: heldRoles,
          roles: fields.roles,
          script: fields.capabilityTypes.includes('Script'),
          wasScript: before.capabilityTypes.includes('Script'),
        };
        beforeWrite(`the roles of ${before.clientId}`);
        await roleAssignment.apply(loaded.id, change, catalogue, undoRoles);
        await removeOfflineAccess(loaded.id, loaded.rep);
      } catch (error) {
        try {
          // Undo in reverse: roles, scopes, then the representation as it was; each write only
          // while the lease lasts (after it, another writer may hold the client).
          for (const step of undoRoles.reverse()) {
            beforeWrite(`undoing the roles of ${before.clientId}`);
            await step();
          }
          for (const scope of removed) {
            beforeWrite(`adding ${scope} back`);
            await gateway.addDefaultScope(loaded.id, scopeId(scope));
          }
          for (const scope of added) {
            beforeWrite(`removing ${scope} again`);
            await gateway.removeDefaultScope(loaded.id, scopeId(scope));
          }
          beforeWrite(`putting ${before.clientId} back`);
          const previous = toClientRepresentation(before.clientId, accountId, createdAt, fieldsOf(before));
          await gateway.update(loaded.id, {
            ...previous,
            attributes: { ...previous.attributes, ...recordAttribute(undoRecord(record)) },
          });
        } catch (undoError) {
          if (undoError instanceof LeaseExpiredError) {
            throw keycloakUnavailable(
              `Keycloak failed during the change of ${before.clientId}, and the undo could not be completed: ` +
                "the lock's lease ran out, so the undo wrote nothing more (another writer may have changed " +
                'the client since); read the client and send the change again',
              error,
            );
          }
          throw keycloakUnavailable(
            `Keycloak failed during the change of ${before.clientId}, and part of it could not be undone yet; ` +
              'read the client and send the change again',
            error,
          );
        }
        throw error;
      }
      const defaultScopes = new Set(loaded.rep.defaultClientScopes ?? []);
      for (const scope of toAdd) defaultScopes.add(scope);
      for (const scope of toRemove) defaultScopes.delete(scope);
      return fromClientRepresentation(
        { ...loaded.rep, ...rep, defaultClientScopes: [...defaultScopes] },
        catalogue.names,
        fields.roles,
      );
    },
  };
}

export type Writes = ReturnType<typeof createWrites>;
