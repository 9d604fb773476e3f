// The lock's queue on one replica (account-lock.ts, queueLocally): of the requests for one lock on
// a replica, only the first in line asks Keycloak; the others wait in order, within the same
// deadline, and each holder still takes the lock in Keycloak. Creates of one account queue so: no
// refused acquire, no look at the holder, and the refusals of a full account write no lock.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocks } from '../../src/api-clients/consistency/account-lock.js';
import type { ServiceClientRoles } from '../../src/api-clients/consistency/service-client.js';
import { clientsUrl, startTestApp, type TestApp, uniqueAccount } from '../support/app.js';
import { scriptClient } from '../support/fixtures.js';
import { keycloakAccountClientIds, serviceClientRole, userToken } from '../support/keycloak.js';
import { deferred, lockRoleExists, metricValue, serviceClientRoles } from './support.js';

const roles = serviceClientRoles();

/** The roles port, with every lock call it sees written down (a refused acquire as `… refused`). */
function counting(): { roles: ServiceClientRoles; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    roles: {
      ...roles,
      create: async (operation, role) => {
        try {
          await roles.create(operation, role);
          calls.push(operation);
        } catch (error) {
          calls.push(`${operation} refused`);
          throw error;
        }
      },
      find: async (operation, name) => {
        calls.push(operation);
        return roles.find(operation, name);
      },
    },
  };
}

describe('the lock queued on one replica', () => {
  it('holders follow one another in order, each taking the lock in Keycloak, none refused', async () => {
    const name = `lock.${uniqueAccount('queue')}`;
    const { roles: counted, calls } = counting();
    const lock = createLocks(counted, { waitMs: 60_000 });
    const firstHolds = deferred();
    const firstMayEnd = deferred();
    const order: number[] = [];
    let inside = 0;
    const runs = Array.from({ length: 5 }, (_, i) =>
      lock.withLock(
        name,
        'test',
        async () => {
          inside += 1;
          expect(inside).toBe(1);
          order.push(i);
          if (i === 0) {
            firstHolds.resolve();
            await firstMayEnd.promise;
          }
          // the lock is in Keycloak while each holder runs, with its own token
          expect((await serviceClientRole(name))?.attributes?.owner?.[0]).toBeTruthy();
          inside -= 1;
        },
        undefined,
        { queueLocally: true },
      ),
    );
    await firstHolds.promise;
    // one round trip to Keycloak while the first holds: waiters that asked Keycloak would have by now
    expect(await serviceClientRole(name)).toBeDefined();
    firstMayEnd.resolve();
    await Promise.all(runs);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(calls).toEqual(Array.from({ length: 5 }, () => 'lock.acquire'));
    expect(await serviceClientRole(name)).toBeUndefined();
  });

  it('a waiter past its deadline answers LockTimeoutError, and the next still waits for the holder', async () => {
    const name = `lock.${uniqueAccount('qwait')}`;
    const lock = createLocks(roles, { waitMs: 3000 });
    const holds = deferred();
    const mayEnd = deferred();
    const events: string[] = [];
    const holder = lock.withLock(
      name,
      'test',
      async () => {
        holds.resolve();
        await mayEnd.promise;
        events.push('holder ends');
      },
      undefined,
      { queueLocally: true },
    );
    await holds.promise;
    const first = lock
      .withLock(name, 'test', async () => events.push('first holds'), undefined, { queueLocally: true })
      .catch((error: Error) => events.push(error.name));
    // the second comes later, so that its deadline is later than the first's
    await sleep(1500);
    const second = lock.withLock(name, 'test', async () => events.push('second holds'), undefined, {
      queueLocally: true,
    });
    await first;
    expect(events).toEqual(['LockTimeoutError']);
    mayEnd.resolve();
    await Promise.all([holder, second]);
    expect(events).toEqual(['LockTimeoutError', 'holder ends', 'second holds']);
    expect(await serviceClientRole(name)).toBeUndefined();
  });

  it("a waiter's check runs when its turn comes, and may end the wait before any Keycloak call", async () => {
    const name = `lock.${uniqueAccount('qcheck')}`;
    const { roles: counted, calls } = counting();
    const lock = createLocks(counted, { waitMs: 60_000 });
    const moments: string[] = [];
    const holds = deferred();
    const mayEnd = deferred();
    const holder = lock.withLock(
      name,
      'test',
      async () => {
        holds.resolve();
        await mayEnd.promise;
      },
      undefined,
      { queueLocally: true },
    );
    await holds.promise;
    const waiter = lock.withLock(
      name,
      'test',
      async () => 'held',
      async (moment) => {
        moments.push(moment);
        throw new Error('full');
      },
      { queueLocally: true },
    );
    mayEnd.resolve();
    await holder;
    await expect(waiter).rejects.toThrow('full');
    expect(moments).toEqual(['turn']);
    expect(calls).toEqual(['lock.acquire']);
  });
});

describe('creates of one account on one replica', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await startTestApp({}, { lock: { waitMs: 150_000 } });
    token = await userToken('paula');
  });
  afterAll(() => t.close());

  it('8 at once on an account with room for 5: 5 created, 3 limit-reached, each holder one acquire, no lock for a refusal', async () => {
    const account = uniqueAccount('qcreate');
    const metrics = async () => String((await t.call('GET', '/metrics')).body);
    const lockCalls = (text: string) => ({
      acquired: metricValue(text, 'keycloak_requests_total', { operation: 'lock.acquire', outcome: 'ok' }),
      refused: metricValue(text, 'keycloak_requests_total', {
        operation: 'lock.acquire',
        outcome: 'conflict',
      }),
      inspected: metricValue(text, 'keycloak_requests_total', { operation: 'lock.inspect' }),
    });
    const before = lockCalls(await metrics());
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        t.call<{ type?: string }>('POST', clientsUrl(account), {
          token,
          body: scriptClient(`${account}_q${i}`),
        }),
      ),
    );
    const after = lockCalls(await metrics());
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([201, 201, 201, 201, 201, 409, 409, 409]);
    expect(
      answers.filter((a) => a.status === 409).every((a) => a.body.type?.endsWith(':limit-reached')),
    ).toBe(true);
    expect(await keycloakAccountClientIds(account)).toHaveLength(5);
    expect({
      acquired: after.acquired - before.acquired,
      refused: after.refused - before.refused,
      inspected: after.inspected - before.inspected,
    }).toEqual({ acquired: 5, refused: 0, inspected: 0 });
    expect(await lockRoleExists(account)).toBe(false);
  }, 180_000);
});
