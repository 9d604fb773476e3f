// SPEC §4 Expiry, proved at Keycloak's own token endpoint: a secret is accepted before its expiresAt
// and refused after it (Keycloak's own check of client.secret.expiration.time); a regenerated secret
// keeps its expiry enforced, with and without a grace period; an account's maximum secret lifetime
// is applied to creates and regenerates without expiresAt and refuses a later one; an edit of a
// client whose secret expired does not bring the secret back; every refusal changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../../../src/lib/problem.js';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../../support/app.js';
import { eventually } from '../../support/assertions.js';
import { scriptClient } from '../../support/fixtures.js';
import { clientCredentialsToken, keycloakClient, userToken } from '../../support/keycloak.js';

type Resource = Record<string, unknown> & {
  clientId: string;
  secret?: string;
  credential: { type: string; expiresAt?: string | null };
};
interface Rotation {
  secret: string;
  previousSecretExpiresAt: string | null;
  expiresAt: string | null;
}

const DAY_MS = 86_400_000;
let t: TestApp;
let paula: string;
const account = uniqueAccount('exp');
let serial = 0;

/** A whole second `seconds` from now, as ISO text. */
const secondsFromNow = (seconds: number) =>
  new Date(Math.ceil(Date.now() / 1000) * 1000 + seconds * 1000).toISOString();
const tokenStatus = async (clientId: string, secret: string) =>
  (await clientCredentialsToken(clientId, secret)).status;
/** Waits (bounded) until Keycloak refuses the secret; answers whether it did, and not before `notBefore`. */
async function refusedAfter(clientId: string, secret: string, notBefore: string): Promise<boolean> {
  const refused = await eventually(
    async () => (await tokenStatus(clientId, secret)) === 401,
    Date.parse(notBefore) - Date.now() + 6000,
  );
  return refused && Date.now() >= Date.parse(notBefore) - 1000;
}

async function newClient(extra: Record<string, unknown> = {}) {
  const clientId = `${account}_job-${++serial}`;
  const created = await t.call<Resource>('POST', clientsUrl(account), {
    token: paula,
    body: scriptClient(clientId, extra),
  });
  return { clientId, created };
}
const regenerate = (clientId: string, body?: unknown) =>
  t.call<Rotation & Problem>('POST', `${clientUrl(account, clientId)}/secret`, { token: paula, body });
const setLifetime = (maxSecretLifetimeDays: number | null) =>
  t.call('PUT', `/v1/accounts/${account}/limits`, {
    token: paula,
    body: { maxApiClients: 30, maxSecretLifetimeDays },
  });

beforeAll(async () => {
  t = await startTestApp({ limits: { defaultMaxApiClients: 30, cacheTtlMs: 0 } });
  paula = await userToken('paula');
});
afterAll(async () => {
  for (let n = 1; n <= serial; n++)
    await t.call('DELETE', clientUrl(account, `${account}_job-${n}`), { token: paula });
  await setLifetime(null);
  await t.call('PUT', `/v1/accounts/${account}/limits`, { token: paula, body: { maxApiClients: null } });
  await t?.close();
});

