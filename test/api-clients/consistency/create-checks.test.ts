// The check a create makes before the account's lock (service.ts, assertRoomBeforeLock): while the
// count this replica's last create of the account left shows room, no account query; a refusal is
// always read from Keycloak and takes no lock; the count under the lock stays exact across replicas.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockRoleExists, metricValue } from '../../reliability/support.js';
import { clientsUrl, startTestApp, type TestApp, uniqueAccount } from '../../support/app.js';
import { scriptClient } from '../../support/fixtures.js';
import { keycloakAccountClientIds, userToken } from '../../support/keycloak.js';

const lock = { waitMs: 150_000 };

describe('the check before the account lock', () => {
  let a: TestApp;
  let b: TestApp;
  let token: string;

  beforeAll(async () => {
    a = await startTestApp({}, { lock });
    b = await startTestApp({}, { lock });
    token = await userToken('paula');
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const create = (app: TestApp, account: string, suffix: string) =>
    app.call<{ type?: string }>('POST', clientsUrl(account), {
      token,
      body: scriptClient(`${account}_${suffix}`),
    });

  /** Keycloak calls `app` made of these operations while `run` ran. */
  async function callsDuring(app: TestApp, run: () => Promise<unknown>) {
    const read = async () => {
      const text = String((await app.call('GET', '/metrics')).body);
      return {
        accountQueries: metricValue(text, 'keycloak_requests_total', {
          operation: 'clients.list-by-account',
        }),
        acquires: metricValue(text, 'keycloak_requests_total', { operation: 'lock.acquire' }),
      };
    };
    const before = await read();
    await run();
    const after = await read();
    return {
      accountQueries: after.accountQueries - before.accountQueries,
      acquires: after.acquires - before.acquires,
    };
  }

  it('creates in a row on one replica: one account query each after the first, and the refusal at the limit takes no lock', async () => {
    const account = uniqueAccount('row');
    const first = await callsDuring(a, async () => expect((await create(a, account, 'c1')).status).toBe(201));
    // before the lock and under it
    expect(first).toEqual({ accountQueries: 2, acquires: 1 });
    for (let i = 2; i <= 5; i++) {
      const next = await callsDuring(a, async () =>
        expect((await create(a, account, `c${i}`)).status).toBe(201),
      );
      // under the lock only: the count the create before left (i - 1) showed room
      expect(next).toEqual({ accountQueries: 1, acquires: 1 });
    }
    let refused: { type?: string } = {};
    const sixth = await callsDuring(a, async () => {
      const answer = await create(a, account, 'c6');
      expect(answer.status).toBe(409);
      refused = answer.body;
    });
    expect(refused.type).toBe('urn:api-clients:problem:limit-reached');
    // the count left says full: read from Keycloak before the lock, refused without one
    expect(sixth).toEqual({ accountQueries: 1, acquires: 0 });
    expect(await keycloakAccountClientIds(account)).toHaveLength(5);
  });

  it('creates of one account arriving together share one account query before the lock', async () => {
    const account = uniqueAccount('together');
    const calls = await callsDuring(a, async () => {
      const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => create(a, account, `t${i}`)));
      expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201, 201]);
    });
    // one shared before the lock, then one under the lock per create
    expect(calls).toEqual({ accountQueries: 1 + 4, acquires: 4 });
  });

  it('another replica filled the account since: the create is refused by the count under the lock', async () => {
    const account = uniqueAccount('other');
    for (let i = 1; i <= 4; i++) expect((await create(a, account, `a${i}`)).status).toBe(201);
    // the fifth through the other replica: a's count (4) does not know it
    expect((await create(b, account, 'b5')).status).toBe(201);
    const answer = await create(a, account, 'a6');
    expect(answer.status).toBe(409);
    expect(answer.body.type).toBe('urn:api-clients:problem:limit-reached');
    expect(await keycloakAccountClientIds(account)).toHaveLength(5);
    expect(await lockRoleExists(account)).toBe(false);
    // that refusal forgot the count: the next one reads the account before the lock, and takes none
    const again = await callsDuring(a, async () => expect((await create(a, account, 'a7')).status).toBe(409));
    expect(again).toEqual({ accountQueries: 1, acquires: 0 });
  });
});
