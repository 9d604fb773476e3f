// SPEC §5: who may call which route, for every route under /v1 and every kind of caller, against
// the real Keycloak. The routes are the app's own (its onRoute hook): a route without a row here,
// or outside /v1 without a place in the public list, fails the file. Each refusal of a changing
// route is also checked behind the service: the account's clients, the fixture client
// (representation, secret, role scope and service-account roles) and the limit are exactly as they
// were, in Keycloak itself.
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, clientsUrl, clientUrl, startTestApp, type TestApp } from '../support/app.js';
import { scriptClient } from '../support/fixtures.js';
import {
  clientCredentialsToken,
  createKeycloakClient,
  deleteKeycloakClient,
  keycloakAccountLimit,
  keycloakAdmin,
  keycloakClient,
  keycloakSecret,
  testConfig,
  userToken,
} from '../support/keycloak.js';
import {
  type AccountSnapshot,
  accountSnapshot,
  forgeHmacToken,
  forgeToken,
  hex,
  passwordToken,
  renewing,
  tokenFromOtherHost,
  unsignedToken,
} from './support.js';

const ACCOUNTS = ['acme', 'globex'] as const;
type Account = (typeof ACCOUNTS)[number];
const fixtureOf = (account: Account) => `${account}_matrix-fixture`;
const FIXTURE_BODY = {
  displayName: 'Access matrix fixture',
  description: 'kept as it is by every refused request',
  capabilityTypes: ['Script'],
  scopes: ['datahub-api'],
  // a catalogue role alice and paula hold: PUT and PATCH toggle it (SPEC §4, grants bounded by the caller)
  roles: ['insights-viewer'],
};
/** A whole PUT body for the fixture, with a new description, scopes and roles. */
const replaceBody = (description: string, scopes: string[], roles: string[] = []) => ({
  displayName: FIXTURE_BODY.displayName,
  description,
  rootUrl: null,
  homeUrl: null,
  adminUrl: null,
  redirectUris: [],
  postLogoutRedirectUris: [],
  webOrigins: [],
  capabilityTypes: ['Script'],
  backchannelLogout: null,
  scopes,
  roles,
  enabled: true,
});

const ROUTES = [
  'list',
  'create',
  'get',
  'put',
  'patch',
  'delete',
  'bulkDelete',
  'revealSecret',
  'regenerateSecret',
  'invalidate',
  'endGracePeriod',
  'getLimits',
  'putLimits',
  'scopes',
  'roles',
  'clientHistory',
  'accountHistory',
  'usage',
  'expiring',
] as const;
type RouteName = (typeof ROUTES)[number];
type Row = Record<RouteName, number>;

const row = (...statuses: number[]): Row => {
  if (statuses.length !== ROUTES.length) throw new Error('one status per route');
  return Object.fromEntries(ROUTES.map((route, i) => [route, statuses[i]])) as Row;
};

// What the contract (SPEC §3, §5) says each kind of caller gets from each route.
// biome-ignore format: a table
const [UNAUTHENTICATED, VIEWER, ADMIN, PLATFORM, OTHER_ACCOUNT, API_CLIENT] = [
  //   list create get  put  patch delete bulk reveal regen inval endGrace limits putLimits scopes roles history accHistory  usage expiring
  row(401, 401,  401, 401, 401,  401,   401, 401,   401,  401,  401,     401,   401,      401,   401,  401,    401,       401,  401), // no valid token
  row(200, 403,  200, 403, 403,  403,   403, 403,   403,  403,  403,     200,   403,      200,   200,  200,    200,       200,  403), // api-clients-viewer
  row(200, 201,  200, 200, 200,  204,   200, 200,   200,  200,  204,     200,   403,      200,   200,  200,    200,       200,  403), // api-clients-admin
  row(200, 201,  200, 200, 200,  204,   200, 200,   200,  200,  204,     200,   200,      200,   200,  200,    200,       200,  200), // platform-admin
  row(403, 403,  403, 403, 403,  403,   403, 403,   403,  403,  403,     403,   403,      200,   200,  403,    403,       403,  403), // any role, other account
  row(403, 403,  403, 403, 403,  403,   403, 403,   403,  403,  403,     403,   403,      403,   403,  403,    403,       403,  403), // a managed API client
] as const;

/** How a caller presents itself: the Authorization header it sends, if any. */
type Credentials = () => Promise<string | undefined>;

interface CallerCase {
  caller: string;
  account: Account;
  authorization: Credentials;
  expected: Row;
}

// Filled in beforeAll: the tokens that need Keycloak (throw-away clients, a managed API client).
const tokens = {
  expired: '',
  otherKeyRealKid: '',
  otherKeyMadeUpKid: '',
  hmac: '',
  unsigned: '',
  otherIssuerOwnKey: '',
  otherIssuerRealKey: '',
  noAudience: '',
  apiClientPlain: '',
  apiClientLookalike: '',
};

