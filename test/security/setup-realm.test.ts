// SPEC §5: an operator applies the service's realm setup to an existing realm, again and again
// without harm. Against a realm this project did not create, with clients, users, roles and scopes
// of its own: `npm run setup-realm` (the real command, as a process) sets up what the service
// needs, a second run changes nothing, nothing else is touched, and the service then works there
// with the secret the command printed and only the admin roles the setup gives it.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type KeycloakAdminClient from '@keycloak/keycloak-admin-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../scripts/lib/keycloak-local.js';
import { readSetup } from '../../scripts/lib/realm-files.js';
import { applyRealmSetup } from '../../scripts/lib/realm-setup.js';
import { buildApp } from '../../src/app.js';
import { keycloakUrl, testConfig } from '../support/keycloak.js';
import { masterAdmin, masterAdminCredentials } from './realm-admin.js';

const realm = `foreign-${randomBytes(4).toString('hex')}`;
let kc: KeycloakAdminClient;

function setupRealm(...extra: string[]) {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/setup-realm.ts', '--url', keycloakUrl(), '--realm', realm, ...extra],
    {
      cwd: projectRoot,
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        KEYCLOAK_ADMIN_USERNAME: masterAdminCredentials.username,
        KEYCLOAK_ADMIN_PASSWORD: masterAdminCredentials.password,
      },
    },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Everything in the realm that the setup could touch, as Keycloak holds it (ids and secrets included). */
async function snapshot() {
  kc = await masterAdmin(realm);
  const byName = <T extends { name?: string; clientId?: string; username?: string }>(list: T[]) =>
    [...list].sort((a, b) =>
      String(a.clientId ?? a.username ?? a.name).localeCompare(String(b.clientId ?? b.username ?? b.name)),
    );
  const clients = byName(await kc.clients.find());
  const withScopes = await Promise.all(
    clients.map(async (client) => ({
      ...client,
      defaultClientScopes: [...(client.defaultClientScopes ?? [])].sort(),
      optionalClientScopes: [...(client.optionalClientScopes ?? [])].sort(),
      redirectUris: [...(client.redirectUris ?? [])].sort(),
      webOrigins: [...(client.webOrigins ?? [])].sort(),
      secret: client.publicClient
        ? undefined
        : (await kc.clients.getClientSecret({ id: client.id as string })).value,
    })),
  );
  const scopes = byName(await kc.clientScopes.find()).map((scope) => ({
    ...scope,
    protocolMappers: byName(scope.protocolMappers ?? []),
  }));
  const users = byName(await kc.users.find({ briefRepresentation: false }));
  const usersWithRoles = await Promise.all(
    users.map(async (user) => ({
      ...user,
      roles: (await kc.users.listCompositeRealmRoleMappings({ id: user.id as string }))
        .map((r) => r.name)
        .sort(),
      clientRoles: await Promise.all(
        clients.map(async (client) =>
          (
            await kc.users.listClientRoleMappings({
              id: user.id as string,
              clientUniqueId: client.id as string,
            })
          ).map((role) => `${client.clientId}/${role.name}`),
        ),
      ).then((lists) => lists.flat().sort()),
    })),
  );
  const serviceAccounts = await Promise.all(
    clients
      .filter((client) => client.serviceAccountsEnabled)
      .map(async (client) => {
        const user = await kc.clients.getServiceAccountUser({ id: client.id as string });
        const roles = await Promise.all(
          clients.map(async (of) =>
            (
              await kc.users.listClientRoleMappings({
                id: user.id as string,
                clientUniqueId: of.id as string,
              })
            ).map((role) => `${of.clientId}/${role.name}`),
          ),
        );
        return { clientId: client.clientId, user: user.username, roles: roles.flat().sort() };
      }),
  );
  const roles = byName(await kc.roles.find());
  const realmRep = await kc.realms.findOne({ realm });
  const groups = await kc.groups.find();
  return {
    realm: realmRep,
    events: await kc.realms.getConfigEvents({ realm }),
    clientProfiles: (await kc.clientPolicies.listProfiles({ includeGlobalProfiles: false })).profiles ?? [],
    clientPolicies: (await kc.clientPolicies.listPolicies({ includeGlobalPolicies: false })).policies ?? [],
    clients: withScopes,
    scopes,
    users: usersWithRoles,
    serviceAccounts,
    roles,
    groups,
  };
}

