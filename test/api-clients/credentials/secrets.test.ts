// SPEC §4 Secrets and Last used, proved at Keycloak's own endpoints: during a grace period the
// token endpoint accepts both secrets, after it (or once it is ended) only the new one; a plain
// regenerate refuses the old secret at once; invalidate makes earlier tokens inactive at
// introspection (asked by insights-api, the tokens' audience) and later ones active; lastUsedAt
// follows Keycloak's event store.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../../support/app.js';
import { scriptClient } from '../../support/fixtures.js';
import { clientCredentialsToken, introspect, keycloakClient, userToken } from '../../support/keycloak.js';

const MAX_GRACE = 3600;
let t: TestApp;
let paula: string;
const account = uniqueAccount('sec');
let serial = 0;

interface Rotation {
  secret: string;
  previousSecretExpiresAt: string | null;
}

/** A new Script client with datahub-api (so insights-api is its tokens' audience); answers its id and secret. */
async function newClient(): Promise<{ clientId: string; secret: string }> {
  const clientId = `${account}_job-${++serial}`;
  const created = await t.call<{ secret: string }>('POST', clientsUrl(account), {
    token: paula,
    body: scriptClient(clientId, { scopes: ['datahub-api'] }),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return { clientId, secret: created.body.secret };
}

const tokenStatus = async (clientId: string, secret: string) =>
  (await clientCredentialsToken(clientId, secret)).status;

const regenerate = (clientId: string, body?: unknown) =>
  t.call<Rotation>('POST', `${clientUrl(account, clientId)}/secret`, { token: paula, body });

beforeAll(async () => {
  t = await startTestApp({
    secrets: { maxGracePeriodSeconds: MAX_GRACE, defaultMaxSecretLifetimeDays: null },
    limits: { defaultMaxApiClients: 20, cacheTtlMs: 0 },
  });
  paula = await userToken('paula');
});

afterAll(async () => {
  for (let n = 1; n <= serial; n++) {
    await t.call('DELETE', clientUrl(account, `${account}_job-${n}`), { token: paula });
  }
  await t?.close();
});

describe('regenerate with a grace period', () => {
  it('Keycloak accepts both secrets until previousSecretExpiresAt, then only the new one', async () => {
    const { clientId, secret: old } = await newClient();
    const asked = Date.now();
    const rotated = await regenerate(clientId, { gracePeriodSeconds: 8 });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.headers['cache-control']).toBe('no-store');
    const { secret: fresh, previousSecretExpiresAt } = rotated.body;
    expect(fresh).not.toBe(old);
    const ends = Date.parse(previousSecretExpiresAt as string);
    expect(Math.abs(ends - (asked + 8000))).toBeLessThan(3000);

    expect(await tokenStatus(clientId, old)).toBe(200);
    expect(await tokenStatus(clientId, fresh)).toBe(200);
    const got = await t.call<Record<string, unknown>>('GET', clientUrl(account, clientId), { token: paula });
    expect(got.body.previousSecretExpiresAt).toBe(previousSecretExpiresAt);
    // Keycloak's attributes hold the old secret in plain text: never in an answer
    expect(JSON.stringify(got.body)).not.toContain(old);

    await sleep(Math.max(0, ends - Date.now()) + 1500);
    expect(await tokenStatus(clientId, old)).toBe(401);
    expect(await tokenStatus(clientId, fresh)).toBe(200);
    const after = await t.call<Record<string, unknown>>('GET', clientUrl(account, clientId), {
      token: paula,
    });
    expect(after.body.previousSecretExpiresAt).toBeNull();
  });

  it('DELETE .../secret/previous ends the grace period at once, and answers 204 again when there is none', async () => {
    const { clientId, secret: old } = await newClient();
    const rotated = await regenerate(clientId, { gracePeriodSeconds: 600 });
    expect(rotated.status).toBe(200);
    expect(await tokenStatus(clientId, old)).toBe(200);

    const ended = await t.call('DELETE', `${clientUrl(account, clientId)}/secret/previous`, { token: paula });
    expect(ended.status).toBe(204);
    expect(await tokenStatus(clientId, old)).toBe(401);
    expect(await tokenStatus(clientId, rotated.body.secret)).toBe(200);
    const got = await t.call<Record<string, unknown>>('GET', clientUrl(account, clientId), { token: paula });
    expect(got.body.previousSecretExpiresAt).toBeNull();

    const again = await t.call('DELETE', `${clientUrl(account, clientId)}/secret/previous`, { token: paula });
    expect(again.status).toBe(204);
  });

  it('a second regenerate during the grace period makes the oldest secret stop at once', async () => {
    const { clientId, secret: first } = await newClient();
    const second = (await regenerate(clientId, { gracePeriodSeconds: 600 })).body.secret;
    const third = (await regenerate(clientId, { gracePeriodSeconds: 600 })).body.secret;
    expect(await tokenStatus(clientId, first)).toBe(401);
    expect(await tokenStatus(clientId, second)).toBe(200);
    expect(await tokenStatus(clientId, third)).toBe(200);
  });

  it.each([
    ['no body', undefined],
    ['an empty body', {}],
    ['gracePeriodSeconds 0', { gracePeriodSeconds: 0 }],
  ])('with %s, the old secret is refused at once', async (_name, body) => {
    const { clientId, secret: old } = await newClient();
    const rotated = await regenerate(clientId, body);
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.body.previousSecretExpiresAt).toBeNull();
    expect(await tokenStatus(clientId, old)).toBe(401);
    expect(await tokenStatus(clientId, rotated.body.secret)).toBe(200);
  });

  it('takes up to the configured maximum; over it, negative, fractional or unknown members are 400 and change nothing', async () => {
    const { clientId, secret } = await newClient();
    for (const [body, pointer] of [
      [{ gracePeriodSeconds: MAX_GRACE + 1 }, '/gracePeriodSeconds'],
      [{ gracePeriodSeconds: -1 }, '/gracePeriodSeconds'],
      [{ gracePeriodSeconds: 1.5 }, '/gracePeriodSeconds'],
      [{ gracePeriodSeconds: '60' }, '/gracePeriodSeconds'],
      [{ gracePeriodSeconds: 60, keepOld: true }, '/keepOld'],
    ] as const) {
      const refused = await t.call<{ type: string; errors: { pointer: string }[] }>(
        'POST',
        `${clientUrl(account, clientId)}/secret`,
        { token: paula, body },
      );
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(refused.body.type).toBe('urn:api-clients:problem:validation-failed');
      expect(refused.body.errors.map((error) => error.pointer)).toEqual([pointer]);
    }
    expect(await tokenStatus(clientId, secret)).toBe(200);
    expect((await keycloakClient(clientId))?.attributes?.['client.secret.rotated']).toBeUndefined();

    const longest = await regenerate(clientId, { gracePeriodSeconds: MAX_GRACE });
    expect(longest.status).toBe(200);
    const ends = Date.parse(longest.body.previousSecretExpiresAt as string);
    expect(Math.abs(ends - (Date.now() + MAX_GRACE * 1000))).toBeLessThan(5000);
    expect(await tokenStatus(clientId, secret)).toBe(200);
  });

  it("keeps the current secret from expiring by itself: Keycloak's expiry of it is years away", async () => {
    const { clientId } = await newClient();
    await regenerate(clientId, { gracePeriodSeconds: 60 });
    const expiry = Number((await keycloakClient(clientId))?.attributes?.['client.secret.expiration.time']);
    expect(expiry * 1000 - Date.now()).toBeGreaterThan(5 * 365 * 86_400_000);
  });
});