const user = (name: 'alice' | 'victor' | 'gina' | 'mira' | 'paula') => {
  const token = renewing(() => userToken(name));
  return async () => `Bearer ${await token()}`;
};
const bearer = (name: keyof typeof tokens) => async () => `Bearer ${tokens[name]}`;
const alice = user('alice');
const paula = user('paula');

// biome-ignore format: a table
const CALLERS: CallerCase[] = [
  // 401: no valid token at all
  { caller: 'no Authorization header', account: 'acme', authorization: async () => undefined, expected: UNAUTHENTICATED },
  { caller: 'Basic credentials', account: 'acme', authorization: async () => `Basic ${Buffer.from('alice:alice').toString('base64')}`, expected: UNAUTHENTICATED },
  { caller: '"Bearer" without a token', account: 'acme', authorization: async () => 'Bearer ', expected: UNAUTHENTICATED },
  { caller: 'Bearer of garbage', account: 'acme', authorization: async () => 'Bearer not.a.jwt', expected: UNAUTHENTICATED },
  { caller: 'a real token under another scheme', account: 'acme', authorization: async () => `Token ${(await alice()).slice(7)}`, expected: UNAUTHENTICATED },
  { caller: 'an expired real token', account: 'acme', authorization: bearer('expired'), expected: UNAUTHENTICATED },
  { caller: 'another key, the real kid', account: 'acme', authorization: bearer('otherKeyRealKid'), expected: UNAUTHENTICATED },
  { caller: 'another key, a made-up kid', account: 'acme', authorization: bearer('otherKeyMadeUpKid'), expected: UNAUTHENTICATED },
  { caller: 'HS256 over a secret of our own', account: 'acme', authorization: bearer('hmac'), expected: UNAUTHENTICATED },
  { caller: 'unsigned (alg none)', account: 'acme', authorization: bearer('unsigned'), expected: UNAUTHENTICATED },
  { caller: 'another issuer, our own key', account: 'acme', authorization: bearer('otherIssuerOwnKey'), expected: UNAUTHENTICATED },
  { caller: "another issuer, the realm's key", account: 'acme', authorization: bearer('otherIssuerRealKey'), expected: UNAUTHENTICATED },
  { caller: 'admin token without the audience', account: 'acme', authorization: bearer('noAudience'), expected: UNAUTHENTICATED },
  // as Keycloak issues it, a managed client's token lacks the service's audience: refused as invalid
  { caller: "a managed API client's own token", account: 'acme', authorization: bearer('apiClientPlain'), expected: UNAUTHENTICATED },
  // roles on the right account
  { caller: 'victor (viewer of acme)', account: 'acme', authorization: user('victor'), expected: VIEWER },
  { caller: 'alice (admin of acme)', account: 'acme', authorization: alice, expected: ADMIN },
  { caller: 'paula (platform admin)', account: 'acme', authorization: paula, expected: PLATFORM },
  { caller: 'mira (viewer of acme and globex)', account: 'acme', authorization: user('mira'), expected: VIEWER },
  { caller: 'mira (viewer of acme and globex)', account: 'globex', authorization: user('mira'), expected: VIEWER },
  { caller: 'paula (platform admin)', account: 'globex', authorization: paula, expected: PLATFORM },
  // roles on another account
  { caller: 'gina (admin of globex)', account: 'acme', authorization: user('gina'), expected: OTHER_ACCOUNT },
  { caller: 'victor (viewer of acme)', account: 'globex', authorization: user('victor'), expected: OTHER_ACCOUNT },
  { caller: 'alice (admin of acme)', account: 'globex', authorization: alice, expected: OTHER_ACCOUNT },
  // a managed API client whose token otherwise has everything: audience, account, platform-admin
  { caller: 'a managed API client with an admin-like token', account: 'acme', authorization: bearer('apiClientLookalike'), expected: API_CLIENT },
];

let t: TestApp;
/** Every route the app registered, as `METHOD /url` (its onRoute hook). */
const appRoutes: string[] = [];
/** Everything created through the service, deleted (as paula) in afterAll. */
const created = new Map<string, Account>();
/** Clients created straight in Keycloak (throw-away token issuers), by internal id. */
const keycloakOnly: string[] = [];
const limitsToRestore = new Map<Account, number | null>();

async function send(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  authorization: string | undefined,
  body?: unknown,
  contentType?: string,
): Promise<Answer> {
  return t.call(method, url, {
    ...(body !== undefined ? { body } : {}),
    headers: {
      ...(authorization !== undefined ? { authorization } : {}),
      ...(contentType ? { 'content-type': contentType } : {}),
    },
  });
}

