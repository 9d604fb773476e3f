// SPEC §5 "A WebApp client admits only its account's users", proven at Keycloak's own login page
// (test/support/browser-login.ts: the code flow with PKCE over HTTP, cookies kept). Keycloak
// refuses the user itself, in the realm's browser flow "api-clients browser" whose last step is
// the provider keycloak/providers/account-membership: no code is issued, whether the user types a
// password or rides on an SSO cookie from another client. And a token through a managed client
// carries openid, profile, email and its catalogue scopes: the client has no optional scope, so
// asking for address, phone, offline_access, microprofile-jwt or organization is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, clientUrl, startTestApp, type TestApp } from '../support/app.js';
import {
  type AuthorizationOutcome,
  authorizeInBrowser,
  CookieJar,
  demoUser,
  exchangeCode,
} from '../support/browser-login.js';
import { claims, keycloakClient, userToken } from '../support/keycloak.js';

const REDIRECT_URI = 'https://app.example.test/callback';
/** The public client of the service's console (keycloak/setup/api-clients.json), not a managed one. */
const CONSOLE = { clientId: 'api-clients-console', redirectUri: 'http://localhost:3000/console/' };
const REFUSAL = 'This application admits only the members of its account.';

interface App {
  clientId: string;
  secret: string;
  redirectUri: string;
}

let t: TestApp;
const apps: { account: string; clientId: string; token: string }[] = [];

async function createWebApp(account: 'acme' | 'globex', admin: 'alice' | 'gina', name: string): Promise<App> {
  const token = await userToken(admin);
  const clientId = `${account}_${name}-${Date.now().toString(36)}`;
  const created = await t.call<{ secret: string }>('POST', clientsUrl(account), {
    token,
    body: {
      clientId,
      capabilityTypes: ['WebApp'],
      redirectUris: [`${REDIRECT_URI}*`],
      scopes: ['datahub-api'],
    },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  apps.push({ account, clientId, token });
  return { clientId, secret: created.body.secret, redirectUri: REDIRECT_URI };
}

const login = (
  app: { clientId: string; redirectUri: string },
  username: string,
  jar = new CookieJar(),
  scope?: string,
) => authorizeInBrowser(jar, { ...app, scope }, demoUser(username));

function expectRefused(outcome: AuthorizationOutcome): void {
  expect(outcome.code).toBeUndefined();
  if (outcome.page) {
    expect(outcome.page.status).toBe(403);
    expect(outcome.page.text).toContain(REFUSAL);
  } else {
    expect(outcome.error).toBeTruthy();
  }
}

let acme: App;
let globex: App;

beforeAll(async () => {
  t = await startTestApp();
  acme = await createWebApp('acme', 'alice', 'portal');
  globex = await createWebApp('globex', 'gina', 'shop');
}, 120_000);

afterAll(async () => {
  for (const app of apps) await t.call('DELETE', clientUrl(app.account, app.clientId), { token: app.token });
  await t.close();
});

describe("a managed WebApp client at Keycloak's login form", () => {
  it.each([
    ['alice', true],
    ['mira', true],
    ['gina', false],
    ['paula', false],
  ])("acme's app: %s gets a code: %s", async (username, admitted) => {
    const outcome = await login(acme, username);
    expect(outcome.sawLoginForm).toBe(true);
    if (!admitted) return expectRefused(outcome);
    expect(outcome.code).toBeTruthy();
    const exchanged = await exchangeCode(outcome, acme);
    expect(exchanged.status).toBe(200);
    expect(claims(exchanged.body.access_token as string).preferred_username).toBe(username);
  });

  it.each([
    ['gina', true],
    ['mira', true],
    ['alice', false],
    ['victor', false],
  ])("globex's app: %s gets a code: %s", async (username, admitted) => {
    const outcome = await login(globex, username);
    if (admitted) expect(outcome.code).toBeTruthy();
    else expectRefused(outcome);
  });

  it('leaves clients the service does not manage alone: anyone signs in to the console', async () => {
    for (const username of ['paula', 'gina']) expect((await login(CONSOLE, username)).code).toBeTruthy();
  });
});

describe('with an SSO cookie from another client', () => {
  it("gina, signed in through the console, gets no code from acme's app, without a login form", async () => {
    const jar = new CookieJar();
    expect((await login(CONSOLE, 'gina', jar)).code).toBeTruthy();
    expect(jar.has('KEYCLOAK_IDENTITY')).toBe(true);
    const outcome = await authorizeInBrowser(jar, acme);
    expect(outcome.sawLoginForm).toBe(false);
    expectRefused(outcome);
    const silent = await authorizeInBrowser(jar, { ...acme, prompt: 'none' });
    expectRefused(silent);
  });

  it("gina, signed in through globex's app, gets no code from acme's app", async () => {
    const jar = new CookieJar();
    expect((await login(globex, 'gina', jar)).code).toBeTruthy();
    expectRefused(await authorizeInBrowser(jar, acme));
    // and her session still works where she belongs
    expect((await authorizeInBrowser(jar, globex)).code).toBeTruthy();
  });

  it("paula, the platform admin, signed in through the console, gets no code from acme's app", async () => {
    const jar = new CookieJar();
    expect((await login(CONSOLE, 'paula', jar)).code).toBeTruthy();
    expectRefused(await authorizeInBrowser(jar, acme));
  });

  it("mira, a member of both, rides on her console session into acme's app", async () => {
    const jar = new CookieJar();
    expect((await login(CONSOLE, 'mira', jar)).code).toBeTruthy();
    const outcome = await authorizeInBrowser(jar, acme);
    expect(outcome.sawLoginForm).toBe(false);
    expect(outcome.code).toBeTruthy();
  });
});

describe('the scopes of a token through a managed client', () => {
  it('are openid, profile, email and its catalogue scopes', async () => {
    const outcome = await login(acme, 'alice');
    expect(outcome.code).toBeTruthy();
    const exchanged = await exchangeCode(outcome, acme);
    expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(200);
    expect((exchanged.body.scope ?? '').split(' ').sort()).toEqual([
      'datahub-api',
      'email',
      'openid',
      'profile',
    ]);
    const token = claims(exchanged.body.access_token as string);
    expect(token.scope).toBe(exchanged.body.scope);
    for (const claim of ['address', 'phone_number', 'upn', 'groups', 'organization'])
      expect(token).not.toHaveProperty(claim);
  });

  it.each(['address', 'phone', 'offline_access', 'microprofile-jwt', 'organization'])(
    'asked for %s as well, Keycloak refuses the request (invalid_scope): the client has no optional scope',
    async (optional) => {
      const outcome = await login(acme, 'alice', new CookieJar(), `openid ${optional}`);
      expect(outcome.code).toBeUndefined();
      expect(outcome.error).toBe('invalid_scope');
    },
  );

  it('the Keycloak client itself has no optional client scope', async () => {
    const rep = (await keycloakClient(acme.clientId)) as unknown as { optionalClientScopes?: string[] };
    expect(rep.optionalClientScopes ?? []).toEqual([]);
  });
});