describe('invalidate', () => {
  it('revokes every token issued before it (introspection inactive) and not the ones after; no grace', async () => {
    const { clientId, secret: old } = await newClient();
    const before = (await clientCredentialsToken(clientId, old)).body.access_token as string;
    expect((await introspect(before)).active).toBe(true);

    const invalidated = await t.call<{ secret: string }>(
      'POST',
      `${clientUrl(account, clientId)}/invalidate`,
      {
        token: paula,
      },
    );
    expect(invalidated.status).toBe(200);
    expect(invalidated.headers['cache-control']).toBe('no-store');
    expect(Object.keys(invalidated.body)).toEqual(['secret']);
    const fresh = invalidated.body.secret;

    expect(await introspect(before)).toEqual({ active: false });
    expect(await tokenStatus(clientId, old)).toBe(401);
    const afterToken = await clientCredentialsToken(clientId, fresh);
    expect(afterToken.status).toBe(200);
    const after = await introspect(afterToken.body.access_token as string);
    expect(after.active).toBe(true);
    expect(after.client_id).toBe(clientId);
  });

  it('ends a running grace period too', async () => {
    const { clientId, secret: first } = await newClient();
    const second = (await regenerate(clientId, { gracePeriodSeconds: 600 })).body.secret;
    expect(await tokenStatus(clientId, first)).toBe(200);
    const invalidated = await t.call<{ secret: string }>(
      'POST',
      `${clientUrl(account, clientId)}/invalidate`,
      {
        token: paula,
      },
    );
    expect(invalidated.status).toBe(200);
    expect(await tokenStatus(clientId, first)).toBe(401);
    expect(await tokenStatus(clientId, second)).toBe(401);
    expect(await tokenStatus(clientId, invalidated.body.secret)).toBe(200);
  });
});

describe('lastUsedAt', () => {
  it('is null before the first token, then the time Keycloak issued it, on get and in the list', async () => {
    const { clientId, secret } = await newClient();
    const get = () => t.call<Record<string, unknown>>('GET', clientUrl(account, clientId), { token: paula });
    const row = async () => {
      const list = await t.call<{ items: Record<string, unknown>[] }>('GET', clientsUrl(account), {
        token: paula,
      });
      return list.body.items.find((item) => item.clientId === clientId);
    };
    expect((await get()).body.lastUsedAt).toBeNull();
    expect((await row())?.lastUsedAt).toBeNull();

    const issuedAt = Date.now();
    expect(await tokenStatus(clientId, secret)).toBe(200);
    // gets and lists share one realm-wide events query, kept 10 s by the replica
    await expect
      .poll(async () => (await get()).body.lastUsedAt, { timeout: 20_000, interval: 1000 })
      .not.toBeNull();
    const lastUsedAt = Date.parse((await get()).body.lastUsedAt as string);
    expect(Math.abs(lastUsedAt - issuedAt)).toBeLessThan(5000);
    await expect
      .poll(async () => (await row())?.lastUsedAt, { timeout: 20_000, interval: 1000 })
      .toBe(new Date(lastUsedAt).toISOString());
  });
});

describe('who may', () => {
  it.each([
    ['POST', 'secret'],
    ['DELETE', 'secret/previous'],
    ['POST', 'invalidate'],
  ] as const)('a viewer is refused %s .../%s (403)', async (method, path) => {
    const victor = await userToken('victor');
    const answer = await t.call(method, `${clientUrl('acme', 'acme_any-client')}/${path}`, {
      token: victor,
      ...(method === 'POST' ? { body: {} } : {}),
    });
    expect(answer.status).toBe(403);
  });
});