async function createAsPaula(account: Account, clientId: string, body: Record<string, unknown> = {}) {
  const answer = await send('POST', clientsUrl(account), await paula(), {
    clientId,
    capabilityTypes: ['Script'],
    ...body,
  });
  if (answer.status !== 201)
    throw new Error(`create ${clientId}: ${answer.status} ${JSON.stringify(answer.body)}`);
  created.set(clientId, account);
  return answer.body as { clientId: string; secret: string };
}

async function deleteAsPaula(account: Account, clientId: string): Promise<void> {
  const answer = await send('DELETE', clientUrl(account, clientId), await paula());
  if (answer.status !== 204 && answer.status !== 404) throw new Error(`delete ${clientId}: ${answer.status}`);
  created.delete(clientId);
}

const snapshot = async (): Promise<Record<Account, AccountSnapshot>> => ({
  acme: await accountSnapshot('acme', fixtureOf('acme')),
  globex: await accountSnapshot('globex', fixtureOf('globex')),
});

const otherScopes = (snap: AccountSnapshot) =>
  (snap.fixture?.rep.defaultClientScopes as string[] | undefined)?.includes('datahub-api')
    ? ['push-data']
    : ['datahub-api'];
/** The fixture's role scope, and its service account's catalogue roles, are exactly `roles`. */
async function expectFixtureRoles(account: Account, roles: string[]): Promise<void> {
  const fixture = (await snapshot())[account].fixture;
  expect(fixture?.roleScope).toEqual(roles);
  // besides the realm's default roles, which every user gets
  expect(fixture?.serviceAccountRoles?.filter((role) => role !== 'default-roles-platform')).toEqual(roles);
}
const otherRoles = (snap: AccountSnapshot) =>
  snap.fixture?.roleScope.includes('insights-viewer') ? [] : ['insights-viewer'];

interface Attempt {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  body?: unknown;
  contentType?: string;
  /** After an allowed answer: that it did what it says, in Keycloak; then puts things back. */
  verify?: (answer: Answer) => Promise<void>;
}

interface RouteCase {
  /** The app's route, `METHOD /url` as Fastify registers it. */
  route: string;
  /** Whether the route can change something in Keycloak (refusals are then checked behind the service). */
  changes: boolean;
  /** Before the snapshot: puts the fixture in a state the request would change (e.g. a previous secret). */
  prepare?: (account: Account) => Promise<void>;
  /**
   * The request. An allowed caller gets something made for the occasion (a victim to delete, a
   * new clientId); a refused one is aimed at the fixture, so that a refusal that was not one shows.
   */
  attempt(account: Account, allowed: boolean, before: Record<Account, AccountSnapshot>): Promise<Attempt>;
}

const fixtureUrl = (account: Account) => clientUrl(account, fixtureOf(account));
const kcFixture = async (account: Account) => {
  const rep = await keycloakClient(fixtureOf(account));
  if (!rep) throw new Error(`the fixture ${fixtureOf(account)} is gone`);
  return rep;
};

