// SPEC §3 `GET /api-clients?expiringWithinDays=N`, against the real Keycloak: the secrets of every
// account that expire within the window (and those expired in the last 90 days) in order of expiry,
// paged; a change of expiry (regenerate, PATCH, a switch to private_key_jwt) moves a client in or
// out; platform admins only; bad input is a problem answer. Other test files share the realm, so
// the answers are read for this file's two accounts only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expiryWeekOf } from '../../../src/api-clients/resource/secret-expiry.js';
import type { Problem } from '../../../src/lib/problem.js';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../../support/app.js';
import { eventually, newKeyPair } from '../../support/assertions.js';
import { scriptClient } from '../../support/fixtures.js';
import { clientCredentialsToken, keycloakClient, userToken } from '../../support/keycloak.js';

interface Row {
  accountId: string;
  clientId: string;
  displayName: string | null;
  expiresAt: string;
  expired: boolean;
}
interface Page {
  items: Row[];
  hasMore: boolean;
  from: string;
  to: string;
}

const DAY_MS = 86_400_000;
let t: TestApp;
let paula: string;
const accounts = [uniqueAccount('expa'), uniqueAccount('expb')] as const;
const made: { accountId: string; clientId: string }[] = [];

/** A whole second `seconds` from now, as ISO text (Keycloak keeps an expiry to the second). */
const inSeconds = (seconds: number) => new Date(Math.ceil(Date.now() / 1000 + seconds) * 1000).toISOString();
const inDays = (days: number) => inSeconds(days * 86_400);

