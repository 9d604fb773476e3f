// SPEC §4 History, against the real Keycloak: what one user did to a client comes back from
// Keycloak's admin events in order, with that user as the actor and the changed fields named; a
// platform admin's limit change and a deleted client show in the account's history; nothing of
// another account is listed; no secret is in any row; another account's caller is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../../support/app.js';
import { scriptClient } from '../../support/fixtures.js';
import { claims, userToken } from '../../support/keycloak.js';

interface Row {
  at: string;
  action: string;
  actor: { sub: string; username: string | null };
  changed: string[];
  clientId: string | null;
}
interface Page {
  items: Row[];
  first: number;
  max: number;
  hasMore: boolean;
  truncated: boolean;
}

let t: TestApp;
let paula: string;
let gina: string;
let victor: string;
const account = uniqueAccount('hist');
const other = uniqueAccount('hist');
const clientId = `${account}_job`;
const deletedId = `${account}_gone`;
const bulkId = `${account}_bulk`;
const otherId = `${other}_job`;
/** Every secret the service answered in this file: none may be in a history answer. */
const secrets: string[] = [];

const historyOf = (id: string, query = '') =>
  t.call<Page>('GET', `${clientUrl(account, id)}/history${query}`, { token: paula });
const accountHistory = (accountId: string, token = paula, query = '?max=100') =>
  t.call<Page>('GET', `/v1/accounts/${accountId}/history${query}`, { token });