const ROUTE_CASES: Record<RouteName, RouteCase> = {
  list: {
    route: 'GET /v1/accounts/:accountId/api-clients',
    changes: false,
    attempt: async (account, _allowed, before) => ({
      method: 'GET',
      url: clientsUrl(account),
      verify: async (answer) => {
        const body = answer.body as { items: { clientId: string }[]; total: number };
        expect(body.items.map((item) => item.clientId)).toContain(fixtureOf(account));
        expect(body.total).toBe(before[account].clientIds.length);
      },
    }),
  },
  create: {
    route: 'POST /v1/accounts/:accountId/api-clients',
    changes: true,
    attempt: async (account, allowed) => {
      const clientId = `${account}_matrix-${allowed ? 'new' : 'refused'}-${hex()}`;
      created.set(clientId, account); // deleted in afterAll, also when a refusal was not one
      return {
        method: 'POST',
        url: clientsUrl(account),
        body: scriptClient(clientId, { scopes: ['datahub-api'] }),
        verify: async (answer) => {
          expect(answer.headers.location).toBe(clientUrl(account, clientId));
          const rep = await keycloakClient(clientId);
          expect(rep?.attributes?.['api-clients.account']).toBe(account);
          expect((answer.body as { secret: string }).secret).toBe(await keycloakSecret(rep?.id as string));
          await deleteAsPaula(account, clientId);
        },
      };
    },
  },
  get: {
    route: 'GET /v1/accounts/:accountId/api-clients/:clientId',
    changes: false,
    attempt: async (account) => ({
      method: 'GET',
      url: fixtureUrl(account),
      verify: async (answer) => {
        expect(answer.body).toMatchObject({ clientId: fixtureOf(account), accountId: account });
        expect(answer.body).not.toHaveProperty('secret');
      },
    }),
  },
  put: {
    route: 'PUT /v1/accounts/:accountId/api-clients/:clientId',
    changes: true,
    attempt: async (account, _allowed, before) => {
      const description = `replaced ${hex()}`;
      const scopes = otherScopes(before[account]);
      const roles = otherRoles(before[account]);
      return {
        method: 'PUT',
        url: fixtureUrl(account),
        body: replaceBody(description, scopes, roles),
        verify: async () => {
          const rep = await kcFixture(account);
          expect(rep.description).toBe(description);
          expect(rep.defaultClientScopes).toEqual(expect.arrayContaining(scopes));
          await expectFixtureRoles(account, roles);
        },
      };
    },
  },
  patch: {
    route: 'PATCH /v1/accounts/:accountId/api-clients/:clientId',
    changes: true,
    attempt: async (account, _allowed, before) => {
      const description = `patched ${hex()}`;
      const scopes = otherScopes(before[account]);
      const roles = otherRoles(before[account]);
      return {
        method: 'PATCH',
        url: fixtureUrl(account),
        body: { description, scopes, roles },
        contentType: 'application/merge-patch+json',
        verify: async () => {
          const rep = await kcFixture(account);
          expect(rep.description).toBe(description);
          expect(rep.defaultClientScopes).toEqual(expect.arrayContaining(scopes));
          await expectFixtureRoles(account, roles);
        },
      };
    },
  },
  delete: {
    route: 'DELETE /v1/accounts/:accountId/api-clients/:clientId',
    changes: true,
    attempt: async (account, allowed) => {
      if (!allowed) return { method: 'DELETE', url: fixtureUrl(account) };
      const victim = (await createAsPaula(account, `${account}_matrix-victim-${hex()}`)).clientId;
      return {
        method: 'DELETE',
        url: clientUrl(account, victim),
        verify: async () => {
          expect(await keycloakClient(victim)).toBeUndefined();
          created.delete(victim);
        },
      };
    },
  },
  bulkDelete: {
    route: 'POST /v1/accounts/:accountId/api-clients/bulk-delete',
    changes: true,
    attempt: async (account, allowed) => {
      const url = `${clientsUrl(account)}/bulk-delete`;
      if (!allowed) return { method: 'POST', url, body: { clientIds: [fixtureOf(account)] } };
      const victim = (await createAsPaula(account, `${account}_matrix-victim-${hex()}`)).clientId;
      return {
        method: 'POST',
        url,
        body: { clientIds: [victim] },
        verify: async (answer) => {
          expect(answer.body).toEqual({ results: [{ clientId: victim, status: 'deleted' }] });
          expect(await keycloakClient(victim)).toBeUndefined();
          created.delete(victim);
        },
      };
    },
  },
  revealSecret: {
    route: 'GET /v1/accounts/:accountId/api-clients/:clientId/secret',
    changes: false,
    attempt: async (account) => ({
      method: 'GET',
      url: `${fixtureUrl(account)}/secret`,
      verify: async (answer) => {
        expect(answer.headers['cache-control']).toBe('no-store');
        expect((answer.body as { secret: string }).secret).toBe(
          await keycloakSecret((await kcFixture(account)).id),
        );
      },
    }),
  },
  regenerateSecret: {
    route: 'POST /v1/accounts/:accountId/api-clients/:clientId/secret',
    changes: true,
    attempt: async (account, _allowed, before) => ({
      method: 'POST',
      url: `${fixtureUrl(account)}/secret`,
      verify: async (answer) => {
        const secret = (answer.body as { secret: string }).secret;
        expect(answer.headers['cache-control']).toBe('no-store');
        expect(secret).not.toBe(before[account].fixture?.secret);
        expect(secret).toBe(await keycloakSecret((await kcFixture(account)).id));
      },
    }),
  },
  invalidate: {
    route: 'POST /v1/accounts/:accountId/api-clients/:clientId/invalidate',
    changes: true,
    attempt: async (account, _allowed, before) => ({
      method: 'POST',
      url: `${fixtureUrl(account)}/invalidate`,
      verify: async (answer) => {
        const secret = (answer.body as { secret: string }).secret;
        expect(secret).not.toBe(before[account].fixture?.secret);
        expect(secret).toBe(await keycloakSecret((await kcFixture(account)).id));
      },
    }),
  },
  endGracePeriod: {
    route: 'DELETE /v1/accounts/:accountId/api-clients/:clientId/secret/previous',
    changes: true,
    // a previous secret still accepted, which the request would end
    prepare: async (account) => {
      const answer = await send('POST', `${fixtureUrl(account)}/secret`, await paula(), {
        gracePeriodSeconds: 600,
      });
      if (answer.status !== 200) throw new Error(`regenerate with grace: ${answer.status}`);
      expect((await kcFixture(account)).attributes?.[ROTATED_SECRET]).toBeDefined();
    },
    attempt: async (account) => ({
      method: 'DELETE',
      url: `${fixtureUrl(account)}/secret/previous`,
      verify: async () => {
        expect((await kcFixture(account)).attributes?.[ROTATED_SECRET]).toBeUndefined();
      },
    }),
  },
  getLimits: {
    route: 'GET /v1/accounts/:accountId/limits',
    changes: false,
    attempt: async (account, _allowed, before) => ({
      method: 'GET',
      url: `/v1/accounts/${account}/limits`,
      verify: async (answer) => {
        expect(answer.body).toEqual({
          maxApiClients: (await keycloakAccountLimit(account)) ?? testConfig().limits.defaultMaxApiClients,
          used: before[account].clientIds.length,
          maxSecretLifetimeDays: testConfig().secrets.defaultMaxSecretLifetimeDays,
        });
      },
    }),
  },
  putLimits: {
    route: 'PUT /v1/accounts/:accountId/limits',
    changes: true,
    attempt: async (account, allowed) => {
      const url = `/v1/accounts/${account}/limits`;
      const previous = await keycloakAccountLimit(account);
      // put back in afterAll, also when a refusal was not one
      if (!limitsToRestore.has(account)) limitsToRestore.set(account, previous);
      if (!allowed) return { method: 'PUT', url, body: { maxApiClients: 4321 } };
      const next = previous === 7 ? 8 : 7;
      return {
        method: 'PUT',
        url,
        body: { maxApiClients: next },
        verify: async (answer) => {
          expect(answer.body).toMatchObject({ maxApiClients: next });
          expect(await keycloakAccountLimit(account)).toBe(next);
          const restored = await send('PUT', url, await paula(), { maxApiClients: previous });
          expect(restored.status).toBe(200);
          expect(await keycloakAccountLimit(account)).toBe(previous);
        },
      };
    },
  },
  scopes: {
    route: 'GET /v1/scopes',
    changes: false,
    attempt: async () => ({
      method: 'GET',
      url: '/v1/scopes',
      verify: async (answer) => {
        const names = (answer.body as { items: { name: string }[] }).items.map((scope) => scope.name);
        expect(names).toEqual(expect.arrayContaining(['datahub-api', 'push-data']));
      },
    }),
  },
  roles: {
    route: 'GET /v1/roles',
    changes: false,
    attempt: async () => ({
      method: 'GET',
      url: '/v1/roles',
      verify: async (answer) => {
        const names = (answer.body as { items: { name: string }[] }).items.map((role) => role.name);
        expect(names).toEqual(expect.arrayContaining(['insights-viewer', 'insights-editor']));
      },
    }),
  },
  clientHistory: {
    route: 'GET /v1/accounts/:accountId/api-clients/:clientId/history',
    changes: false,
    attempt: async (account) => ({
      method: 'GET',
      url: `${fixtureUrl(account)}/history`,
      verify: async (answer) => {
        const rows = (answer.body as { items: { clientId: string }[] }).items;
        expect(rows.length).toBeGreaterThan(0);
        for (const row of rows) expect(row.clientId).toBe(fixtureOf(account));
      },
    }),
  },
  accountHistory: {
    route: 'GET /v1/accounts/:accountId/history',
    changes: false,
    attempt: async (account) => ({
      method: 'GET',
      url: `/v1/accounts/${account}/history`,
      verify: async (answer) => {
        for (const row of (answer.body as { items: { clientId: string | null }[] }).items)
          if (row.clientId !== null) expect(row.clientId.startsWith(`${account}_`)).toBe(true);
      },
    }),
  },
  usage: {
    route: 'GET /v1/accounts/:accountId/api-clients/:clientId/usage',
    changes: false,
    attempt: async (account) => ({
      method: 'GET',
      url: `${fixtureUrl(account)}/usage?days=2`,
      verify: async (answer) => {
        expect((answer.body as { days: unknown[] }).days).toHaveLength(2);
      },
    }),
  },
  expiring: {
    // names no account: every account's secrets, for platform admins alone
    route: 'GET /v1/api-clients',
    changes: false,
    attempt: async () => ({
      method: 'GET',
      url: '/v1/api-clients?expiringWithinDays=30',
      verify: async (answer) => {
        const body = answer.body as { items: unknown[]; from: string; to: string };
        expect(Array.isArray(body.items)).toBe(true);
        expect(Date.parse(body.to) - Date.parse(body.from)).toBe((90 + 30) * 86_400_000);
      },
    }),
  },
};

