// SPEC §4 "Role grants are bounded by the caller", against the real Keycloak: alice (an admin of
// acme who holds insights-viewer, not insights-editor) may give only insights-viewer; paula (a
// platform admin who holds insights-editor) may give any catalogue role. A role a client already
// has is kept or removed by anyone who may edit it, never added by someone who lacks it; a refused
// add answers role-not-held (403) and leaves the client's role scope and service account as they were.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, clientUrl, startTestApp, type TestApp } from '../../support/app.js';
import { scriptClient } from '../../support/fixtures.js';
import { claims, clientCredentialsToken, keycloakClient, userToken } from '../../support/keycloak.js';
import { keycloakRoles as allKeycloakRoles } from './support.js';

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: { pointer: string; in: string; reason: string }[];
}
interface Resource {
  clientId: string;
  roles: string[];
  displayName: string | null;
  secret?: string;
  [name: string]: unknown;
}

const ROLE_NOT_HELD = 'urn:api-clients:problem:role-not-held';
const account = 'acme';
const suffix = Math.random().toString(16).slice(2, 8);
const byAlice = `${account}_grants-alice-${suffix}`;
const byPaula = `${account}_grants-paula-${suffix}`;
const refused = `${account}_grants-refused-${suffix}`;
const patch = { 'content-type': 'application/merge-patch+json' };

/** What a GET answered, as a PUT body: the read-only members left out. */
const editable = ({ accountId, createdAt, lastUsedAt, previousSecretExpiresAt, ...fields }: Resource) =>
  fields;

const realmRolesOf = (accessToken: string): string[] =>
  ((claims(accessToken).realm_access as { roles?: string[] } | undefined)?.roles ?? []).slice().sort();

/** The client's catalogue roles in Keycloak: its role scope, and its service account's (default roles left out). */
async function keycloakRoles(clientId: string) {
  const held = await allKeycloakRoles(clientId);
  const catalogue = (names: (string | undefined)[]) => names.filter((name) => name?.startsWith('insights-'));
  return held && { scope: held.scope, accountRoles: catalogue(held.accountRoles) };
}

let t: TestApp;
let alice: string;
let paula: string;

beforeAll(async () => {
  t = await startTestApp();
  [alice, paula] = await Promise.all([userToken('alice'), userToken('paula')]);
});
afterAll(async () => {
  for (const clientId of [byAlice, byPaula, refused])
    await t.call('DELETE', clientUrl(account, clientId), { token: paula });
  await t.close();
});

describe('GET /v1/roles says which roles the caller may give', () => {
  it.each([
    ['alice', { 'insights-viewer': true, 'insights-editor': false }],
    ['paula', { 'insights-viewer': true, 'insights-editor': true }],
    ['victor', { 'insights-viewer': false, 'insights-editor': false }],
  ] as const)('%s', async (user, expected) => {
    const answer = await t.call<{ items: { name: string; grantable: boolean }[] }>('GET', '/v1/roles', {
      token: await userToken(user),
    });
    expect(answer.status).toBe(200);
    expect(Object.fromEntries(answer.body.items.map((role) => [role.name, role.grantable]))).toMatchObject(
      expected,
    );
  });
});