describe('a secret with expiresAt', () => {
  it('stays refused after its grace period is ended: the record of that write does not make Keycloak rotate it', async () => {
    const expiresAt = secondsFromNow(6);
    const { clientId, created } = await newClient({ credential: { type: 'secret', expiresAt } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const secret = created.body.secret as string;
    expect(await refusedAfter(clientId, secret, expiresAt)).toBe(true);

    const ended = await t.call('DELETE', `${clientUrl(account, clientId)}/secret/previous`, { token: paula });
    expect(ended.status).toBe(204);
    // Keycloak's rotation executor rotates an expired secret on any admin update, and would accept
    // it again as the "rotated" one (with a new secret nobody has, valid for years)
    expect(await tokenStatus(clientId, secret)).toBe(401);
    const got = await t.call<Resource>('GET', clientUrl(account, clientId), { token: paula });
    expect(Date.parse(got.body.credential.expiresAt ?? '')).toBeLessThan(Date.now() + 10_000);
  });

  it('is accepted before expiresAt and refused by Keycloak after it; an edit afterwards does not revive it', async () => {
    const expiresAt = secondsFromNow(6);
    const { clientId, created } = await newClient({ credential: { type: 'secret', expiresAt } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.credential).toEqual({ type: 'secret', expiresAt });
    const secret = created.body.secret as string;
    expect(await tokenStatus(clientId, secret)).toBe(200);
    const list = await t.call<{ items: Resource[] }>('GET', clientsUrl(account), { token: paula });
    expect(list.body.items.find((row) => row.clientId === clientId)?.credential).toEqual({
      type: 'secret',
      expiresAt,
    });
    expect(await refusedAfter(clientId, secret, expiresAt)).toBe(true);

    // Keycloak's rotation executor rotates an expired secret on any update, and would accept the
    // expired one again as the "rotated" secret: the service ends that at once
    const got = await t.call<Resource>('GET', clientUrl(account, clientId), { token: paula });
    const edited = await t.call<Resource>('PUT', clientUrl(account, clientId), {
      token: paula,
      body: { ...got.body, displayName: 'Edited after expiry' },
    });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body.credential).toEqual({ type: 'secret', expiresAt });
    expect(await tokenStatus(clientId, secret)).toBe(401);
  });

  it('can be moved by PUT or PATCH, and a regenerate brings a working secret with its own expiry', async () => {
    const { clientId, created } = await newClient({
      credential: { type: 'secret', expiresAt: secondsFromNow(3600) },
    });
    const later = secondsFromNow(7200);
    const moved = await t.call<Resource>('PATCH', clientUrl(account, clientId), {
      token: paula,
      body: { credential: { type: 'secret', expiresAt: later } },
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body.credential.expiresAt).toBe(later);
    expect(moved.body).not.toHaveProperty('secret');
    const rep = await keycloakClient(clientId);
    expect(rep?.attributes?.['client.secret.expiration.time']).toBe(String(Date.parse(later) / 1000 - 1));
    expect(await tokenStatus(clientId, created.body.secret as string)).toBe(200);
  });
});

describe('regenerate keeps the expiry enforced', () => {
  it('without a grace period: the new secret expires at the expiresAt asked for, the old one is refused at once', async () => {
    const { clientId, created } = await newClient();
    const expiresAt = secondsFromNow(6);
    const rotated = await regenerate(clientId, { expiresAt });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.body.expiresAt).toBe(expiresAt);
    expect(rotated.body.previousSecretExpiresAt).toBeNull();
    expect(await tokenStatus(clientId, created.body.secret as string)).toBe(401);
    expect(await tokenStatus(clientId, rotated.body.secret)).toBe(200);
    expect(await refusedAfter(clientId, rotated.body.secret, expiresAt)).toBe(true);
  });

  it('with a grace period: the old secret until the grace ends, the new one until its own expiresAt', async () => {
    const { clientId, created } = await newClient({
      credential: { type: 'secret', expiresAt: secondsFromNow(3600) },
    });
    const old = created.body.secret as string;
    const expiresAt = secondsFromNow(9);
    const rotated = await regenerate(clientId, { gracePeriodSeconds: 4, expiresAt });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.body.expiresAt).toBe(expiresAt);
    const graceEnds = rotated.body.previousSecretExpiresAt as string;
    expect(await tokenStatus(clientId, old)).toBe(200);
    expect(await tokenStatus(clientId, rotated.body.secret)).toBe(200);
    expect(await refusedAfter(clientId, old, graceEnds)).toBe(true);
    expect(await tokenStatus(clientId, rotated.body.secret)).toBe(200);
    expect(await refusedAfter(clientId, rotated.body.secret, expiresAt)).toBe(true);
  });

  it('a regenerate without expiresAt on an account without a maximum gives a secret that never expires', async () => {
    const { clientId } = await newClient({ credential: { type: 'secret', expiresAt: secondsFromNow(3600) } });
    const rotated = await regenerate(clientId);
    expect(rotated.body.expiresAt).toBeNull();
    expect(
      (await t.call<Resource>('GET', clientUrl(account, clientId), { token: paula })).body.credential,
    ).toEqual({
      type: 'secret',
      expiresAt: null,
    });
  });
});

describe("the account's maximum secret lifetime", () => {
  it('is applied to creates and regenerates without expiresAt and refuses a later or past one, changing nothing', async () => {
    const set = await setLifetime(2);
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({ maxApiClients: 30, maxSecretLifetimeDays: 2 });
    expect((await t.call('GET', `/v1/accounts/${account}/limits`, { token: paula })).body).toMatchObject({
      maxSecretLifetimeDays: 2,
    });

    const asked = Date.now();
    const { clientId, created } = await newClient();
    expect(created.status).toBe(201);
    const applied = Date.parse(created.body.credential.expiresAt as string);
    expect(Math.abs(applied - (asked + 2 * DAY_MS))).toBeLessThan(10_000);
    const rep = await keycloakClient(clientId);
    expect(Number(rep?.attributes?.['client.secret.expiration.time'])).toBe(Math.ceil(applied / 1000) - 1);

    // refused: later than the maximum, in the past; on create (no client made), PATCH and regenerate
    const tooLate = secondsFromNow(3 * 86_400);
    const refusedCreate = await newClient({ credential: { type: 'secret', expiresAt: tooLate } });
    expect(refusedCreate.created.status).toBe(400);
    expect((refusedCreate.created.body as unknown as Problem).errors?.map((e) => e.pointer)).toEqual([
      '/credential/expiresAt',
    ]);
    expect(await keycloakClient(refusedCreate.clientId)).toBeUndefined();
    const before = await keycloakClient(clientId);
    for (const expiresAt of [tooLate, '2020-01-01T00:00:00Z']) {
      const patched = await t.call<Problem>('PATCH', clientUrl(account, clientId), {
        token: paula,
        body: { credential: { type: 'secret', expiresAt } },
      });
      expect(patched.status, expiresAt).toBe(400);
      expect(patched.body.errors?.map((e) => e.pointer)).toEqual(['/credential/expiresAt']);
      const rotated = await regenerate(clientId, { expiresAt });
      expect(rotated.status, expiresAt).toBe(400);
      expect(rotated.body.errors?.map((e) => e.pointer)).toEqual(['/expiresAt']);
    }
    expect(await keycloakClient(clientId)).toEqual(before);
    expect(await tokenStatus(clientId, created.body.secret as string)).toBe(200);

    // a regenerate without expiresAt gets now + the maximum; a GET body sent back stays as it was
    const rotated = await regenerate(clientId);
    expect(Math.abs(Date.parse(rotated.body.expiresAt as string) - (Date.now() + 2 * DAY_MS))).toBeLessThan(
      10_000,
    );
    const got = await t.call<Resource>('GET', clientUrl(account, clientId), { token: paula });
    const sentBack = await t.call<Resource>('PUT', clientUrl(account, clientId), {
      token: paula,
      body: got.body,
    });
    expect(sentBack.status, JSON.stringify(sentBack.body)).toBe(200);
    expect(sentBack.body.credential).toEqual(got.body.credential);
    await setLifetime(null);
  });

  it('comes from DEFAULT_MAX_SECRET_LIFETIME_DAYS for an account without its own', async () => {
    const other = await startTestApp({
      limits: { defaultMaxApiClients: 30, cacheTtlMs: 0 },
      secrets: { maxGracePeriodSeconds: 3600, defaultMaxSecretLifetimeDays: 1 },
    });
    try {
      const clientId = `${account}_job-${++serial}`;
      const created = await other.call<Resource>('POST', clientsUrl(account), {
        token: paula,
        body: scriptClient(clientId),
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(
        Math.abs(Date.parse(created.body.credential.expiresAt as string) - (Date.now() + DAY_MS)),
      ).toBeLessThan(10_000);
      expect(
        (await other.call('GET', `/v1/accounts/${account}/limits`, { token: paula })).body,
      ).toMatchObject({
        maxSecretLifetimeDays: 1,
      });
      const tooLate = await other.call<Problem>('POST', clientsUrl(account), {
        token: paula,
        body: scriptClient(`${account}_late`, {
          credential: { type: 'secret', expiresAt: secondsFromNow(2 * 86_400) },
        }),
      });
      expect(tooLate.status).toBe(400);
    } finally {
      await other.close();
    }
  });
});