/** Where Keycloak keeps a rotated-out secret still accepted (client secret rotation). */
const ROTATED_SECRET = 'client.secret.rotated';

/**
 * The app's routes outside the matrix: they name no account and answer anyone. Anything else the
 * app registers needs a row above; a route under /v1 is never public.
 */
const PUBLIC_ROUTES: { route: RegExp; why: string }[] = [
  { route: /^GET \/(healthz|readyz)$/, why: 'probes' },
  { route: /^GET \/metrics$/, why: 'Prometheus, scraped inside the platform' },
  // Swagger UI registers a HEAD of its own on /docs/
  { route: /^(GET|HEAD) \/(openapi\.json|docs(\/.*)?)$/, why: 'the OpenAPI document and Swagger UI' },
  {
    route: /^GET \/console(\/.*)?$/,
    why: 'the reference console: a static page, it calls /v1 with the user token',
  },
  { route: /^OPTIONS \*$/, why: 'CORS preflights' },
];

/** The app's routes, each as `METHOD /url`; a HEAD that Fastify added beside a GET counts as that GET. */
function registeredRoutes(): string[] {
  const all = new Set(appRoutes);
  return [...all].filter((route) => !(route.startsWith('HEAD ') && all.has(route.replace(/^HEAD/, 'GET'))));
}