describe('create', () => {
  it('alice gives a role she holds', async () => {
    const created = await t.call<Resource>('POST', clientsUrl(account), {
      token: alice,
      body: scriptClient(byAlice, { roles: ['insights-viewer'] }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.roles).toEqual(['insights-viewer']);
    expect(await keycloakRoles(byAlice)).toEqual({
      scope: ['insights-viewer'],
      accountRoles: ['insights-viewer'],
    });
  });

  it('alice cannot give a role she does not hold: 403 role-not-held naming it, nothing created', async () => {
    for (const roles of [['insights-editor'], ['insights-viewer', 'insights-editor']]) {
      const answer = await t.call<Problem>('POST', clientsUrl(account), {
        token: alice,
        body: scriptClient(refused, { roles }),
      });
      expect(answer.status).toBe(403);
      expect(answer.body.type).toBe(ROLE_NOT_HELD);
      expect(answer.body.detail).toContain('insights-editor');
      expect(answer.body.detail).not.toContain('insights-viewer');
      expect(answer.body.errors).toEqual([
        {
          pointer: `/roles/${roles.indexOf('insights-editor')}`,
          in: 'body',
          reason: expect.stringContaining('insights-editor'),
        },
      ]);
      expect(await keycloakClient(refused)).toBeUndefined();
    }
  });

  it('bad input is answered first (400, every field), the grant after it', async () => {
    const answer = await t.call<Problem>('POST', clientsUrl(account), {
      token: alice,
      body: scriptClient(refused, { roles: ['insights-editor'], rootUrl: 'not a url' }),
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.map((e) => e.pointer)).toEqual(['/rootUrl']);
    expect(await keycloakClient(refused)).toBeUndefined();
  });

  it('paula, a platform admin, gives any catalogue role, one she does not hold too', async () => {
    const created = await t.call<Resource>('POST', clientsUrl(account), {
      token: paula,
      body: scriptClient(byPaula, { roles: ['insights-editor', 'insights-viewer'] }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.roles).toEqual(['insights-editor', 'insights-viewer']);
  });
});

describe('PUT and PATCH by alice on a client that has a role she lacks', () => {
  it('keeps it: PATCH of another field, PUT of what GET answered', async () => {
    const patched = await t.call<Resource>('PATCH', clientUrl(account, byPaula), {
      token: alice,
      body: { displayName: 'Edited by alice' },
      headers: patch,
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.roles).toEqual(['insights-editor', 'insights-viewer']);

    const got = await t.call<Resource>('GET', clientUrl(account, byPaula), { token: alice });
    const put = await t.call<Resource>('PUT', clientUrl(account, byPaula), {
      token: alice,
      body: { ...editable(got.body), description: 'PUT by alice' },
      headers: { 'if-match': String(got.headers.etag) },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.roles).toEqual(['insights-editor', 'insights-viewer']);
    expect(await keycloakRoles(byPaula)).toEqual({
      scope: ['insights-editor', 'insights-viewer'],
      accountRoles: ['insights-editor', 'insights-viewer'],
    });
  });

  it('removes it (PATCH)', async () => {
    const patched = await t.call<Resource>('PATCH', clientUrl(account, byPaula), {
      token: alice,
      body: { roles: ['insights-viewer'] },
      headers: patch,
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.roles).toEqual(['insights-viewer']);
    expect(await keycloakRoles(byPaula)).toEqual({
      scope: ['insights-viewer'],
      accountRoles: ['insights-viewer'],
    });
  });

  it('cannot add it again, by PATCH or PUT, and Keycloak keeps what it had', async () => {
    const before = await keycloakRoles(byPaula);
    const patched = await t.call<Problem>('PATCH', clientUrl(account, byPaula), {
      token: alice,
      body: { roles: ['insights-viewer', 'insights-editor'] },
      headers: patch,
    });
    expect(patched.status).toBe(403);
    expect(patched.body.type).toBe(ROLE_NOT_HELD);
    expect(patched.body.errors?.map((e) => e.pointer)).toEqual(['/roles/1']);

    const got = await t.call<Resource>('GET', clientUrl(account, byPaula), { token: alice });
    const put = await t.call<Problem>('PUT', clientUrl(account, byPaula), {
      token: alice,
      body: { ...editable(got.body), roles: ['insights-editor', 'insights-viewer'] },
      headers: { 'if-match': String(got.headers.etag) },
    });
    expect(put.status).toBe(403);
    expect(put.body.type).toBe(ROLE_NOT_HELD);
    expect(put.body.errors?.map((e) => e.pointer)).toEqual(['/roles/0']);
    // a refusal whatever the client's version: 403 before If-Match is looked at
    const stale = await t.call<Problem>('PATCH', clientUrl(account, byPaula), {
      token: alice,
      body: { roles: ['insights-editor'] },
      headers: { ...patch, 'if-match': 'W/"not-the-etag"' },
    });
    expect(stale.status).toBe(403);

    expect(await keycloakRoles(byPaula)).toEqual(before);
    expect((await t.call<Resource>('GET', clientUrl(account, byPaula), { token: alice })).body.roles).toEqual(
      ['insights-viewer'],
    );
  });
});

describe("alice's own Script client", () => {
  it('never gets a client-credentials token carrying insights-editor', async () => {
    const before = await keycloakRoles(byAlice);
    const answer = await t.call<Problem>('PATCH', clientUrl(account, byAlice), {
      token: alice,
      body: { roles: ['insights-editor'] },
      headers: patch,
    });
    expect(answer.status).toBe(403);
    expect(await keycloakRoles(byAlice)).toEqual(before);

    const secret = await t.call<{ secret: string }>('GET', `${clientUrl(account, byAlice)}/secret`, {
      token: alice,
    });
    expect(secret.status).toBe(200);
    const token = await clientCredentialsToken(byAlice, secret.body.secret);
    expect(token.status).toBe(200);
    expect(realmRolesOf(token.body.access_token as string)).toEqual(['insights-viewer']);
  });

  it('paula, who may give any catalogue role, adds insights-editor; the token carries it', async () => {
    const answer = await t.call<Resource>('PATCH', clientUrl(account, byAlice), {
      token: paula,
      body: { roles: ['insights-viewer', 'insights-editor'] },
      headers: patch,
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const secret = await t.call<{ secret: string }>('GET', `${clientUrl(account, byAlice)}/secret`, {
      token: paula,
    });
    const token = await clientCredentialsToken(byAlice, secret.body.secret);
    expect(realmRolesOf(token.body.access_token as string)).toEqual(['insights-editor', 'insights-viewer']);
  });
});
