// Locks that hold across replicas: a client role of the service's own client (`lock.<account>`
// while a create counts and writes, `lock.client.<digest of the clientId>` while an update reads,
// checks and writes),
// whose name Keycloak keeps unique (creating it a second time answers 409). The role carries a
// random owner token and nothing else: no expiry stamped with one replica's clock. The token is
// drawn once per withLock call, not per pass: an acquire whose answer was lost (a timeout) may
// commit later, and a later pass that finds the lock carrying its token knows the lock is its own
// (docs/consistency-edges.md).
//
// Time is measured only on each replica's own monotonic clock (performance.now):
// - the holder starts its lease before it sends the acquire, and stops before a write it can no
//   longer finish within the lease (Lease.assertLeft);
// - a waiter treats a lock as left behind only after it has seen the same owner token for longer
//   than the lease on its own clock. It started looking after the holder started its lease, so
//   the holder's lease has run out by then, whatever the two wall clocks say.
// Release deletes the lock by name while the holder's lease runs (nobody can have taken it over
// then); past it, it reads the lock and deletes it by id only when it still carries the holder's token.
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  isConflict,
  isNotFound,
  isUnavailable,
  KeycloakUnavailableError,
  keycloakStatus,
} from '../../keycloak/errors.js';
import { createTtlCache } from '../../lib/cache.js';
import type { ServiceClientRoles } from './service-client.js';

/** An account's lock: an account id is at most 63 characters of [a-z0-9-]. */
export const accountLockName = (accountId: string): string => `lock.${accountId}`;

/**
 * A client's lock. A clientId may be 255 characters, and Keycloak's role names are at most 255:
 * the name carries a digest of the clientId instead (an account id has no ".", so it never meets
 * an account's lock).
 */
export const clientLockName = (clientId: string): string =>
  `lock.client.${createHash('sha256').update(clientId).digest('base64url')}`;

export class LockTimeoutError extends KeycloakUnavailableError {
  override name = 'LockTimeoutError';
}

/** The holder's lease ran out before a write: nothing was sent (503, retry). */
export class LeaseExpiredError extends KeycloakUnavailableError {
  override name = 'LeaseExpiredError';
}

/**
 * Runs while a request waits for a lock and may end the wait by throwing: every 250 ms while
 * another holder has it in Keycloak ('keycloak'), and once when a request queued on this replica
 * gets its turn ('turn').
 */
export type WhileWaiting = (moment: 'turn' | 'keycloak') => Promise<void>;

export interface WithLockOptions {
  /**
   * Queue on this replica first: of the requests for this lock on one replica, only the first in
   * line contends in Keycloak, the others wait here in order (within the same waitMs); each holder
   * still takes the lock in Keycloak. A waiter's `whileWaiting` runs once when its turn comes.
   */
  queueLocally?: boolean;
}

export interface LockOptions {
  /** How long a holder may keep a lock. Default: derived from the Keycloak timeout (leaseFor). */
  leaseMs?: number;
  /** How long one Keycloak call may take at most, retry included: a write needs that much lease left. */
  callBudgetMs?: number;
  /** How long a create or update waits for a lock before it answers 503. */
  waitMs?: number;
  /** This replica's monotonic clock in ms; tests may replace it. */
  monotonic?: () => number;
}

/**
 * One Keycloak call may take up to the timeout, twice (admin.ts retries once after a 401). A
 * holder makes at most three such calls before its last write starts: the acquire, the reads
 * under the lock, and the write itself; a second's margin on top.
 */
export const callBudgetFor = (keycloakTimeoutMs: number): number => 2 * keycloakTimeoutMs;
export const leaseFor = (keycloakTimeoutMs: number): number => 3 * callBudgetFor(keycloakTimeoutMs) + 1000;

export interface Lease {
  /** Throws LeaseExpiredError unless one more Keycloak call can end within the lease. */
  assertLeft(what: string): void;
  /** Whether one more Keycloak call can end within the lease (assertLeft without the throw). */
  hasLeft(): boolean;
  /** This replica's monotonic clock, to mark when a call was sent (for landed). */
  now(): number;
  /**
   * Waits until a call sent at `sentAt` (now()) has surely reached Keycloak or never will: a
   * call's budget after it was sent, the same bound the lease itself rests on.
   */
  landed(sentAt: number): Promise<void>;
  /**
   * Leaves the lock in place when the work ends: the holder does not know what Keycloak holds, so
   * the lock stays until waiters take it over after a lease (no other holder meanwhile).
   */
  keep(): void;
}