describe('the matrix covers the app', () => {
  it('has a row for every route under /v1 and no row for a route the app lacks', () => {
    const v1 = registeredRoutes().filter((route) => route.split(' ')[1]?.startsWith('/v1/'));
    expect(v1.length).toBeGreaterThan(0);
    expect(ROUTES.map((name) => ROUTE_CASES[name].route).sort()).toEqual(v1.sort());
  });

  it('places every other route of the app in the public list, and no /v1 route there', () => {
    const outside = registeredRoutes().filter((route) => !route.split(' ')[1]?.startsWith('/v1/'));
    const unplaced = outside.filter(
      (route) => !PUBLIC_ROUTES.some(({ route: pattern }) => pattern.test(route)),
    );
    expect(unplaced).toEqual([]);
    for (const name of ROUTES) {
      expect(PUBLIC_ROUTES.some(({ route: pattern }) => pattern.test(ROUTE_CASES[name].route))).toBe(false);
    }
  });
});

function expectRefusal(answer: Answer, status: number): void {
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  if (status === 401) {
    expect(String(answer.headers['www-authenticate'])).toMatch(/^Bearer( |$)/);
    expect(answer.body).toMatchObject({ type: 'urn:api-clients:problem:unauthorized', status: 401 });
  } else {
    expect(answer.body).toMatchObject({ type: 'urn:api-clients:problem:forbidden', status: 403 });
  }
}

/** A public client in the realm, straight through the admin API, for tokens of a given make. */
async function throwAwayIssuer(rep: Record<string, unknown>): Promise<string> {
  const clientId = `matrix-issuer-${hex()}`;
  keycloakOnly.push(
    await createKeycloakClient({
      clientId,
      protocol: 'openid-connect',
      publicClient: true,
      standardFlowEnabled: false,
      directAccessGrantsEnabled: true,
      ...rep,
    }),
  );
  return clientId;
}

const ACCOUNT_ID_MAPPER = {
  name: 'account_id',
  protocol: 'openid-connect',
  protocolMapper: 'oidc-usermodel-attribute-mapper',
  config: {
    'user.attribute': 'account_id',
    'claim.name': 'account_id',
    'jsonType.label': 'String',
    multivalued: 'true',
    'aggregate.attrs': 'true',
    'access.token.claim': 'true',
  },
};

