// What a create that failed leaves behind, and how it is cleared (SPEC §4 No half-done work, Limit).
// A create that failed after Keycloak made the client removes it again (found by id, or by
// clientId, account marker and createdAt when Keycloak's answer was lost). A create whose answer
// never came (a timeout, a lost connection, a gateway's 502/504) has an unknown outcome: Keycloak
// may still commit it after the service gave up. It is settled under the account's lock before
// the answer: looked up at once, and again once a call sent then has surely landed (a call's
// budget after it was sent, the bound the lease rests on); a client found is removed. Only a
// lookup that succeeds lets the answer say "not created"; when none does, the lock is kept until
// its lease ends (docs/consistency-edges.md).
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientsGateway } from '../../keycloak/clients-gateway.js';
import { isNotFound, isUnavailable, keycloakStatus } from '../../keycloak/errors.js';
import { keycloakUnavailable } from '../../lib/problem.js';
import { isManagedBy } from '../access/ownership.js';
import { CREATED_AT_ATTRIBUTE, type CreatePlan } from '../resource/mapping.js';
import type { Lease } from './account-lock.js';

/**
 * Whether a failed call may still have been done by Keycloak: no answer at all (a timeout, a lost
 * connection) or a gateway's 502/504. An answer of Keycloak's own (a 500) rolled its work back.
 */
export function outcomeUnknown(error: unknown): boolean {
  const status = keycloakStatus(error);
  return status === undefined ? isUnavailable(error) : status === 502 || status === 504;
}

export function createCreateOutcome(gateway: ClientsGateway) {
  /** Removes what a failed create left, found by id or, when Keycloak's answer was lost, by clientId. */
  async function undoCreate(
    plan: CreatePlan,
    accountId: string,
    knownId: string | undefined,
    cause: unknown,
  ): Promise<never> {
    const { clientId } = plan.rep as { clientId: string };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const id = knownId ?? (await findOurs(plan, accountId));
        if (id) await gateway.remove(id);
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
    return ours ? found.id : undefined;
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

  return { undoCreate, settleUnknownCreate };
}
