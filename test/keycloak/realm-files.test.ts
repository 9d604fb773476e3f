// keycloak/realm-platform.json is generated from keycloak/setup/ (production) and keycloak/demo/;
// the production part holds nothing a demo needs: no secret, no person, no password grant.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { realmFile } from '../../scripts/lib/keycloak-local.js';
import { demoRealm, demoRealmJson, readSetup, setupFile } from '../../scripts/lib/realm-files.js';
import { TOKEN_EVENT_TYPES } from '../../src/api-clients/activity/last-used.js';
import { SECRET_ROTATION_ATTRIBUTE } from '../../src/api-clients/resource/mapping.js';

describe('the realm files', () => {
  it('realm-platform.json is setup + demo as generated (run `npm run realm` after changing them)', () => {
    expect(readFileSync(realmFile, 'utf8')).toBe(demoRealmJson());
  });

  it('the production setup holds no secret, no user but service accounts, no password grant', () => {
    const setup = readSetup();
    // the login flow's one configuration: the credential types of Keycloak's conditional 2FA, no secret
    expect(setup.authenticatorConfig).toEqual([
      {
        alias: 'api-clients-browser-conditional-credential',
        config: { credentials: 'webauthn-passwordless' },
      },
    ]);
    const text = JSON.stringify({ ...setup, authenticatorConfig: [] });
    expect(readFileSync(setupFile, 'utf8')).not.toMatch(/"secret"|"password"|dev-secret/);
    expect(text).not.toMatch(/"secret"|"credentials"|"password"|dev-secret/);
    expect(setup.users.every((user) => typeof user.serviceAccountClientId === 'string')).toBe(true);
    expect(setup.clients.filter((client) => client.directAccessGrantsEnabled === true)).toEqual([]);
    expect(Object.keys(setup).sort()).toEqual(
      [
        'adminEventsDetailsEnabled',
        'adminEventsEnabled',
        'adminPermissions',
        'attributes',
        'authenticationFlows',
        'authenticatorConfig',
        'browserFlow',
        'clientPolicies',
        'clientProfiles',
        'clientScopes',
        'clients',
        'enabledEventTypes',
        'eventsEnabled',
        'eventsExpiration',
        'roles',
        'users',
      ].sort(),
    );
  });

  it('binds the login flow as the browser flow, its membership check REQUIRED after a REQUIRED identification', () => {
    const setup = readSetup();
    const flow = setup.authenticationFlows.find((f) => f.alias === setup.browserFlow);
    expect(flow?.topLevel).toBe(true);
    expect(
      flow?.authenticationExecutions.map((step) => [step.flowAlias ?? step.authenticator, step.requirement]),
    ).toEqual([
      [`${setup.browserFlow} identify`, 'REQUIRED'],
      ['api-clients-account-membership', 'REQUIRED'],
    ]);
    // the demo import keeps every flow of Keycloak's besides (an import naming one flow must name them all)
    const realm = demoRealm() as unknown as { browserFlow: string; authenticationFlows: { alias: string }[] };
    expect(realm.browserFlow).toBe(setup.browserFlow);
    const aliases = realm.authenticationFlows.map((f) => f.alias);
    for (const builtIn of [
      'browser',
      'direct grant',
      'registration',
      'reset credentials',
      'clients',
      'first broker login',
    ])
      expect(aliases).toContain(builtIn);
  });

  it("keeps the service's account to the least admin roles that work", () => {
    const [account] = readSetup().users;
    expect(account?.clientRoles).toEqual({
      // view-realm: listing realm roles (the role catalogue) needs it on 26.7.3 (RolePermissions.canList)
      // manage-identity-providers: a federated client's issuer needs an identity provider, which the
      // service makes and removes (view-identity-providers cannot create one: docs/workload-identity.md)
      'realm-management': [
        'view-realm',
        'manage-clients',
        'view-clients',
        'query-clients',
        'view-events',
        'manage-identity-providers',
      ],
    });
  });

  it("the demo import's Roles permission holds the ids of exactly the realm's catalogue roles", () => {
    type Policy = { name: string; config: Record<string, string> };
    const realm = demoRealm() as {
      adminPermissionsEnabled?: boolean;
      roles: { realm: { id?: string; name: string; attributes?: Record<string, string[]> }[] };
      clients: { clientId: string; authorizationSettings?: { policies: Policy[] } }[];
    };
    expect(realm.adminPermissionsEnabled).toBe(true);
    const policies = realm.clients.find((c) => c.clientId === 'admin-permissions')?.authorizationSettings
      ?.policies;
    const { adminPermissions } = readSetup();
    const roles = policies?.find((p) => p.name === adminPermissions.roles.name);
    const catalogue = realm.roles.realm.filter((r) =>
      r.attributes?.['api-clients.catalogue']?.includes('true'),
    );
    expect(catalogue.map((r) => r.name).sort()).toEqual(['insights-editor', 'insights-viewer']);
    expect(JSON.parse(roles?.config.resources as string).sort()).toEqual(catalogue.map((r) => r.id).sort());
    expect(JSON.parse(roles?.config.scopes as string)).toEqual(['map-role', 'map-role-client-scope']);
    const users = policies?.find((p) => p.name === adminPermissions.users.name);
    expect(JSON.parse(users?.config.resources as string)).toEqual(['Users']);
    const account = policies?.find((p) => p.name === adminPermissions.policy.name);
    expect(JSON.parse(account?.config.users as string)).toEqual(['service-account-api-clients-service']);
  });

  it('covers exactly the clients the mapping marks with the secret-rotation policy, and saves the events lastUsedAt reads', () => {
    const setup = readSetup();
    const [policy] = setup.clientPolicies.policies;
    const [condition] = policy?.conditions ?? [];
    expect(condition?.condition).toBe('client-attributes');
    expect(JSON.parse(String(condition?.configuration.attributes))).toEqual([
      { key: SECRET_ROTATION_ATTRIBUTE, value: 'true' },
    ]);
    expect(policy?.profiles).toEqual([setup.clientProfiles.profiles[0]?.name]);
    const [executor] = setup.clientProfiles.profiles[0]?.executors ?? [];
    expect(executor?.executor).toBe('secret-rotation');
    // the current secret must not expire by itself: ten years
    expect(executor?.configuration['expiration-period']).toBeGreaterThanOrEqual(315_360_000);
    expect(setup.eventsEnabled).toBe(true);
    expect(setup.enabledEventTypes).toEqual(expect.arrayContaining(TOKEN_EVENT_TYPES));
  });

  it('the demo realm has the demo data, the resource server and the development secrets', () => {
    const realm = demoRealm() as {
      clients: { clientId: string; secret?: string }[];
      users: { username: string }[];
    };
    const secretOf = (clientId: string) => realm.clients.find((c) => c.clientId === clientId)?.secret;
    expect(secretOf('api-clients-service')).toBe('api-clients-service-dev-secret');
    expect(secretOf('insights-api')).toBe('insights-api-dev-secret');
    expect(realm.users.map((u) => u.username)).toEqual(expect.arrayContaining(['alice', 'paula']));
  });
});