beforeAll(async () => {
  t = await startTestApp(
    {},
    { onRoute: ({ method, url }) => appRoutes.push(...[method].flat().map((one) => `${one} ${url}`)) },
  );
  for (const account of ACCOUNTS) {
    await createAsPaula(account, fixtureOf(account), FIXTURE_BODY);
  }

  const real = (await alice()).slice('Bearer '.length);
  const realKid = decodeProtectedHeader(real).kid;
  expect(realKid).toBeTruthy();
  tokens.otherKeyRealKid = await forgeToken(real, { kid: realKid as string });
  tokens.otherKeyMadeUpKid = await forgeToken(real, { kid: `made-up-${hex()}` });
  tokens.hmac = await forgeHmacToken(real);
  tokens.unsigned = unsignedToken(real);
  tokens.otherIssuerOwnKey = await forgeToken(real, {
    kid: realKid as string,
    issuer: 'https://keycloak.example.com/realms/platform',
  });
  tokens.otherIssuerRealKey = await tokenFromOtherHost('kc-alias.test', 'api-clients-cli', 'alice');
  expect(decodeJwt(tokens.otherIssuerRealKey).iss).not.toBe(decodeJwt(real).iss);
  expect(decodeJwt(tokens.otherIssuerRealKey)).toMatchObject({
    aud: 'api-clients-service',
    account_id: ['acme'],
  });

  // A real token of alice with everything but the service's audience.
  const noAudienceIssuer = await throwAwayIssuer({
    defaultClientScopes: ['basic', 'roles', 'profile'],
    protocolMappers: [ACCOUNT_ID_MAPPER],
  });
  tokens.noAudience = await passwordToken(noAudienceIssuer, 'alice');
  const noAudienceClaims = decodeJwt(tokens.noAudience);
  expect([noAudienceClaims.aud].flat()).not.toContain('api-clients-service');
  expect(noAudienceClaims).toMatchObject({ account_id: ['acme'] });
  expect((noAudienceClaims.realm_access as { roles: string[] }).roles).toContain('api-clients-admin');

  // A real token of alice that lives one second.
  const expiringIssuer = await throwAwayIssuer({
    defaultClientScopes: ['basic', 'roles', 'profile', 'api-clients-caller'],
    attributes: { 'access.token.lifespan': '1' },
  });
  tokens.expired = await passwordToken(expiringIssuer, 'alice');
  const exp = decodeJwt(tokens.expired).exp as number;
  expect(decodeJwt(tokens.expired)).toMatchObject({ aud: 'api-clients-service', account_id: ['acme'] });
  expect(exp - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(2);
  while (Date.now() / 1000 <= exp + 1) await new Promise((resolve) => setTimeout(resolve, 250));

  // A managed API client's own token, as Keycloak makes it for the client the service created.
  const bot = await createAsPaula('acme', `acme_matrix-bot-${hex()}`, { scopes: ['datahub-api'] });
  const plain = await clientCredentialsToken(bot.clientId, bot.secret);
  tokens.apiClientPlain = plain.body.access_token as string;
  expect(decodeJwt(tokens.apiClientPlain).azp).toBe(bot.clientId);

  // Another managed API client whose token is made to carry everything a platform admin's has
  // (mappers added straight in Keycloak): only its being a managed client may refuse it.
  const lookalike = await createAsPaula('acme', `acme_matrix-lookalike-${hex()}`);
  const lookalikeId = (await keycloakClient(lookalike.clientId))?.id as string;
  for (const mapper of [
    {
      name: 'audience',
      protocolMapper: 'oidc-audience-mapper',
      config: { 'included.custom.audience': 'api-clients-service', 'access.token.claim': 'true' },
    },
    {
      name: 'account_id',
      protocolMapper: 'oidc-hardcoded-claim-mapper',
      config: {
        'claim.name': 'account_id',
        'claim.value': 'acme',
        'jsonType.label': 'String',
        'access.token.claim': 'true',
      },
    },
    {
      name: 'platform-admin',
      protocolMapper: 'oidc-hardcoded-role-mapper',
      config: { role: 'platform-admin' },
    },
    {
      name: 'api-clients-admin',
      protocolMapper: 'oidc-hardcoded-role-mapper',
      config: { role: 'api-clients-admin' },
    },
  ]) {
    const added = await keycloakAdmin('POST', `/clients/${lookalikeId}/protocol-mappers/models`, {
      protocol: 'openid-connect',
      ...mapper,
    });
    expect(added.status).toBe(201);
  }
  const lookalikeToken = await clientCredentialsToken(lookalike.clientId, lookalike.secret);
  tokens.apiClientLookalike = lookalikeToken.body.access_token as string;
  const lookalikeClaims = decodeJwt(tokens.apiClientLookalike);
  // one audience is a string, several an array (managed clients have fullScopeAllowed false)
  expect([lookalikeClaims.aud].flat()).toContain('api-clients-service');
  expect(lookalikeClaims).toMatchObject({ account_id: 'acme' });
  expect((lookalikeClaims.realm_access as { roles: string[] }).roles).toEqual(
    expect.arrayContaining(['platform-admin', 'api-clients-admin']),
  );
});

afterAll(async () => {
  const problems: string[] = [];
  for (const [account, previous] of limitsToRestore) {
    const answer = await send('PUT', `/v1/accounts/${account}/limits`, await paula(), {
      maxApiClients: previous,
    });
    if (answer.status !== 200) problems.push(`limit of ${account}: ${answer.status}`);
  }
  // what this file made, and whatever a broken refusal let through under its names
  for (const account of ACCOUNTS) {
    const left = (await accountSnapshot(account, fixtureOf(account))).clientIds;
    for (const clientId of left.filter((id) => id.includes('_matrix-'))) created.set(clientId, account);
  }
  for (const [clientId, account] of [...created]) {
    await deleteAsPaula(account, clientId).catch((error: Error) => problems.push(error.message));
    // one the service cannot see (a clientId of another account let through): straight in Keycloak
    const left = await keycloakClient(clientId);
    if (left) {
      problems.push(`${clientId} had to be deleted in Keycloak directly`);
      await deleteKeycloakClient(left.id);
    }
  }
  for (const id of keycloakOnly)
    await deleteKeycloakClient(id).catch((error: Error) => problems.push(error.message));
  await t?.close();
  if (problems.length > 0) throw new Error(`cleanup: ${problems.join('; ')}`);
});

describe.each(ROUTES)('%s', (route) => {
  const routeCase = ROUTE_CASES[route];
  it.each(CALLERS.map((c) => ({ ...c, status: c.expected[route] })))(
    '$caller on $account → $status',
    async ({ account, authorization, status }) => {
      const allowed = status < 300;
      await routeCase.prepare?.(account);
      const before = await snapshot();
      const attempt = await routeCase.attempt(account, allowed, before);
      const answer = await send(
        attempt.method,
        attempt.url,
        await authorization(),
        attempt.body,
        attempt.contentType,
      );
      expect({ status: answer.status, body: answer.body }).toMatchObject({ status });
      if (allowed) {
        await attempt.verify?.(answer);
        return;
      }
      expectRefusal(answer, status);
      if (routeCase.changes) expect(await snapshot()).toEqual(before);
    },
  );
});

describe("a client ID of another account never reaches that account's client", () => {
  const other = fixtureOf('globex');
  const attempts: { name: string; method: Attempt['method']; url: string; body?: unknown }[] = [
    { name: 'get', method: 'GET', url: clientUrl('acme', other) },
    { name: 'put', method: 'PUT', url: clientUrl('acme', other), body: replaceBody('cross', ['push-data']) },
    { name: 'patch', method: 'PATCH', url: clientUrl('acme', other), body: { description: 'cross' } },
    { name: 'delete', method: 'DELETE', url: clientUrl('acme', other) },
    { name: 'reveal', method: 'GET', url: `${clientUrl('acme', other)}/secret` },
    { name: 'regenerate', method: 'POST', url: `${clientUrl('acme', other)}/secret` },
    {
      name: 'create',
      method: 'POST',
      url: clientsUrl('acme'),
      body: scriptClient(`globex_matrix-sneak-${hex()}`),
    },
  ];
  it.each([
    ...attempts.map((a) => ({ ...a, caller: 'alice', authorization: alice })),
    ...attempts.map((a) => ({ ...a, caller: 'paula', authorization: paula })),
  ])(
    '$name on /accounts/acme with $url as $caller: 400 or 404',
    async ({ method, url, body, authorization }) => {
      const before = await snapshot();
      const answer = await send(method, url, await authorization(), body);
      expect([400, 404]).toContain(answer.status);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.body).not.toHaveProperty('secret');
      expect(await snapshot()).toEqual(before);
    },
  );

  it.each([
    { caller: 'alice', authorization: alice },
    { caller: 'paula', authorization: paula },
  ])(
    'bulk-delete on /accounts/acme of a globex client as $caller: not deleted',
    async ({ authorization }) => {
      const before = await snapshot();
      const answer = await send('POST', `${clientsUrl('acme')}/bulk-delete`, await authorization(), {
        clientIds: [other],
      });
      if (answer.status === 200) {
        expect(answer.body).toEqual({ results: [{ clientId: other, status: 'not-found' }] });
      } else {
        expect([400, 404]).toContain(answer.status);
      }
      expect(await snapshot()).toEqual(before);
    },
  );
});