beforeAll(async () => {
  t = await startTestApp({ limits: { defaultMaxApiClients: 5, cacheTtlMs: 0 } });
  [paula, gina, victor] = await Promise.all([userToken('paula'), userToken('gina'), userToken('victor')]);

  const created = await t.call<{ secret: string }>('POST', clientsUrl(account), {
    token: paula,
    body: scriptClient(clientId, { displayName: 'Nightly job' }),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  secrets.push(created.body.secret);
  const patched = await t.call('PATCH', clientUrl(account, clientId), {
    token: paula,
    body: { description: 'exports', scopes: ['datahub-api'] },
    headers: { 'content-type': 'application/merge-patch+json' },
  });
  expect(patched.status, JSON.stringify(patched.body)).toBe(200);
  const regenerated = await t.call<{ secret: string }>('POST', `${clientUrl(account, clientId)}/secret`, {
    token: paula,
  });
  expect(regenerated.status).toBe(200);
  secrets.push(regenerated.body.secret);
  const rotated = await t.call<{ secret: string }>('POST', `${clientUrl(account, clientId)}/secret`, {
    token: paula,
    body: { gracePeriodSeconds: 60 },
  });
  expect(rotated.status).toBe(200);
  secrets.push(rotated.body.secret);
  expect(
    (await t.call('DELETE', `${clientUrl(account, clientId)}/secret/previous`, { token: paula })).status,
  ).toBe(204);
  const invalidated = await t.call<{ secret: string }>('POST', `${clientUrl(account, clientId)}/invalidate`, {
    token: paula,
  });
  expect(invalidated.status).toBe(200);
  secrets.push(invalidated.body.secret);

  const gone = await t.call<{ secret: string }>('POST', clientsUrl(account), {
    token: paula,
    body: scriptClient(deletedId),
  });
  expect(gone.status).toBe(201);
  secrets.push(gone.body.secret);
  // one delete with If-Match, one through bulk delete
  const etag = (await t.call('GET', clientUrl(account, deletedId), { token: paula })).headers.etag as string;
  expect(
    (await t.call('DELETE', clientUrl(account, deletedId), { token: paula, headers: { 'if-match': etag } }))
      .status,
  ).toBe(204);
  const bulk = await t.call<{ secret: string }>('POST', clientsUrl(account), {
    token: paula,
    body: scriptClient(bulkId),
  });
  secrets.push(bulk.body.secret);
  const bulkDeleted = await t.call('POST', `${clientsUrl(account)}/bulk-delete`, {
    token: paula,
    body: { clientIds: [bulkId] },
  });
  expect(bulkDeleted.body).toEqual({ results: [{ clientId: bulkId, status: 'deleted' }] });

  expect(
    (await t.call('PUT', `/v1/accounts/${account}/limits`, { token: paula, body: { maxApiClients: 7 } }))
      .status,
  ).toBe(200);

  const elsewhere = await t.call<{ secret: string }>('POST', clientsUrl(other), {
    token: paula,
    body: scriptClient(otherId),
  });
  expect(elsewhere.status).toBe(201);
  secrets.push(elsewhere.body.secret);
}, 120_000);

afterAll(async () => {
  await t?.call('DELETE', clientUrl(account, clientId), { token: paula });
  await t?.call('DELETE', clientUrl(other, otherId), { token: paula });
  await t?.call('PUT', `/v1/accounts/${account}/limits`, { token: paula, body: { maxApiClients: null } });
  await t?.close();
});

describe("a client's history", () => {
  it('lists create, update, regenerate, grace end and invalidate, newest first, by the caller', async () => {
    const answer = await historyOf(clientId);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const rows = answer.body.items;
    expect(rows.map((row) => row.action)).toEqual([
      'invalidated',
      'grace-period-ended',
      'secret-regenerated',
      'secret-regenerated',
      'updated',
      'created',
    ]);
    const me = claims(paula);
    for (const row of rows) {
      expect(row.actor).toEqual({ sub: me.sub, username: 'paula' });
      expect(row.clientId).toBe(clientId);
    }
    expect(rows.find((row) => row.action === 'updated')?.changed.sort()).toEqual(['description', 'scopes']);
    const times = rows.map((row) => Date.parse(row.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(answer.body.truncated).toBe(false);
  });

  it('pages with first and max', async () => {
    const page = await historyOf(clientId, '?first=1&max=2');
    expect(page.body.items.map((row) => row.action)).toEqual(['grace-period-ended', 'secret-regenerated']);
    expect(page.body.hasMore).toBe(true);
    const last = await historyOf(clientId, '?first=4&max=10');
    expect(last.body.items.map((row) => row.action)).toEqual(['updated', 'created']);
    expect(last.body.hasMore).toBe(false);
  });

  it('holds no secret', async () => {
    const text =
      JSON.stringify((await historyOf(clientId)).body) + JSON.stringify((await accountHistory(account)).body);
    for (const secret of secrets) expect(text).not.toContain(secret);
  });

  it("is refused to another account's admin and not found for another account's client", async () => {
    expect((await t.call('GET', `${clientUrl(account, clientId)}/history`, { token: gina })).status).toBe(
      403,
    );
    expect(
      (await t.call('GET', `/v1/accounts/${account}/api-clients/${otherId}/history`, { token: paula }))
        .status,
    ).toBe(404);
  });
});

describe("the account's history", () => {
  it('shows the deleted client and the limit change with their actors', async () => {
    const answer = await accountHistory(account);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const rows = answer.body.items;
    const limit = rows.find((row) => row.action === 'limit-changed');
    expect(limit).toMatchObject({ clientId: null, changed: ['maxApiClients'], actor: { username: 'paula' } });
    // newest first: the limit change came last, the client's creation first
    expect(rows[0]?.action).toBe('limit-changed');
    expect(rows.at(-1)).toMatchObject({ action: 'created', clientId });
    for (const id of [deletedId, bulkId]) {
      expect(rows.filter((row) => row.clientId === id).map((row) => row.action)).toEqual([
        'deleted',
        'created',
      ]);
      expect(rows.find((row) => row.clientId === id)?.actor.username).toBe('paula');
    }
  });

  it('lists nothing of another account', async () => {
    const mine = (await accountHistory(account)).body.items;
    expect(mine.length).toBeGreaterThan(0);
    for (const row of mine)
      if (row.clientId !== null) expect(row.clientId.startsWith(`${account}_`)).toBe(true);
    const theirs = (await accountHistory(other)).body.items;
    expect(theirs.map((row) => [row.action, row.clientId])).toEqual([['created', otherId]]);
  });

  it('records a change of the maximum secret lifetime and a return to both defaults as limit changes', async () => {
    const put = (body: Record<string, unknown>) =>
      t.call('PUT', `/v1/accounts/${account}/limits`, { token: paula, body });
    expect((await put({ maxApiClients: null, maxSecretLifetimeDays: 30 })).body).toMatchObject({
      maxApiClients: 5,
      maxSecretLifetimeDays: 30,
    });
    // both limits back to their defaults: the role stays, holding neither, so the change is a row too
    expect((await put({ maxApiClients: null, maxSecretLifetimeDays: null })).body).toMatchObject({
      maxApiClients: 5,
      maxSecretLifetimeDays: null,
    });
    const rows = (await accountHistory(account)).body.items.filter((row) => row.action === 'limit-changed');
    expect(rows.map((row) => row.changed)).toEqual([
      ['maxApiClients', 'maxSecretLifetimeDays'],
      ['maxApiClients', 'maxSecretLifetimeDays'],
      ['maxApiClients'],
    ]);
    for (const row of rows) expect(row).toMatchObject({ clientId: null, actor: { username: 'paula' } });
  });

  it("is readable by the account's viewers and refused to another account's admin", async () => {
    const acme = await accountHistory('acme', victor);
    expect(acme.status).toBe(200);
    for (const row of acme.body.items) if (row.clientId) expect(row.clientId.startsWith('acme_')).toBe(true);
    expect((await accountHistory(account, gina)).status).toBe(403);
    expect((await accountHistory('acme', gina)).status).toBe(403);
  });
});
