// SPEC §5: an operator applies the service's realm setup to an existing realm, again and again
// without harm. Against a realm this project did not create, with clients, users, roles and scopes
// of its own: `npm run setup-realm` (the real command, as a process) sets up what the service
// needs, a second run changes nothing, nothing else is touched, and the service then works there
// with the secret the command printed and only the admin roles the setup gives it: it may map the
// realm roles marked as catalogue roles, and Keycloak refuses it any other role.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type KeycloakAdminClient from '@keycloak/keycloak-admin-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../scripts/lib/keycloak-local.js';
import { readSetup } from '../../scripts/lib/realm-files.js';
import { applyRealmSetup } from '../../scripts/lib/realm-setup.js';
import { buildApp } from '../../src/app.js';
import { authorizeInBrowser, CookieJar, demoUser } from '../support/browser-login.js';
import { adminRequest, claims, keycloakUrl, testConfig } from '../support/keycloak.js';
import { masterAdmin, masterAdminCredentials } from './realm-admin.js';

const realm = `foreign-${randomBytes(4).toString('hex')}`;
/** The realm's browser flow after the setup: Keycloak's, then the account-membership check. */
const LOGIN_FLOW = 'api-clients browser';
let kc: KeycloakAdminClient;
const CATALOGUE = { 'api-clients.catalogue': ['true'] };

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
      // not admin-permissions: Keycloak's own authorization client has service accounts on but no
      // user, and reading it makes one (ClientResource.getServiceAccountUser enables it on the spot)
      .filter((client) => client.serviceAccountsEnabled && client.clientId !== 'admin-permissions')
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
  const flows = [...(await kc.authenticationManagement.getFlows())].sort((a, b) =>
    String(a.alias).localeCompare(String(b.alias)),
  );
  const loginFlow = flows.some((flow) => flow.alias === LOGIN_FLOW)
    ? await kc.authenticationManagement.getExecutions({ flow: LOGIN_FLOW })
    : [];
  return {
    flows,
    loginFlow,
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
    adminPermissions: await adminPermissions(),
  };
}

/** The policies and permissions of the realm's admin-permissions client, with what each holds. */
async function adminPermissions() {
  const [client] = await kc.clients.find({ clientId: 'admin-permissions', first: 0, max: 1 });
  if (!client?.id) return [];
  const id = client.id;
  const all = ((await kc.clients.listPolicies({ id, first: 0, max: 1000 })) || []).sort((a, b) =>
    String(a.name).localeCompare(String(b.name)),
  );
  // the list of policies leaves out a permission's resource type; the list of permissions has it
  const permissions = await kc.clients.findPermissions({ id, first: 0, max: 1000 });
  return Promise.all(
    all.map(async (policy) => {
      const permissionId = policy.id as string;
      const [resources, scopes, policies] = await Promise.all([
        kc.clients.getAssociatedResources({ id, permissionId }),
        kc.clients.getAssociatedScopes({ id, permissionId }),
        kc.clients.getAssociatedPolicies({ id, permissionId }),
      ]);
      return {
        ...policy,
        resourceType: permissions.find((p) => p.id === policy.id)?.resourceType,
        resources: resources.map((r) => r.name).sort(),
        scopes: scopes.map((r) => r.name).sort(),
        policies: policies.map((r) => r.name).sort(),
      };
    }),
  );
}

