// Writes of several Keycloak calls, each with its undo: no half-done work. A create that fails
// after Keycloak made the client removes it again (create-outcome.ts, also when its outcome is
// unknown); an update that fails puts back the roles, the scopes and the representation as they
// were. An update runs under the client's lock (service.ts), so what it puts back is what it read
// under that lock: no other writer of the service can have changed the client in between, as
// long as the lease runs: every undo write first checks that one more call can end within the
// lease, and writes nothing once it cannot (after it, another replica may hold the client's lock
// and have written since).
import type { ClientsGateway, RoleRepresentation } from '../../keycloak/clients-gateway.js';
import { isConflict } from '../../keycloak/errors.js';
import { keycloakUnavailable } from '../../lib/problem.js';
import { type Catalogue, scopeIdOf } from '../access/catalogue.js';
import type { Loaded } from '../access/directory.js';
import { createRoleAssignment, type UndoSteps } from '../access/role-assignment.js';
import { type ChangeRecord, recordAttribute, undoRecord } from '../activity/history.js';
import { endRevivedSecret } from '../credentials/expired-secret.js';
import { clientIdTaken } from '../errors.js';
import {
  type ClientRepresentation,
  type CreatePlan,
  fieldsOf,
  fromClientRepresentation,
  OFFLINE_ACCESS_SCOPE,
  toClientRepresentation,
} from '../resource/mapping.js';
import type { ApiClientConfig, ApiClientFields } from '../resource/schema.js';
import { expiresAtOf, expiryAttributes } from '../resource/secret-expiry.js';
import { type Lease, LeaseExpiredError } from './account-lock.js';
import { createCreateOutcome, outcomeUnknown } from './create-outcome.js';

export interface WriteOptions {
  /** Whether managed clients may keep offline_access (offline tokens). */
  allowOfflineAccess: boolean;
}

export function createWrites(gateway: ClientsGateway, options: WriteOptions) {
  const { undoCreate, settleUnknownCreate } = createCreateOutcome(gateway);
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

  /**
   * What a credential change needs besides the representation, so that the old credential stops
   * working at once (SPEC §2):
   * - a switch to a key pair replaces the secret with one nobody is told (Keycloak's client-jwt
   *   refuses client_secret anyway; a switch back must not revive the old one), no grace;
   * - a switch to a secret makes a new one (answered once), with the expiry asked for (a
   *   regenerate resets it);
   * - a secret client whose secret had expired: Keycloak's rotation executor rotated it on this
   *   update (ClientSecretRotationExecutor, "expired" on UPDATED) and accepts the expired secret
   *   again as the rotated one: that is ended at once, and the expiry written again.
   * Answers the new secret when the credential became a secret.
   */
  async function replaceSecret(
    loaded: Loaded,
    before: ApiClientConfig,
    fields: ApiClientFields,
  ): Promise<string | undefined> {
    const switched = before.credential.type !== fields.credential.type;
    const expiry = fields.credential.type === 'secret' ? fields.credential.expiresAt : null;
    const writeExpiry = () => gateway.update(loaded.id, { attributes: expiryAttributes(expiry) });
    if (switched) {
      const secret = await gateway.regenerateSecret(loaded.id);
      await gateway.endRotatedSecret(loaded.id);
      await writeExpiry();
      return fields.credential.type === 'secret' ? secret : undefined;
    }
    const expiredBefore = expiresAtOf(loaded.rep.attributes as Record<string, unknown> | undefined);
    const stillExpired = expiry !== null && Date.parse(expiry) <= Date.now();
    if (expiredBefore && Date.parse(expiredBefore) <= Date.now() && stillExpired) {
      // The secret Keycloak made on this update expires a moment away (an expiry already past
      // would make the next update rotate again), and the expired one is refused again.
      await endRevivedSecret(gateway, loaded.id);
    }
    return undefined;
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
    ): Promise<{ id: string; secret: string | undefined }> {
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
        // No half-done work: a client whose secret nobody got goes again. A key-pair client's
        // secret is never shown (JWTClientAuthenticator does not take it).
        if (plan.rep.clientAuthenticatorType !== 'client-secret') return { id, secret: undefined };
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
    ): Promise<{ client: ApiClientConfig; secret?: string }> {
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
      let secret: string | undefined;
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
        beforeWrite(`the credential of ${before.clientId}`);
        secret = await replaceSecret(loaded, before, fields);
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
      const client = fromClientRepresentation(
        { ...loaded.rep, ...rep, defaultClientScopes: [...defaultScopes] },
        catalogue.names,
        fields.roles,
      );
      return secret === undefined || fields.credential.type !== 'secret' ? { client } : { client, secret };
    },
  };
}

export type Writes = ReturnType<typeof createWrites>;
