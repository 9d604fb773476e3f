// The per-account lock that keeps the limit exact across replicas: a client role `lock.<account>`
// of the service's own client, whose name Keycloak keeps unique (creating it a second time
// answers 409). A lock left by a crashed replica expires after ttlMs.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  isConflict,
  isNotFound,
  isUnavailable,
  KeycloakUnavailableError,
  keycloakStatus,
} from '../keycloak/errors.js';
import type { ServiceClientRoles } from './service-client.js';

export class LockTimeoutError extends KeycloakUnavailableError {
  override name = 'LockTimeoutError';
}

export interface LockOptions {
  ttlMs?: number;
  waitMs?: number;
}

const lockRole = (accountId: string) => `lock.${accountId}`;
/** Keycloak failures with no holder to explain them, before a create gives up (503). */
const MAX_UNEXPLAINED_ERRORS = 3;

export function createAccountLock(roles: ServiceClientRoles, options: LockOptions = {}) {
  const ttlMs = options.ttlMs ?? 30_000;
  const waitMs = options.waitMs ?? 15_000;

  async function release(roleName: string, acquiredAt: number): Promise<void> {
    // A few tries: a lock left behind blocks the account until it expires. Past its expiry
    // another replica may hold a lock of the same name: leave that one be.
    for (let attempt = 0; attempt < 3 && Date.now() < acquiredAt + ttlMs; attempt++) {
      try {
        await roles.delete('lock.release', roleName);
        return;
      } catch (error) {
        if (isNotFound(error)) return;
        await sleep(50 * (attempt + 1));
      }
    }
  }

  return {
    /**
     * Runs `work` while holding the account's lock. While it waits, `whileWaiting` may end the
     * wait early by throwing (e.g. when the account is already full).
     */
    async withAccountLock<T>(
      accountId: string,
      work: () => Promise<T>,
      whileWaiting?: () => Promise<void>,
    ): Promise<T> {
      const roleName = lockRole(accountId);
      const deadline = Date.now() + waitMs;
      let pause = 20;
      let unexplainedErrors = 0;
      let lastWaitCheck = 0;
      for (;;) {
        const acquiredAt = Date.now();
        const owner = randomUUID();
        let held = false;
        try {
          await roles.create('lock.acquire', {
            name: roleName,
            description: 'API Clients service: held while an API client of this account is created',
            attributes: { expiresAt: [String(acquiredAt + ttlMs)], owner: [owner] },
          });
          held = true;
        } catch (error) {
          if (!isConflict(error) && !isUnavailable(error)) throw error;
          // 409: someone holds it. A 5xx or a lost answer says nothing for sure: two creates of
          // the same role at one instant sometimes end in a 500 for the loser, and a create whose
          // answer was lost may have made the lock ours. Look at the holder to know.
          // Under contention the in-memory H2 database sometimes answers that read with a 500
          // too: it counts as one more unexplained error, not as the end.
          const holder = await roles.find('lock.inspect', roleName).catch((inspectError) => {
            // a 5xx answer, not a timeout: a slow Keycloak must end the create at once
            const answered5xx = (keycloakStatus(inspectError) ?? 0) >= 500;
            if (!answered5xx || ++unexplainedErrors > MAX_UNEXPLAINED_ERRORS) throw inspectError;
            return 'unknown' as const;
          });
          if (holder === 'unknown') {
            await sleep(pause);
            continue;
          }
          if (holder?.attributes?.owner?.[0] === owner) {
            held = true;
          } else if (!holder?.id) {
            // nobody holds it: a lost race that nobody won, or a failure of Keycloak itself
            if (!isConflict(error) && ++unexplainedErrors > MAX_UNEXPLAINED_ERRORS) throw error;
            continue;
          } else if (Number(holder.attributes?.expiresAt?.[0] ?? Number.POSITIVE_INFINITY) < Date.now()) {
            // The holder is gone; remove exactly the lock we saw (by id), not a newer one.
            await roles.deleteById('lock.expire', holder.id).catch((e) => {
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
          await release(roleName, acquiredAt);
        }
      }
    },
  };
}

export type AccountLock = ReturnType<typeof createAccountLock>;
