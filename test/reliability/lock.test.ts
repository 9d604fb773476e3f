// The lock's rules (src/api-clients/consistency/account-lock.ts) against the real Keycloak: a lock is taken
// over only after a waiter has seen the same holder for a whole lease on its own clock; release
// removes only the holder's own lock; a holder whose lease ran out sends no create; a replica
// whose wall clock is ahead changes nothing (the lock reads no wall clock); a lost release is
// taken over one lease later.
import { describe, expect, it } from 'vitest';
import { createLocks } from '../../src/api-clients/consistency/account-lock.js';
import type { ServiceClientRoles } from '../../src/api-clients/consistency/service-client.js';
import { clientsUrl, startTestApp, uniqueAccount } from '../support/app.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { scriptClient } from '../support/fixtures.js';
import { keycloakAccountClientIds, keycloakUrl, serviceClientRole, userToken } from '../support/keycloak.js';
import {
  clientExists,
  configVia,
  deferred,
  expectKeycloakUnavailable,
  lockRoleExists,
  paths,
  serviceClientRoles,
} from './support.js';

const roles = serviceClientRoles();
const ownerOf = async (name: string) => (await serviceClientRole(name))?.attributes?.owner?.[0];

describe('the lock itself (two lock objects stand for two replicas)', () => {
  it('a holder that overruns its lease is taken over after one lease, and its late release leaves the new lock be', async () => {
    const name = `lock.${uniqueAccount('own')}`;
    // one monotonic clock for both, moved by the test: a lease passes when the test says so,
    // however slow the machine
    let now = 0;
    const clock = () => now;
    const a = createLocks(roles, { leaseMs: 1500, callBudgetMs: 100, monotonic: clock });
    // b's looks at the holder, observed: the test moves the clock between them
    const looks: (() => void)[] = [];
    const nextLook = () => new Promise<void>((resolve) => looks.push(resolve));
    const watched: ServiceClientRoles = {
      ...roles,
      find: async (operation, roleName) => {
        const found = await roles.find(operation, roleName);
        for (const seen of looks.splice(0)) seen();
        return found;
      },
    };
    const b = createLocks(watched, { leaseMs: 1500, callBudgetMs: 100, monotonic: clock });
    const aHolds = deferred();
    const aMayEnd = deferred();
    const events: string[] = [];
    const aRun = a.withLock(name, 'test', async () => {
      events.push('a starts');
      aHolds.resolve();
      await aMayEnd.promise; // until the test has moved the clock far past its lease
      events.push('a ends');
    });
    await aHolds.promise;
    const firstLook = nextLook();
    let bStartedAt: number | undefined;
    const bStarts = deferred();
    const bRun = b.withLock(name, 'test', async () => {
      bStartedAt = now;
      bStarts.resolve();
      events.push('b starts');
      const bOwner = await ownerOf(name);
      aMayEnd.resolve();
      await aRun;
      // a's release came while b held the lock: b's lock is still there, with b's token
      expect(await ownerOf(name)).toBe(bOwner);
      events.push('b ends');
    });
    await firstLook;
    // a second look: b has noted the holder of its first one, at 0 on its clock
    await nextLook();
    // less than a lease after b first saw a's lock: b looks again, and keeps waiting
    now = 1000;
    await Promise.race([nextLook().then(nextLook), bStarts.promise]);
    expect(events).toEqual(['a starts']);
    // past a lease on b's clock: b takes over, while a still runs
    now = 2600;
    await bRun;
    expect(bStartedAt).toBe(2600);
    expect(events).toEqual(['a starts', 'b starts', 'a ends', 'b ends']);
    expect(await serviceClientRole(name)).toBeUndefined();
  });

  it('a lock nobody releases is taken over one lease after a waiter first saw it, across requests', async () => {
    const name = `lock.${uniqueAccount('lost')}`;
    // a lock left by a replica that crashed before its release
    await roles.create('test', { name, attributes: { owner: ['a-crashed-replica'] } });
    const waiter = createLocks(roles, { leaseMs: 2000, waitMs: 800 });
    const started = performance.now();
    // each request waits 0.8 s: the first ones give up (503), one after the lease gets the lock
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        await waiter.withLock(name, 'test', async () => undefined);
        break;
      } catch (error) {
        expect((error as Error).name).toBe('LockTimeoutError');
      }
    }
    expect(attempts).toBeGreaterThan(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(2000);
    expect(await serviceClientRole(name)).toBeUndefined();
  });

  it('the lease runs out before the write: the holder stops, nothing is written', async () => {
    const name = `lock.${uniqueAccount('lease')}`;
    let now = 0;
    const lock = createLocks(roles, { leaseMs: 1000, callBudgetMs: 600, monotonic: () => now });
    let wrote = false;
    await expect(
      lock.withLock(name, 'test', async (lease) => {
        now += 500; // a slow read under the lock: 0.5 s + a 0.6 s call > the 1 s lease
        lease.assertLeft('the write');
        wrote = true;
      }),
    ).rejects.toThrow(/ran out of time before the write/);
    expect(wrote).toBe(false);
    expect(await serviceClientRole(name)).toBeUndefined();
  });
});