type Snapshot = Awaited<ReturnType<typeof snapshot>>;
const OPERATOR_RETENTION = 400 * 86_400;
const OPERATOR_PROFILE = {
  name: 'operator-pkce',
  description: "the operator's own",
  executors: [{ executor: 'pkce-enforcer', configuration: { 'auto-configure': 'false' } }],
};
const OPERATOR_POLICY = {
  name: 'operator-policy',
  description: "the operator's own",
  enabled: false,
  conditions: [{ condition: 'client-access-type', configuration: { type: ['public'] } }],
  profiles: ['operator-pkce'],
};
let before: Snapshot;
let afterFirst: Snapshot;
let first: ReturnType<typeof setupRealm>;

beforeAll(async () => {
  kc = await masterAdmin('master');
  await kc.realms.create({ realm, enabled: true });
  kc.setConfig({ realmName: realm });
  // The operator's own things: a confidential app, a person, a role, a scope, a group.
  await kc.clientScopes.create({ name: 'crm', protocol: 'openid-connect', description: 'The CRM API' });
  await kc.clients.create({
    clientId: 'crm-app',
    secret: 'crm-app-secret',
    publicClient: false,
    standardFlowEnabled: true,
    redirectUris: ['https://crm.example.com/*'],
    attributes: { 'crm.tier': 'gold' },
  });
  // an API client this service made before token hygiene (Keycloak's defaults: full scope, offline_access)
  await kc.clients.create({
    clientId: 'acme_legacy',
    publicClient: false,
    standardFlowEnabled: true,
    redirectUris: ['https://legacy.example.com/cb'],
    attributes: { 'api-clients.account': 'acme' },
  });
  await kc.roles.create({ name: 'sales', description: 'Sales people' });
  await kc.groups.create({ name: 'emea' });
  // the operator's own events (a type of theirs, kept longer than the setup's) and client policy
  await kc.realms.updateConfigEvents(
    { realm },
    {
      eventsEnabled: true,
      enabledEventTypes: ['LOGIN'],
      eventsExpiration: OPERATOR_RETENTION,
      eventsListeners: ['jboss-logging'],
    },
  );
  await kc.clientPolicies.createProfiles({ profiles: [OPERATOR_PROFILE] });
  await kc.clientPolicies.updatePolicy({ policies: [OPERATOR_POLICY] });
  const { id: bob } = await kc.users.create({ username: 'bob', enabled: true, email: 'bob@example.test' });
  const sales = await kc.roles.findOneByName({ name: 'sales' });
  await kc.users.addRealmRoleMappings({ id: bob, roles: [{ id: sales?.id as string, name: 'sales' }] });

  before = await snapshot();
  first = setupRealm('--docs-url', 'https://api-clients.example.com');
  afterFirst = await snapshot();
}, 240_000);

afterAll(async () => {
  const admin = await masterAdmin('master');
  await admin.realms.del({ realm });
});