const permission = (snap: Snapshot, name: string) => snap.adminPermissions.find((p) => p.name === name);
const ROLES_PERMISSION = 'api-clients: map catalogue roles';
const USERS_PERMISSION = 'api-clients: map roles of users';
const roleId = async (name: string) => (await kc.roles.findOneByName({ name }))?.id as string;

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
  // a role the operator marked for API clients before running the setup
  await kc.roles.create({ name: 'reports-reader', description: 'Read reports', attributes: CATALOGUE });
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
    // admin-permissions: Keycloak's own, made when the setup switches admin permissions on
    expect(added('clients').sort()).toEqual([
      'admin-permissions',
      'api-clients-console',
      'api-clients-docs',
      'api-clients-service',
    ]);
    expect(added('scopes').sort()).toEqual(['api-clients-caller', 'datahub-api', 'push-data']);
    expect(added('roles').sort()).toEqual(['api-clients-admin', 'api-clients-viewer', 'platform-admin']);
    expect(added('users')).toEqual([]);
    const account = afterFirst.serviceAccounts.find((a) => a.clientId === 'api-clients-service');
    expect(account?.roles).toEqual([
      'realm-management/manage-clients',
      'realm-management/manage-identity-providers',
      'realm-management/query-clients',
      'realm-management/view-clients',
      'realm-management/view-events',
      'realm-management/view-realm',
    ]);
    const docs = afterFirst.clients.find((c) => c.clientId === 'api-clients-docs');
    expect(docs?.redirectUris).toEqual(['https://api-clients.example.com/docs/static/oauth2-redirect.html']);
    const consoleClient = afterFirst.clients.find((c) => c.clientId === 'api-clients-console');
    expect(consoleClient?.redirectUris).toEqual(['https://api-clients.example.com/console/']);
    expect(consoleClient?.publicClient).toBe(true);
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
    expect(before.realm?.adminPermissionsEnabled).toBe(false);
    expect(afterFirst.realm?.adminPermissionsEnabled).toBe(true);
    // the realm's events settings, client policies, admin permissions and browser flow are what the
    // setup changes there (the next tests)
    const rest = (rep: Snapshot['realm']) =>
      Object.fromEntries(
        Object.entries(rep ?? {}).filter(
          ([key]) =>
            !/^(enabledEventTypes|eventsExpiration|adminEventsEnabled|adminEventsDetailsEnabled|clientPolicies|clientProfiles|adminPermissionsEnabled|adminPermissionsClient|browserFlow)$/.test(
              key,
            ),
        ),
      );
    // of the realm's attributes, only the admin events' retention
    const { adminEventsExpiration: _kept, ...attributes } = afterFirst.realm?.attributes ?? {};
    expect(rest({ ...afterFirst.realm, attributes } as Snapshot['realm'])).toEqual(rest(before.realm));
  });

  it("lets the service's account map exactly the catalogue roles (admin permissions v2)", async () => {
    const account = await kc.users.find({ username: 'service-account-api-clients-service', exact: true });
    const policy = permission(afterFirst, 'api-clients-service account');
    expect(policy?.type).toBe('user');
    expect(JSON.parse(policy?.config?.users)).toEqual([account[0]?.id]);
    const roles = permission(afterFirst, ROLES_PERMISSION);
    expect(roles?.resourceType).toBe('Roles');
    expect(roles?.resources).toEqual([await roleId('reports-reader')]);
    expect(roles?.scopes).toEqual(['map-role', 'map-role-client-scope']);
    expect(roles?.policies).toEqual(['api-clients-service account']);
    const users = permission(afterFirst, USERS_PERMISSION);
    expect(users?.resourceType).toBe('Users');
    expect(users?.resources).toEqual(['Users']); // the type's own resource: every user
    expect(users?.scopes).toEqual(['map-roles']);
    expect(users?.policies).toEqual(['api-clients-service account']);
    expect(afterFirst.adminPermissions.map((p) => p.name).sort()).toEqual([
      'api-clients-service account',
      ROLES_PERMISSION,
      USERS_PERMISSION,
    ]);
  });

  it("adds secret rotation and the login events next to the operator's own, keeping the longer retention", () => {
    expect(before.events.enabledEventTypes).toEqual(['LOGIN']);
    expect(afterFirst.events).toMatchObject({
      eventsEnabled: true,
      eventsExpiration: OPERATOR_RETENTION,
      enabledEventTypes: expect.arrayContaining(['LOGIN', 'CLIENT_LOGIN', 'CODE_TO_TOKEN']),
    });
    expect(afterFirst.events.enabledEventTypes).toEqual(
      expect.arrayContaining(['LOGIN', 'CLIENT_LOGIN', 'CODE_TO_TOKEN', 'CLIENT_LOGIN_ERROR']),
    );
    expect(afterFirst.events.enabledEventTypes).toHaveLength(4);
    // admin events (a client's history) with their representation, kept 90 days
    expect(afterFirst.events).toMatchObject({ adminEventsEnabled: true, adminEventsDetailsEnabled: true });
    expect(afterFirst.realm?.attributes?.adminEventsExpiration).toBe('7776000');
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
    expect(legacy(before)?.optionalClientScopes).toContain('phone');
    expect(legacy(afterFirst)?.optionalClientScopes).toEqual([]);
    expect(legacy(before)?.attributes?.['api-clients.secret-rotation']).toBeUndefined();
    expect(legacy(afterFirst)?.attributes?.['api-clients.secret-rotation']).toBe('true');
    expect(first.stdout).toContain('managed client acme_legacy');
  });

  it("installs the login rule: Keycloak's browser flow, then the account-membership check, bound as the browser flow", () => {
    expect(before.realm?.browserFlow).toBe('browser');
    expect(afterFirst.realm?.browserFlow).toBe(LOGIN_FLOW);
    expect(first.stdout).toContain(`create login flow "${LOGIN_FLOW}"`);
    const top = afterFirst.loginFlow.filter((step) => step.level === 0);
    expect(top.map((step) => [step.displayName ?? step.providerId, step.requirement])).toEqual([
      [`${LOGIN_FLOW} identify`, 'REQUIRED'],
      ['API clients: account membership', 'REQUIRED'],
    ]);
    // the identification is Keycloak's own browser flow, as built in: cookie, IdP redirector, organization, forms
    const identify = afterFirst.loginFlow.filter((step) => step.level === 1);
    expect(identify.map((step) => [step.providerId ?? step.displayName, step.requirement])).toEqual([
      ['auth-cookie', 'ALTERNATIVE'],
      ['auth-spnego', 'DISABLED'],
      ['identity-provider-redirector', 'ALTERNATIVE'],
      [`${LOGIN_FLOW} organization`, 'ALTERNATIVE'],
      [`${LOGIN_FLOW} forms`, 'ALTERNATIVE'],
    ]);
    // Keycloak's own flows are all still there, untouched
    const builtIn = (snap: Snapshot) => snap.flows.filter((flow) => flow.builtIn);
    expect(builtIn(afterFirst)).toEqual(builtIn(before));
  });

  it('a second run changes nothing', async () => {
    const second = setupRealm('--docs-url', 'https://api-clients.example.com');
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toContain('nothing changed');
    expect(second.stdout).not.toContain('KEYCLOAK_CLIENT_SECRET');
    expect(await snapshot()).toEqual(afterFirst);
  });

  it("makes the realm's managed clients admit only their account's users at Keycloak's login form", async () => {
    kc = await masterAdmin(realm);
    const { id: accounts } = await kc.groups.create({ name: 'accounts' });
    const { id: acmeGroup } = await kc.groups.createChildGroup({ id: accounts }, { name: 'acme' });
    const user = async (username: string) =>
      (
        await kc.users.create({
          username,
          enabled: true,
          email: `${username}@example.test`,
          firstName: username,
          lastName: 'Test',
          emailVerified: true,
          credentials: [{ type: 'password', value: username, temporary: false }],
        })
      ).id;
    await kc.users.addToGroup({ id: await user('ann'), groupId: acmeGroup });
    await user('otto');
    const legacy = { clientId: 'acme_legacy', redirectUri: 'https://legacy.example.com/cb', realm };
    const ann = await authorizeInBrowser(new CookieJar(), legacy, demoUser('ann'));
    expect(ann.code).toBeTruthy();
    const otto = await authorizeInBrowser(new CookieJar(), legacy, demoUser('otto'));
    expect(otto.code).toBeUndefined();
    expect(otto.page?.status).toBe(403);
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
      // she gives acme_erp reports-reader below: a caller gives only roles it holds (SPEC §4)
      await kc.users.addRealmRoleMappings({
        id: olga,
        roles: [
          { id: admin?.id as string, name: 'api-clients-admin' },
          { id: await roleId('reports-reader'), name: 'reports-reader' },
        ],
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
        payload: {
          clientId: 'acme_erp',
          capabilityTypes: ['Script'],
          scopes: ['datahub-api'],
          roles: ['reports-reader'],
        },
      });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json().roles).toEqual(['reports-reader']);
      const clientToken = await fetch(`${keycloakUrl()}/realms/${realm}/protocol/openid-connect/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: 'acme_erp',
          client_secret: created.json().secret,
        }),
      });
      const issued = (await clientToken.json()) as { scope?: string; access_token: string };
      expect(issued.scope).toContain('datahub-api');
      // Keycloak's token for the new client carries exactly the catalogue role the service gave it
      expect((claims(issued.access_token).realm_access as { roles: string[] }).roles).toEqual([
        'reports-reader',
      ]);
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

describe("the service's account in that realm, straight at Keycloak's admin API", () => {
  it('is refused (403) any role outside the catalogue, for a client role scope and a service account', async () => {
    kc = await masterAdmin(realm);
    const secret = afterFirst.clients.find((c) => c.clientId === 'api-clients-service')?.secret as string;
    const as = { realm, token: await foreignServiceToken(secret) };
    const [erp] = await kc.clients.find({ clientId: 'acme_erp', first: 0, max: 1 });
    const account = await kc.clients.getServiceAccountUser({ id: erp?.id as string });
    const role = async (name: string) => [{ id: await roleId(name), name }];
    const mappings = async () => ({
      scope: (await kc.clients.listRealmScopeMappings({ id: erp?.id as string })).map((r) => r.name).sort(),
      user: (await kc.users.listRealmRoleMappings({ id: account.id as string })).map((r) => r.name).sort(),
    });
    const before = await mappings();
    for (const name of ['sales', 'platform-admin', 'offline_access']) {
      expect(
        (await adminRequest(as, 'POST', `/clients/${erp?.id}/scope-mappings/realm`, await role(name))).status,
      ).toBe(403);
      expect(
        (await adminRequest(as, 'POST', `/users/${account.id}/role-mappings/realm`, await role(name))).status,
      ).toBe(403);
    }
    expect(await mappings()).toEqual(before);
    // the same token, the same calls, a catalogue role: allowed (so the 403s above are the permission's)
    expect(
      (
        await adminRequest(
          as,
          'POST',
          `/clients/${erp?.id}/scope-mappings/realm`,
          await role('reports-reader'),
        )
      ).status,
    ).toBe(204);
    expect(
      (
        await adminRequest(
          as,
          'POST',
          `/users/${account.id}/role-mappings/realm`,
          await role('reports-reader'),
        )
      ).status,
    ).toBe(204);
  });
});

describe('npm run setup-realm again, after the operator changed things', () => {
  it('adds a newly marked catalogue role and keeps what the operator added', async () => {
    kc = await masterAdmin(realm);
    const [client] = await kc.clients.find({ clientId: 'admin-permissions', first: 0, max: 1 });
    const id = client?.id as string;
    // the operator: a role marked later, a role put into the service's permission by hand, and a
    // permission of their own (bob may view users) with a policy of their own
    await kc.roles.create({ name: 'reports-writer', attributes: CATALOGUE });
    const roles = permission(afterFirst, ROLES_PERMISSION);
    await kc.clients.updatePermission(
      { id, type: 'scope', permissionId: roles?.id as string },
      {
        name: roles?.name,
        description: roles?.description,
        resourceType: 'Roles',
        resources: [...(roles?.resources ?? []), await roleId('sales')],
        scopes: roles?.scopes,
        policies: roles?.policies as string[],
      },
    );
    const bob = (await kc.users.find({ username: 'bob', exact: true }))[0]?.id as string;
    const bobPolicy = await kc.clients.createPolicy({ id, type: 'user' }, { name: 'bob', users: [bob] });
    await kc.clients.createPermission(
      { id, type: 'scope' },
      {
        name: 'helpdesk: view users',
        resourceType: 'Users',
        scopes: ['view'],
        policies: [bobPolicy.id as string],
      },
    );
    const changed = await snapshot();

    const run = setupRealm('--docs-url', 'https://api-clients.example.com');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`update Roles permission "${ROLES_PERMISSION}": add reports-writer`);
    const after = await snapshot();
    expect(permission(after, ROLES_PERMISSION)?.resources).toEqual(
      [await roleId('reports-reader'), await roleId('sales'), await roleId('reports-writer')].sort(),
    );
    const withoutRoles = (snap: Snapshot) => snap.adminPermissions.filter((p) => p.name !== ROLES_PERMISSION);
    expect(withoutRoles(after)).toEqual(withoutRoles(changed));
    expect({ ...after, adminPermissions: [] }).toEqual({ ...changed, adminPermissions: [] });

    const again = setupRealm('--docs-url', 'https://api-clients.example.com');
    expect(again.stdout).toContain('nothing changed');
  });
});

/** A client-credentials token of the service's client from the foreign realm's token endpoint. */
async function foreignServiceToken(secret: string): Promise<string> {
  const response = await fetch(`${keycloakUrl()}/realms/${realm}/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: 'api-clients-service',
      client_secret: secret,
    }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

describe('npm run setup-realm on a realm with no catalogue role yet', () => {
  it('creates no Roles permission (Keycloak reads an empty one as every role) and says so', async () => {
    const bare = `bare-${randomBytes(4).toString('hex')}`;
    const admin = await masterAdmin('master');
    await admin.realms.create({ realm: bare, enabled: true });
    try {
      const result = await applyRealmSetup(admin, bare, readSetup());
      expect(result.warnings.join('\n')).toContain('no realm role is marked api-clients.catalogue=true');
      admin.setConfig({ realmName: bare });
      const [client] = await admin.clients.find({ clientId: 'admin-permissions', first: 0, max: 1 });
      const names = (await admin.clients.findPermissions({ id: client?.id as string })).map((p) => p.name);
      expect(names).toEqual(['api-clients: map roles of users']);
    } finally {
      admin.setConfig({ realmName: 'master' });
      await admin.realms.del({ realm: bare });
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
