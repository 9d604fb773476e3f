// Roles (SPEC §2 `roles`, §4 Role catalogue), proved at Keycloak's own endpoints: a Script client's
// client-credentials token carries exactly its catalogue roles; a WebApp client's tokens carry a
// user's roles only where the client has them; nothing outside the catalogue is ever granted, by
// the service or by Keycloak to the service's account.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleAccessToken, masterAdmin } from '../../security/realm-admin.js';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../../support/app.js';
import { scriptClient } from '../../support/fixtures.js';
import {
  claims,
  clientCredentialsToken,
  createKeycloakClient,
  deleteKeycloakClient,
  keycloakAdmin,
  keycloakAdminGet,
  keycloakClient,
  userToken,
} from '../../support/keycloak.js';
import { keycloakRoles } from './support.js';

interface RoleRef {
  id: string;
  name: string;
}

const realmRolesOf = (accessToken: string): string[] =>
  ((claims(accessToken).realm_access as { roles?: string[] } | undefined)?.roles ?? []).slice().sort();

describe('roles of API clients', () => {
  let t: TestApp;
  let token: string;
  const account = uniqueAccount('roles');
  const script = `${account}_export`;
  let secret: string;

  beforeAll(async () => {
    t = await startTestApp();
    token = await userToken('paula');
  });
  afterAll(async () => {
    for (const id of [script, `${account}_portal`, `${account}_refused`])
      await t.call('DELETE', clientUrl(account, id), { token });
    await t.close();
  });

  it('GET /v1/roles: the role catalogue from Keycloak, with descriptions, nothing privileged', async () => {
    const answer = await t.call<{ items: { name: string; description: string; grantable: boolean }[] }>(
      'GET',
      '/v1/roles',
      {
        token: await userToken('victor'),
      },
    );
    expect(answer.status).toBe(200);
    expect(answer.body.items).toEqual(
      expect.arrayContaining([
        // victor holds neither role: he may give none (role-grants.test.ts)
        {
          name: 'insights-editor',
          description: 'View and change Insights dashboards and data',
          grantable: false,
        },
        { name: 'insights-viewer', description: 'View Insights dashboards and data', grantable: false },
      ]),
    );
    const names = answer.body.items.map((role) => role.name);
    for (const privileged of ['platform-admin', 'api-clients-admin', 'api-clients-viewer', 'offline_access'])
      expect(names).not.toContain(privileged);
  });

  it('a Script client with insights-viewer gets a token with exactly that role', async () => {
    const created = await t.call<{ secret: string; roles: string[] }>('POST', clientsUrl(account), {
      token,
      body: scriptClient(script, { roles: ['insights-viewer'] }),
    });
    expect(created.status).toBe(201);
    expect(created.body.roles).toEqual(['insights-viewer']);
    secret = created.body.secret;

    const answer = await clientCredentialsToken(script, secret);
    expect(answer.status).toBe(200);
    expect(realmRolesOf(answer.body.access_token as string)).toEqual(['insights-viewer']);

    const got = await t.call<{ roles: string[] }>('GET', clientUrl(account, script), { token });
    expect(got.body.roles).toEqual(['insights-viewer']);
    const listed = await t.call<{ items: { clientId: string; roles: string[] }[] }>(
      'GET',
      clientsUrl(account),
      {
        token,
      },
    );
    expect(listed.body.items.find((row) => row.clientId === script)?.roles).toEqual(['insights-viewer']);
  });

  it('after PATCH to insights-editor, the token carries exactly that one; after null, none', async () => {
    const patched = await t.call<{ roles: string[] }>('PATCH', clientUrl(account, script), {
      token,
      body: { roles: ['insights-editor'] },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.roles).toEqual(['insights-editor']);
    const answer = await clientCredentialsToken(script, secret);
    expect(realmRolesOf(answer.body.access_token as string)).toEqual(['insights-editor']);
    expect(await keycloakRoles(script)).toMatchObject({ scope: ['insights-editor'] });

    const cleared = await t.call('PATCH', clientUrl(account, script), {
      token,
      body: { roles: null },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(cleared.status).toBe(200);
    const none = await clientCredentialsToken(script, secret);
    expect(realmRolesOf(none.body.access_token as string)).toEqual([]);
  });

  it('refuses privileged roles, offline_access, unknown names and repeats, naming each, and changes nothing', async () => {
    await t.call('PATCH', clientUrl(account, script), {
      token,
      body: { roles: ['insights-viewer'] },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    const before = await keycloakRoles(script);
    const roles = ['platform-admin', 'insights-viewer', 'api-clients-admin', 'offline_access', 'nope'];
    const create = await t.call<{ errors: { pointer: string }[] }>('POST', clientsUrl(account), {
      token,
      body: scriptClient(`${account}_refused`, { roles }),
    });
    expect(create.status).toBe(400);
    expect(create.body.errors.map((e) => e.pointer).sort()).toEqual([
      '/roles/0',
      '/roles/2',
      '/roles/3',
      '/roles/4',
    ]);
    expect(await keycloakClient(`${account}_refused`)).toBeUndefined();

    const repeat = await t.call<{ errors: { pointer: string }[] }>('POST', clientsUrl(account), {
      token,
      body: scriptClient(`${account}_refused`, { roles: ['insights-viewer', 'insights-viewer'] }),
    });
    expect(repeat.status).toBe(400);
    expect(repeat.body.errors.map((e) => e.pointer)).toContain('/roles');
    expect(await keycloakClient(`${account}_refused`)).toBeUndefined();

    for (const method of ['PATCH', 'PUT'] as const) {
      const current = await t.call<Record<string, unknown>>('GET', clientUrl(account, script), { token });
      const { clientId: _c, accountId: _a, createdAt: _t, ...fields } = current.body;
      const answer = await t.call('PATCH' === method ? 'PATCH' : 'PUT', clientUrl(account, script), {
        token,
        body: method === 'PUT' ? { ...fields, roles: ['platform-admin'] } : { roles: ['platform-admin'] },
        headers: method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {},
      });
      expect(answer.status, method).toBe(400);
    }
    expect(await keycloakRoles(script)).toEqual(before);
    const answer = await clientCredentialsToken(script, secret);
    expect(realmRolesOf(answer.body.access_token as string)).toEqual(['insights-viewer']);
  });

  it("Keycloak itself refuses the service's account a role outside the catalogue, by every route", async () => {
    const rep = await keycloakClient(script);
    const platformAdmin = (await (
      await masterAdmin()
    ).roles.findOneByName({ name: 'platform-admin' })) as RoleRef;
    const role = [{ id: platformAdmin.id, name: platformAdmin.name }];
    const account = await keycloakAdminGet<{ id: string }>(`/clients/${rep?.id}/service-account-user`);
    const alice = (await (await masterAdmin()).users.find({ username: 'alice', exact: true }))[0];
    const before = await keycloakRoles(script);
    // the service's own token, straight at Keycloak's admin API: client role scope, service account, a user
    expect((await keycloakAdmin('POST', `/clients/${rep?.id}/scope-mappings/realm`, role)).status).toBe(403);
    expect((await keycloakAdmin('POST', `/users/${account.body.id}/role-mappings/realm`, role)).status).toBe(
      403,
    );
    expect((await keycloakAdmin('POST', `/users/${alice?.id}/role-mappings/realm`, role)).status).toBe(403);
    // nor can it make a catalogue role carry a privileged one, or edit roles
    const viewer = (await (await masterAdmin()).roles.findOneByName({ name: 'insights-viewer' })) as RoleRef;
    expect((await keycloakAdmin('POST', `/roles-by-id/${viewer.id}/composites`, role)).status).toBe(403);
    expect(
      (await keycloakAdmin('PUT', `/roles-by-id/${viewer.id}`, { ...viewer, attributes: {} })).status,
    ).toBe(403);
    expect(await keycloakRoles(script)).toEqual(before);
  });

  it("a WebApp client's token carries a user's roles only where the client has them", async () => {
    const portal = `${account}_portal`;
    const created = await t.call('POST', clientsUrl(account), {
      token,
      body: {
        clientId: portal,
        capabilityTypes: ['WebApp'],
        redirectUris: ['https://portal.example.com/cb'],
        roles: ['insights-editor'],
      },
    });
    expect(created.status).toBe(201);
    const kc = await masterAdmin();
    const rep = await keycloakClient(portal);
    const user = async (username: string) =>
      (await kc.users.find({ username, exact: true }))[0]?.id as string;
    // alice holds insights-viewer (and api-clients-admin), which the client lacks
    const alice = await exampleAccessToken(kc, rep?.id as string, await user('alice'));
    expect((alice.realm_access as { roles?: string[] } | undefined)?.roles ?? []).toEqual([]);
    // paula holds insights-editor (and platform-admin): only insights-editor comes through
    const paula = await exampleAccessToken(kc, rep?.id as string, await user('paula'));
    expect((paula.realm_access as { roles: string[] }).roles).toEqual(['insights-editor']);
  });

  it('a role taken out of the catalogue stays visible on its clients, can be removed, never added', async () => {
    const kc = await masterAdmin();
    const editor = await kc.roles.findOneByName({ name: 'insights-editor' });
    await t.call('PATCH', clientUrl(account, script), {
      token,
      body: { roles: ['insights-editor', 'insights-viewer'] },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    await kc.roles.updateByName({ name: 'insights-editor' }, { ...editor, attributes: {} });
    // a fresh app: the catalogue is cached per app
    const fresh = await startTestApp();
    try {
      const catalogue = await fresh.call<{ items: { name: string }[] }>('GET', '/v1/roles', { token });
      expect(catalogue.body.items.map((role) => role.name)).not.toContain('insights-editor');
      const got = await fresh.call<{ roles: string[] }>('GET', clientUrl(account, script), { token });
      expect(got.body.roles).toEqual(['insights-editor', 'insights-viewer']);

      const other = await fresh.call<{ errors: { pointer: string }[] }>('POST', clientsUrl(account), {
        token,
        body: scriptClient(`${account}_refused`, { roles: ['insights-editor'] }),
      });
      expect(other.status).toBe(400);
      expect(other.body.errors.map((e) => e.pointer)).toEqual(['/roles/0']);

      const merge = { 'content-type': 'application/merge-patch+json' };
      const removed = await fresh.call<{ roles: string[] }>('PATCH', clientUrl(account, script), {
        token,
        body: { roles: ['insights-viewer'] },
        headers: merge,
      });
      expect(removed.status).toBe(200);
      expect(removed.body.roles).toEqual(['insights-viewer']);
      expect(await keycloakRoles(script)).toMatchObject({ scope: ['insights-viewer'] });
      const again = await fresh.call('PATCH', clientUrl(account, script), {
        token,
        body: { roles: ['insights-viewer', 'insights-editor'] },
        headers: merge,
      });
      expect(again.status).toBe(400);
      expect(await keycloakRoles(script)).toMatchObject({ scope: ['insights-viewer'] });
    } finally {
      await kc.roles.updateByName({ name: 'insights-editor' }, editor as never);
      await fresh.close();
    }
  });
  it('a client deleted and created again in Keycloak under the same clientId: get and list show the new one at once', async () => {
    // the service keeps each role scope briefly, by Keycloak's internal id (never reused)
    const again = `${account}_again`;
    const rolesSeen = async () => {
      const got = await t.call<{ roles: string[]; displayName: string | null }>(
        'GET',
        clientUrl(account, again),
        {
          token,
        },
      );
      const listed = await t.call<{ items: { clientId: string; roles: string[] }[] }>(
        'GET',
        clientsUrl(account),
        {
          token,
        },
      );
      return {
        get: got.body.roles,
        displayName: got.body.displayName,
        list: listed.body.items.find((row) => row.clientId === again)?.roles,
      };
    };
    const created = await t.call('POST', clientsUrl(account), {
      token,
      body: scriptClient(again, { roles: ['insights-viewer'], displayName: 'first' }),
    });
    expect(created.status).toBe(201);
    expect(await rolesSeen()).toEqual({
      get: ['insights-viewer'],
      displayName: 'first',
      list: ['insights-viewer'],
    });

    // straight in Keycloak: the same representation under a new id, without the role scope
    const first = await keycloakClient(again);
    const rep = (await keycloakAdminGet<Record<string, unknown>>(`/clients/${first?.id}`)).body;
    await deleteKeycloakClient(first?.id as string);
    const { id: _id, secret: _secret, ...copy } = rep;
    const secondId = await createKeycloakClient({ ...copy, name: 'second' });
    expect(secondId).not.toBe(first?.id);
    try {
      expect(await rolesSeen()).toEqual({ get: [], displayName: 'second', list: [] });
    } finally {
      await deleteKeycloakClient(secondId);
    }
  });

  it('roles changed behind the service: shown at once with ROLE_SCOPE_CACHE_TTL_MS=0; a stale read of another replica is never written back (412)', async () => {
    const clientId = `${account}_behind`;
    const created = await t.call('POST', clientsUrl(account), {
      token,
      body: scriptClient(clientId, { roles: ['insights-viewer'] }),
    });
    expect(created.status).toBe(201);
    // t keeps the role scope (10 s by default) from this read on; `uncached` keeps nothing
    const uncached = await startTestApp({ roleScopeCacheTtlMs: 0 });
    const before = await t.call<{ roles: string[] }>('GET', clientUrl(account, clientId), { token });
    expect(before.body.roles).toEqual(['insights-viewer']);
    expect(
      (await uncached.call<{ roles: string[] }>('GET', clientUrl(account, clientId), { token })).body.roles,
    ).toEqual(['insights-viewer']);

    // another writer (an operator in Keycloak's console): the role leaves the client's role scope
    const kc = await masterAdmin();
    const rep = await keycloakClient(clientId);
    const viewer = await kc.roles.findOneByName({ name: 'insights-viewer' });
    await kc.clients.delRealmScopeMappings({ id: rep?.id as string }, [viewer as never]);

    try {
      const now = await uncached.call<{ roles: string[] }>('GET', clientUrl(account, clientId), { token });
      expect(now.body.roles).toEqual([]);
      expect(now.headers.etag).not.toBe(before.headers.etag);
    } finally {
      await uncached.close();
    }
    // t still answers what it read (at most its TTL), with that read's ETag; a write with that
    // ETag is checked against Keycloak's current roles and refused, so the stale read changes nothing
    const stale = await t.call<{ roles: string[] }>('GET', clientUrl(account, clientId), { token });
    expect(stale.body.roles).toEqual(['insights-viewer']);
    const patch = await t.call('PATCH', clientUrl(account, clientId), {
      token,
      body: { displayName: 'from a stale read' },
      headers: { 'if-match': String(stale.headers.etag) },
    });
    expect(patch.status).toBe(412);
    expect((await keycloakClient(clientId))?.name ?? null).not.toBe('from a stale read');
  });
});