async function create(accountId: string, name: string, expiresAt: string | null) {
  const clientId = `${accountId}_${name}`;
  const answer = await t.call<{ secret: string }>('POST', clientsUrl(accountId), {
    token: paula,
    body: scriptClient(clientId, { displayName: name, credential: { type: 'secret', expiresAt } }),
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  made.push({ accountId, clientId });
  return { clientId, secret: answer.body.secret };
}

const ask = (query: string, token = paula) =>
  t.call<Page & Problem>('GET', `/v1/api-clients?${query}`, { token });

/** Every row of the window, page by page (`max` rows a page), of this file's accounts. */
async function window(days: number, max = 100): Promise<Row[]> {
  const rows: Row[] = [];
  for (let first = 0; first < 10_000; first += max) {
    const answer = await ask(`expiringWithinDays=${days}&first=${first}&max=${max}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    rows.push(...answer.body.items);
    if (!answer.body.hasMore) break;
  }
  return rows.filter((row) => (accounts as readonly string[]).includes(row.accountId));
}
const ids = (rows: Row[]) => rows.map((row) => row.clientId);

beforeAll(async () => {
  t = await startTestApp({ limits: { defaultMaxApiClients: 20, cacheTtlMs: 0 } });
  paula = await userToken('paula');
});
afterAll(async () => {
  for (const { accountId, clientId } of made)
    await t.call('DELETE', clientUrl(accountId, clientId), { token: paula });
  await t?.close();
});

describe('the expiring secrets of every account', () => {
  const [a, b] = accounts;
  let soon: string;
  let later: string;
  let never: string;
  let other: string;
  let gone: string;

  beforeAll(async () => {
    // created in an order unlike their expiry: the answer's order is its own doing
    later = (await create(a, 'later', inDays(20))).clientId;
    never = (await create(a, 'never', null)).clientId;
    other = (await create(b, 'other', inDays(5))).clientId;
    soon = (await create(a, 'soon', inDays(2))).clientId;
    // far enough ahead to be in the future when a busy machine judges the create
    const ending = await create(b, 'gone', inSeconds(8));
    gone = ending.clientId;
    // expired at Keycloak's own door
    expect(
      await eventually(
        async () => (await clientCredentialsToken(gone, ending.secret)).status === 401,
        20_000,
      ),
    ).toBe(true);
  });

  it('lists those of both accounts within the window, expired ones first, in order of expiry', async () => {
    const rows = await window(7);
    expect(ids(rows)).toEqual([gone, soon, other]);
    expect(rows.map((row) => [row.accountId, row.displayName, row.expired])).toEqual([
      [b, 'gone', true],
      [a, 'soon', false],
      [b, 'other', false],
    ]);
    const detail = await t.call<{ credential: { expiresAt: string } }>('GET', clientUrl(a, soon), {
      token: paula,
    });
    expect(rows[1]?.expiresAt).toBe(detail.body.credential.expiresAt);
    expect(ids(await window(30))).toEqual([gone, soon, other, later]);
    expect(ids(await window(0))).toEqual([gone]);
  });

  it('answers the same rows one at a time across pages, and states its window', async () => {
    expect(ids(await window(30, 1))).toEqual([gone, soon, other, later]);
    const before = Date.now();
    const answer = await ask('expiringWithinDays=10&max=1');
    expect(answer.body.items).toHaveLength(1);
    expect(Date.parse(answer.body.to) - Date.parse(answer.body.from)).toBe(100 * DAY_MS);
    expect(Math.abs(Date.parse(answer.body.to) - (before + 10 * DAY_MS))).toBeLessThan(60_000);
  });

  it('follows each change of expiry: regenerate, PATCH, a switch to private_key_jwt', async () => {
    const regenerated = await t.call('POST', `${clientUrl(a, later)}/secret`, {
      token: paula,
      body: { expiresAt: inDays(1) },
    });
    expect(regenerated.status, JSON.stringify(regenerated.body)).toBe(200);
    const patched = await t.call('PATCH', clientUrl(a, soon), {
      token: paula,
      body: { credential: { type: 'secret', expiresAt: null } },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const pair = await newKeyPair('exp');
    const switched = await t.call('PATCH', clientUrl(b, other), {
      token: paula,
      body: { credential: { type: 'private-key-jwt', jwks: { keys: [pair.jwk] } } },
    });
    expect(switched.status, JSON.stringify(switched.body)).toBe(200);
    expect(ids(await window(30))).toEqual([gone, later]);
    // moved from three weeks ahead into this one: found by a window that reaches no further
    expect(ids(await window(7))).toEqual([gone, later]);
    // what Keycloak keeps: the week attribute the search reads, and none for a client that never expires
    const kept = await keycloakClient(later);
    expect(kept?.attributes?.['api-clients.secret-expiry-week']).toBe(
      expiryWeekOf(new Date(Date.now() + DAY_MS)),
    );
    expect((await keycloakClient(never))?.attributes?.['api-clients.secret-expiry-week'] ?? '').toBe('');
  });

  it.each([
    ['alice (admin of acme)', 'alice'],
    ['victor (viewer of acme)', 'victor'],
  ] as const)('is refused to %s', async (_who, user) => {
    const answer = await ask('expiringWithinDays=30', await userToken(user));
    expect(answer.status).toBe(403);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(answer.body).not.toHaveProperty('items');
  });

  it.each([
    ['no window', ''],
    ['a negative window', 'expiringWithinDays=-1'],
    ['more than a year', 'expiringWithinDays=367'],
    ['not a number', 'expiringWithinDays=soon'],
    ['an unknown parameter', 'expiringWithinDays=7&account=acme'],
    ['a page too large', 'expiringWithinDays=7&max=101'],
  ])('refuses %s with a problem naming the parameter', async (_what, query) => {
    const answer = await ask(query);
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(answer.body.errors?.[0]?.in).toBe('query');
  });
});

describe('the week of an expiry', () => {
  it.each([
    ['a Thursday', '2026-12-03T12:00:00Z', '2026-11-30'],
    ['its Monday at midnight', '2026-11-30T00:00:00Z', '2026-11-30'],
    ['the Sunday before midnight', '2026-12-06T23:59:59Z', '2026-11-30'],
    ['across a year', '2027-01-01T08:00:00Z', '2026-12-28'],
    ['before 1970', '1969-12-31T00:00:00Z', '1969-12-29'],
  ])('is its Monday, UTC: %s', (_what, at, monday) => {
    expect(expiryWeekOf(new Date(at))).toBe(monday);
  });
});