/** Keycloak failures with no holder to explain them, before a lock gives up (503). */
const MAX_UNEXPLAINED_ERRORS = 3;
const DEFAULT_TIMEOUT_MS = 5000;

export function createLocks(roles: ServiceClientRoles, options: LockOptions = {}) {
  const callBudgetMs = options.callBudgetMs ?? callBudgetFor(DEFAULT_TIMEOUT_MS);
  const leaseMs = options.leaseMs ?? leaseFor(DEFAULT_TIMEOUT_MS);
  const waitMs = options.waitMs ?? 15_000;
  const clock = options.monotonic ?? (() => performance.now());
  /**
   * The holder this replica last saw on each lock, and since when on its clock: kept across
   * requests, so that a lock left behind is taken over one lease after it was first seen even
   * when each request waits less than a lease.
   */
  const seen = createTtlCache<string, { owner: string; since: number }>({ max: 10_000 });
  /** Per lock name queued on this replica, the end of the last turn in line (queueLocally). */
  const turns = new Map<string, Promise<void>>();

  /**
   * Deletes the lock only while it carries our token: after a takeover it is another's. Within
   * the lease (with a call's budget to spare) nobody can have taken it over, since waiters wait a
   * lease on their own clock first: one call, by name. Past it, read the holder and delete by id.
   */
  async function release(roleName: string, owner: string, leaseStart: number): Promise<void> {
    if (clock() + callBudgetMs <= leaseStart + leaseMs) {
      try {
        await roles.delete('lock.release', roleName);
        return;
      } catch (error) {
        if (isNotFound(error)) return;
        // not sure it was deleted: look at the holder below
      }
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const lock = await roles.find('lock.inspect', roleName);
        if (!lock?.id || lock.attributes?.owner?.[0] !== owner) return;
        await roles.deleteById('lock.release', lock.id);
        return;
      } catch (error) {
        if (isNotFound(error)) return;
        await sleep(50 * (attempt + 1));
      }
    }
    // Left behind: waiters take it over once they have seen it for a lease.
  }

  /** Waits for the previous turn on this replica, or throws LockTimeoutError at the deadline. */
  async function awaitTurn(roleName: string, previous: Promise<void>, deadline: number): Promise<void> {
    const timer = new AbortController();
    try {
      const outcome = await Promise.race([
        previous.then(() => 'turn' as const),
        sleep(Math.max(0, deadline - clock()), 'timeout' as const, { signal: timer.signal }),
      ]);
      if (outcome === 'timeout') throw new LockTimeoutError(`${roleName} stayed locked`);
    } finally {
      timer.abort();
    }
  }

  /** Takes the lock in Keycloak (waiting for another holder until the deadline), runs `work`, releases it. */
  async function contend<T>(
    roleName: string,
    description: string,
    work: (lease: Lease) => Promise<T>,
    whileWaiting: WhileWaiting | undefined,
    deadline: number,
  ): Promise<T> {
    let pause = 20;
    let unexplainedErrors = 0;
    let lastWaitCheck = Number.NEGATIVE_INFINITY;
    // One token for the whole attempt: a lock found with it was made by one of our passes.
    const owner = randomUUID();
    /** The start of the first pass whose acquire may have made the lock (no answer, or a 5xx). */
    let firstUnsettled: number | undefined;
    for (;;) {
      const passStart = clock();
      let leaseStart = passStart;
      let held = false;
      try {
        await roles.create('lock.acquire', { name: roleName, description, attributes: { owner: [owner] } });
        held = true;
      } catch (error) {
        if (!isConflict(error) && !isUnavailable(error)) throw error;
        if (!isConflict(error)) firstUnsettled ??= passStart;
        // 409: someone holds it. A 5xx or a lost answer says nothing for sure: two creates of
        // the same role at one instant sometimes end in a 500 for the loser on H2, and a create
        // whose answer was lost may have made the lock ours. Look at the holder to know.
        const holder = await roles.find('lock.inspect', roleName).catch((inspectError) => {
          // a 5xx answer, not a timeout: a slow Keycloak must end the wait at once
          const answered5xx = (keycloakStatus(inspectError) ?? 0) >= 500;
          if (!answered5xx || ++unexplainedErrors > MAX_UNEXPLAINED_ERRORS) throw inspectError;
          return 'unknown' as const;
        });
        if (holder === 'unknown') {
          await sleep(pause);
          continue;
        }
        const holderToken = holder?.attributes?.owner?.[0] ?? '';
        if (holder?.id && holderToken === owner) {
          // ours: made by this pass or an earlier one whose answer was lost; its lease counts
          // from the earliest of them, since a waiter may have seen it from then on
          held = true;
          leaseStart = Math.min(passStart, firstUnsettled ?? passStart);
        } else if (!holder?.id) {
          // nobody holds it: a lost race that nobody won, or a failure of Keycloak itself
          if (!isConflict(error) && ++unexplainedErrors > MAX_UNEXPLAINED_ERRORS) throw error;
          continue;
        } else if (seen.peek(roleName)?.owner !== holderToken) {
          seen.set(roleName, { owner: holderToken, since: clock() });
        } else if (clock() - (seen.peek(roleName)?.since ?? clock()) > leaseMs) {
          // The same holder for longer than a lease, on our clock: it is gone. Remove exactly
          // the lock we saw (by id), not a newer one.
          await roles.deleteById('lock.expire', holder.id).catch((e) => {
            if (!isNotFound(e)) throw e;
          });
          seen.delete(roleName);
          continue;
        }
      }
      if (!held) {
        if (clock() + pause > deadline) throw new LockTimeoutError(`${roleName} stayed locked`);
        if (whileWaiting && clock() - lastWaitCheck > 250) {
          lastWaitCheck = clock();
          await whileWaiting('keycloak');
        }
        await sleep(pause + Math.random() * pause);
        pause = Math.min(pause * 2, 250);
        continue;
      }
      let kept = false;
      const hasLeft = () => clock() + callBudgetMs <= leaseStart + leaseMs;
      const lease: Lease = {
        assertLeft(what) {
          if (!hasLeft()) {
            throw new LeaseExpiredError(
              `the lock ${roleName} ran out of time before ${what}; nothing was written`,
            );
          }
        },
        hasLeft,
        now: clock,
        async landed(sentAt) {
          const wait = sentAt + callBudgetMs - clock();
          if (wait > 0) await sleep(wait);
        },
        keep() {
          kept = true;
        },
      };
      try {
        return await work(lease);
      } finally {
        if (!kept) await release(roleName, owner, leaseStart);
      }
    }
  }

  return {
    leaseMs,
    /**
     * Runs `work` while holding the lock `roleName`. While it waits, `whileWaiting` may end the
     * wait early by throwing (e.g. when the account is already full).
     */
    async withLock<T>(
      roleName: string,
      description: string,
      work: (lease: Lease) => Promise<T>,
      whileWaiting?: WhileWaiting,
      { queueLocally = false }: WithLockOptions = {},
    ): Promise<T> {
      const deadline = clock() + waitMs;
      if (!queueLocally) return contend(roleName, description, work, whileWaiting, deadline);
      // One request per lock name on this replica contends in Keycloak; the others wait here, in
      // order, within the same deadline. The Keycloak lock is still taken by each holder.
      const previous = turns.get(roleName);
      let endTurn = () => {};
      const turn = new Promise<void>((resolve) => {
        endTurn = resolve;
      });
      // the next in line waits for the one before this one too: a waiter that gives up early
      // does not let the next overtake the holder
      const tail = (previous ?? Promise.resolve()).then(() => turn);
      turns.set(roleName, tail);
      try {
        if (previous) {
          await awaitTurn(roleName, previous, deadline);
          // its turn has come after others held the lock: the account may be full by now
          await whileWaiting?.('turn');
        }
        return await contend(roleName, description, work, whileWaiting, deadline);
      } finally {
        endTurn();
        if (turns.get(roleName) === tail) turns.delete(roleName);
      }
    },
  };
}

export type Locks = ReturnType<typeof createLocks>;