describe('through the service', () => {
  it('Keycloak slower than the lease allows: the create is not sent, 503, nothing left behind', async () => {
    const token = await userToken('paula');
    const proxy = await startFaultProxy(keycloakUrl());
    // a 1 s Keycloak timeout gives a 2 s call budget; with a 3.5 s lease, 1.5 s may pass under
    // the lock before the create is sent
    const slow = await startTestApp(configVia(proxy.url, { timeoutMs: 1000 }), { lock: { leaseMs: 3500 } });
    try {
      const account = uniqueAccount('slow');
      const warm = await slow.call('POST', clientsUrl(account), {
        token,
        body: scriptClient(`${account}_w`),
      });
      expect(warm.status).toBe(201);
      proxy.requests.length = 0;
      // under the lock: the acquire and the count each answer after 0.9 s (within the timeout);
      // before it only the clientId lookup (the count the warm create left shows room)
      proxy.failNext({ method: 'POST', path: paths.roles, mode: 'delay', delayMs: 900 });
      proxy.failNext({ method: 'GET', path: paths.clients, skip: 1, mode: 'delay', delayMs: 900 });
      const answer = await slow.call('POST', clientsUrl(account), {
        token,
        body: scriptClient(`${account}_late`),
      });
      expectKeycloakUnavailable(answer, 'lease ran out');
      expect(proxy.requests.filter((r) => r.method === 'POST' && paths.clients.test(r.path))).toEqual([]);
      expect(await clientExists(`${account}_late`)).toBe(false);
      expect(await lockRoleExists(account)).toBe(false);
    } finally {
      await slow.close();
      await proxy.close();
    }
  });
});

describe('a replica whose clock is ahead by 5 s', () => {
  it('holds the limit exactly with a replica on time, even with a lease shorter than the skew', async () => {
    const token = await userToken('paula');
    // a lease shorter than the skew: a lock judged by an expiry stamped on the other clock would
    // look stale at once
    const lock = { leaseMs: 3000, callBudgetMs: 1000 };
    const onTime = await startTestApp({}, { lock });
    const ahead = await startTestApp({}, { lock, now: () => new Date(Date.now() + 5000) });
    try {
      const account = uniqueAccount('skew');
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? ahead : onTime).call('POST', clientsUrl(account), {
            token,
            body: scriptClient(`${account}_c${i}`),
          }),
        ),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses.filter((s) => s === 201)).toHaveLength(5);
      expect(statuses.filter((s) => s === 409)).toHaveLength(3);
      expect(await keycloakAccountClientIds(account)).toHaveLength(5);
      expect(await lockRoleExists(account)).toBe(false);
    } finally {
      await onTime.close();
      await ahead.close();
    }
  });
});