describe('npm run setup-realm on a realm it did not create', () => {
  it('sets up the service, printing the generated secret once', () => {
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('create client api-clients-service');
    expect(first.stdout).toContain('KEYCLOAK_CLIENT_SECRET');
    const service = afterFirst.clients.find((c) => c.clientId === 'api-clients-service');
    expect(service?.secret).toBeTruthy();
    expect(first.stdout).toContain(service?.secret as string);
    expect(first.stdout).not.toContain('dev-secret');
  });

  it('creates exactly what the service needs, and no demo data', () => {
    const names = (list: { clientId?: string; name?: string; username?: string }[]) =>
      list.map((x) => x.clientId ?? x.username ?? x.name);
    const added = (key: 'clients' | 'scopes' | 'roles' | 'users') =>
      names(afterFirst[key]).filter((name) => !names(before[key]).includes(name));
    expect(added('clients').sort()).toEqual(['api-clients-docs', 'api-clients-service']);
    expect(added('scopes').sort()).toEqual(['api-clients-caller', 'datahub-api', 'push-data']);
    expect(added('roles').sort()).toEqual(['api-clients-admin', 'api-clients-viewer', 'platform-admin']);
    expect(added('users')).toEqual([]);
    const account = afterFirst.serviceAccounts.find((a) => a.clientId === 'api-clients-service');
    expect(account?.roles).toEqual([
      'realm-management/manage-clients',
      'realm-management/query-clients',
      'realm-management/view-clients',
      'realm-management/view-events',
      'realm-management/view-realm',
    ]);
    const docs = afterFirst.clients.find((c) => c.clientId === 'api-clients-docs');
    expect(docs?.redirectUris).toEqual(['https://api-clients.example.com/docs/static/oauth2-redirect.html']);
    expect(afterFirst.groups).toEqual(before.groups);
  });

  it('touches nothing else: the realm, its clients, users, roles and scopes are as they were', () => {
    const untouched = <T extends { clientId?: string; name?: string; username?: string }>(
      list: T[],
      of: T[],
    ): T[] =>
      list.filter((x) =>
        of.some((y) => (y.clientId ?? y.username ?? y.name) === (x.clientId ?? x.username ?? x.name)),
      );
    const notManaged = (list: Snapshot['clients']) => list.filter((c) => c.clientId !== 'acme_legacy');
    expect(notManaged(untouched(afterFirst.clients, before.clients))).toEqual(notManaged(before.clients));
    expect(untouched(afterFirst.scopes, before.scopes)).toEqual(before.scopes);
    expect(untouched(afterFirst.roles, before.roles)).toEqual(before.roles);
    expect(untouched(afterFirst.users, before.users)).toEqual(before.users);
    // the realm's events settings and client policies are what the setup changes there (next test)
    const rest = (rep: Snapshot['realm']) =>
      Object.fromEntries(
        Object.entries(rep ?? {}).filter(
          ([key]) => !/^(enabledEventTypes|eventsExpiration|clientPolicies|clientProfiles)$/.test(key),
        ),
      );
    expect(rest(afterFirst.realm)).toEqual(rest(before.realm));
  });

  it("adds secret rotation and the login events next to the operator's own, keeping the longer retention", () => {
    expect(before.events.enabledEventTypes).toEqual(['LOGIN']);
    expect(afterFirst.events).toMatchObject({
      eventsEnabled: true,
      eventsExpiration: OPERATOR_RETENTION,
      enabledEventTypes: expect.arrayContaining(['LOGIN', 'CLIENT_LOGIN', 'CODE_TO_TOKEN']),
    });
    expect(afterFirst.events.enabledEventTypes).toHaveLength(3);
    expect(afterFirst.events.eventsListeners).toEqual(before.events.eventsListeners);
    const names = (list: { name?: string }[]) => list.map((item) => item.name).sort();
    expect(names(afterFirst.clientProfiles)).toEqual(['api-clients-secret-rotation', 'operator-pkce']);
    expect(names(afterFirst.clientPolicies)).toEqual(['api-clients-secret-rotation', 'operator-policy']);
    expect(afterFirst.clientProfiles.find((p) => p.name === 'operator-pkce')).toEqual(
      before.clientProfiles.find((p) => p.name === 'operator-pkce'),
    );
    expect(afterFirst.clientPolicies.find((p) => p.name === 'operator-policy')).toEqual(
      before.clientPolicies.find((p) => p.name === 'operator-policy'),
    );
  });

  it('brings a managed client made before token hygiene in line', () => {
    const legacy = (snap: Snapshot) => snap.clients.find((c) => c.clientId === 'acme_legacy');
    expect(legacy(before)?.fullScopeAllowed).toBe(true);
    expect(legacy(before)?.optionalClientScopes).toContain('offline_access');
    expect(legacy(afterFirst)?.fullScopeAllowed).toBe(false);
    expect(legacy(afterFirst)?.optionalClientScopes).not.toContain('offline_access');
    expect(legacy(afterFirst)?.optionalClientScopes).toContain('phone');
    expect(legacy(before)?.attributes?.['api-clients.secret-rotation']).toBeUndefined();
    expect(legacy(afterFirst)?.attributes?.['api-clients.secret-rotation']).toBe('true');
    expect(first.stdout).toContain('managed client acme_legacy');
  });

  it('a second run changes nothing', async () => {
    const second = setupRealm('--docs-url', 'https://api-clients.example.com');
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toContain('nothing changed');
    expect(second.stdout).not.toContain('KEYCLOAK_CLIENT_SECRET');
    expect(await snapshot()).toEqual(afterFirst);
  });

  it('the service works in that realm with the printed secret and only those roles', async () => {
    const secret = afterFirst.clients.find((c) => c.clientId === 'api-clients-service')?.secret as string;
    const base = testConfig();
    const app = await buildApp({
      ...base,
      devMode: false,
      keycloak: { ...base.keycloak, realm, clientSecret: secret },
    });
    try {
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      // an operator of the realm: a group carrying the account, a user in it, a client to log in with
      kc = await masterAdmin(realm);
      const { id: groupId } = await kc.groups.create({ name: 'acme', attributes: { account_id: ['acme'] } });
      const { id: olga } = await kc.users.create({
        username: 'olga',
        enabled: true,
        email: 'olga@example.test',
        firstName: 'Olga',
        lastName: 'Operator',
        emailVerified: true,
        credentials: [{ type: 'password', value: 'olga-password', temporary: false }],
      });
      await kc.users.addToGroup({ id: olga, groupId });
      const admin = await kc.roles.findOneByName({ name: 'api-clients-admin' });
      await kc.users.addRealmRoleMappings({
        id: olga,
        roles: [{ id: admin?.id as string, name: 'api-clients-admin' }],
      });
      await kc.clients.create({
        clientId: 'test-cli',
        publicClient: true,
        directAccessGrantsEnabled: true,
        standardFlowEnabled: false,
        defaultClientScopes: ['basic', 'roles', 'api-clients-caller'],
      });
      const tokenAnswer = await fetch(`${keycloakUrl()}/realms/${realm}/protocol/openid-connect/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'password',
          client_id: 'test-cli',
          username: 'olga',
          password: 'olga-password',
        }),
      });
      const token = ((await tokenAnswer.json()) as { access_token?: string }).access_token;
      expect(token).toBeTruthy();
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const scopes = await app.inject({ method: 'GET', url: '/v1/scopes', headers });
      expect(scopes.statusCode, scopes.body).toBe(200);
      expect(scopes.json().items.map((s: { name: string }) => s.name)).toEqual(['datahub-api', 'push-data']);
      const created = await app.inject({
        method: 'POST',
        url: '/v1/accounts/acme/api-clients',
        headers,
        payload: { clientId: 'acme_erp', capabilityTypes: ['Script'], scopes: ['datahub-api'] },
      });
      expect(created.statusCode, created.body).toBe(201);
      const clientToken = await fetch(`${keycloakUrl()}/realms/${realm}/protocol/openid-connect/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: 'acme_erp',
          client_secret: created.json().secret,
        }),
      });
      expect(((await clientToken.json()) as { scope?: string }).scope).toContain('datahub-api');
      // a grace period works there, and lastUsedAt is read with the setup's view-events
      const rotated = await app.inject({
        method: 'POST',
        url: '/v1/accounts/acme/api-clients/acme_erp/secret',
        headers,
        payload: { gracePeriodSeconds: 600 },
      });
      expect(rotated.statusCode, rotated.body).toBe(200);
      const oldSecretToken = await fetch(`${keycloakUrl()}/realms/${realm}/protocol/openid-connect/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: 'acme_erp',
          client_secret: created.json().secret,
        }),
      });
      expect(oldSecretToken.status).toBe(200);
      const got = await app.inject({ method: 'GET', url: '/v1/accounts/acme/api-clients/acme_erp', headers });
      expect(got.statusCode, got.body).toBe(200);
      expect(Date.parse(got.json().lastUsedAt)).toBeGreaterThan(Date.now() - 60_000);
    } finally {
      await app.close();
    }
  });
});

describe('the setup and the demo realm import', () => {
  it('agree: on the imported demo realm the setup has nothing to do', async () => {
    const admin = await masterAdmin('master');
    const result = await applyRealmSetup(admin, 'platform', readSetup(), { dryRun: true });
    // managed clients left by other test files are not the import's business
    expect(result.changes.filter((change) => !change.includes('managed client'))).toEqual([]);
    expect(result.warnings).toEqual([]);
  });
});
