// Writes of several Keycloak calls, each with its undo: no half-done work. A create that fails
// after Keycloak made the client removes it again (found by clientId and createdAt when Keycloak's
// answer was lost; its role mappings go with it); an update that fails puts back the roles, the
// scopes and the representation as they were. An update runs under the client's lock (service.ts),
// so what it puts back is what it read under that lock: no other writer of the service can have
// changed the client in between.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientsGateway, RoleRepresentation } from '../../keycloak/clients-gateway.js';
import { isConflict } from '../../keycloak/errors.js';
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
    ): Promise<{ id: string; secret: string }> {
      let id: string;
      try {
        id = await gateway.create(plan.rep);
      } catch (error) {
        if (isConflict(error)) throw clientIdTaken(plan.rep.clientId as string);
        // The answer may be lost after Keycloak created the client: look for it and remove it.
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
      /** Called before each write; throws to stop (the lock's lease ran out), and what was written is undone. */
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
          // Undo in reverse: roles, scopes, then the representation as it was.
          for (const step of undoRoles.reverse()) await step();
          for (const scope of removed) await gateway.addDefaultScope(loaded.id, scopeId(scope));
          for (const scope of added) await gateway.removeDefaultScope(loaded.id, scopeId(scope));
          const previous = toClientRepresentation(before.clientId, accountId, createdAt, fieldsOf(before));
          await gateway.update(loaded.id, {
            ...previous,
            attributes: { ...previous.attributes, ...recordAttribute(undoRecord(record)) },
          });
        } catch {
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