describe('a refusal is answered like any other answer', () => {
  const origin = 'https://ui.example.com';
  let cors: TestApp;
  beforeAll(async () => {
    cors = await startTestApp({ corsOrigins: [origin] });
  });
  afterAll(() => cors?.close());

  // Compared with an allowed answer of the same app, not with values written here.
  const SAME_AS_ALLOWED = [
    'access-control-allow-origin',
    'access-control-expose-headers',
    'x-content-type-options',
    'x-frame-options',
    'strict-transport-security',
  ];

  it.each([
    { refusal: '401 without a token', authorization: async () => undefined, status: 401 },
    { refusal: '403 for another account', authorization: user('gina'), status: 403 },
  ])('$refusal carries x-request-id, CORS and security headers', async ({ authorization, status }) => {
    const get = async (auth: string | undefined) =>
      cors.call('GET', clientsUrl('acme'), {
        headers: { origin, ...(auth !== undefined ? { authorization: auth } : {}) },
      });
    const allowed = await get(await paula());
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe(origin);
    const refused = await get(await authorization());
    expect(refused.status).toBe(status);
    const headers = (answer: Answer, requestId: unknown) => ({
      'x-request-id': answer.headers['x-request-id'] === requestId,
      ...Object.fromEntries(SAME_AS_ALLOWED.map((name) => [name, answer.headers[name]])),
    });
    expect(headers(refused, (refused.body as { instance?: string }).instance)).toEqual(
      headers(allowed, allowed.headers['x-request-id']),
    );
  });
});
