// SPEC §2 Credentials, `federated`, proved at Keycloak's own token endpoint with a workload token
// issuer of the test's own on loopback (allowed by KEYCLOAK_CALLS_ALLOWED_ORIGINS): the bound
// subject gets a token with the client's scopes and roles; another subject, another key, an
// expired token, a wrong audience and a replay are refused; a second account on the same issuer
// gets only its own client's token; the credential switches both ways; the issuer's identity
// provider goes with its last client; bad input and an internal issuer change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityProviderAlias } from '../../../src/api-clients/resource/identity-provider.js';
import type { Problem } from '../../../src/lib/problem.js';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../../support/app.js';
import { scriptClient } from '../../support/fixtures.js';
import {
  claims,
  clientCredentialsToken,
  keycloakAdmin,
  keycloakAdminGet,
  keycloakClient,
  keycloakUrl,
  testConfig,
  userToken,
} from '../../support/keycloak.js';
import { federatedToken, startTestIssuer, type TestIssuer } from '../../support/test-issuer.js';

type Resource = Record<string, unknown> & {
  clientId: string;
  secret?: string;
  credential: Record<string, unknown> & { type: string };
};

describe('federated clients at Keycloak', () => {
  let t: TestApp;
  let strict: TestApp;
  let paula: string;
  let issuer: TestIssuer;
  let second: TestIssuer;
  let foreign: TestIssuer;
  let liar: TestIssuer;
  let pointsInside: TestIssuer;
  const handMade = `hand-made-${Date.now()}`;
  const account = uniqueAccount('fed');
  const other = uniqueAccount('fed');
  const made: [string, string][] = [];

  beforeAll(async () => {
    [issuer, second, foreign, liar, pointsInside] = await Promise.all([
      startTestIssuer(),
      startTestIssuer(),
      startTestIssuer(),
      startTestIssuer({ issuer: 'https://token.actions.githubusercontent.com' }),
      startTestIssuer({ jwksUri: 'http://169.254.169.254/latest/meta-data/' }),
    ]);
    const base = testConfig().urlSafety;
    t = await startTestApp({
      urlSafety: {
        ...base,
        allowedOrigins: [issuer.url, second.url, foreign.url, liar.url, pointsInside.url],
      },
    });
    strict = await startTestApp({ urlSafety: { ...base, allowedOrigins: [] } });
    paula = await userToken('paula');
  });
  afterAll(async () => {
    for (const [acc, clientId] of made) await t.call('DELETE', clientUrl(acc, clientId), { token: paula });
    await t?.close();
    await strict?.close();
    await keycloakAdmin('DELETE', `/identity-provider/instances/${handMade}`);
    await Promise.all([issuer, second, foreign, liar, pointsInside].map((i) => i?.close()));
  });

  const identityProvider = async (of = issuer) =>
    (await keycloakAdminGet(`/identity-provider/instances/${identityProviderAlias(of.url)}`)).status;
  const federatedClient = async (acc: string, name: string, subject: string) => {
    const clientId = `${acc}_${name}`;
    const created = await t.call<Resource>('POST', clientsUrl(acc), {
      token: paula,
      body: scriptClient(clientId, {
        scopes: ['datahub-api'],
        roles: ['insights-viewer'],
        credential: { type: 'federated', issuer: issuer.url, subject },
      }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    made.push([acc, clientId]);
    return { clientId, created };
  };

  it('the bound subject gets a token with the client’s scopes and roles; nothing else does', async () => {
    const { clientId, created } = await federatedClient(account, 'deploy', 'system:serviceaccount:ci:deploy');
    expect(created.body).not.toHaveProperty('secret');
    expect(created.body.credential).toEqual({
      type: 'federated',
      issuer: issuer.url,
      subject: 'system:serviceaccount:ci:deploy',
    });
    const rep = await keycloakClient(clientId);
    expect(rep?.clientAuthenticatorType).toBe('federated-jwt');
    expect(await identityProvider()).toBe(200);

    const answer = await federatedToken(await issuer.token('system:serviceaccount:ci:deploy'), clientId);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const token = claims(answer.body.access_token as string);
    expect(token.azp).toBe(clientId);
    expect(String(token.scope).split(' ')).toContain('datahub-api');
    expect((token.realm_access as { roles: string[] }).roles).toContain('insights-viewer');

    const refused = [
      await federatedToken(await issuer.token('system:serviceaccount:ci:other'), clientId),
      await federatedToken(
        await issuer.token('system:serviceaccount:ci:deploy', { key: issuer.strangerKey }),
        clientId,
      ),
      await federatedToken(
        await issuer.token('system:serviceaccount:ci:deploy', { expiresIn: -30 }),
        clientId,
      ),
      await federatedToken(
        await issuer.token('system:serviceaccount:ci:deploy', { audience: 'https://api.example.com' }),
        clientId,
      ),
    ];
    for (const answer of refused) {
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.body.access_token).toBeUndefined();
    }
    // the same token twice: Keycloak remembers its jti
    const once = await issuer.token('system:serviceaccount:ci:deploy');
    expect((await federatedToken(once, clientId)).status).toBe(200);
    const replay = await federatedToken(once, clientId);
    expect(replay.status).toBe(400);
    expect(replay.body.error_description).toMatch(/reuse/i);
  });

  it('a second account on the same issuer gets only its own client’s token; a bound subject is not bound twice', async () => {
    const first = `${account}_deploy`;
    const { clientId: second } = await federatedClient(other, 'deploy', 'system:serviceaccount:ci:other');
    const own = await federatedToken(await issuer.token('system:serviceaccount:ci:other'), second);
    expect(own.status, JSON.stringify(own.body)).toBe(200);
    expect(claims(own.body.access_token as string).azp).toBe(second);
    // its workload's token names its own client, never the first account's
    const crossed = await federatedToken(await issuer.token('system:serviceaccount:ci:other'), first);
    expect(crossed.body.access_token).toBeUndefined();
    const unnamed = await federatedToken(await issuer.token('system:serviceaccount:ci:other'));
    expect(claims(unnamed.body.access_token as string).azp).toBe(second);

    // the first account's subject, bound again: refused (Keycloak would refuse both clients)
    const taken = await t.call<Problem>('POST', clientsUrl(other), {
      token: paula,
      body: scriptClient(`${other}_taken`, {
        credential: { type: 'federated', issuer: issuer.url, subject: 'system:serviceaccount:ci:deploy' },
      }),
    });
    expect(taken.status).toBe(400);
    expect(taken.body.errors?.map((e) => e.pointer)).toEqual(['/credential/subject']);
    expect(await keycloakClient(`${other}_taken`)).toBeUndefined();
    const still = await federatedToken(await issuer.token('system:serviceaccount:ci:deploy'), first);
    expect(still.status).toBe(200);
  });

  it('switches federated → secret → federated; a GET body sent back as PUT keeps it', async () => {
    const { clientId } = await federatedClient(account, 'switch', 'repo:acme/app:ref:refs/heads/main');
    const url = clientUrl(account, clientId);
    const toSecret = await t.call<Resource>('PATCH', url, {
      token: paula,
      body: { credential: { type: 'secret' } },
    });
    expect(toSecret.status, JSON.stringify(toSecret.body)).toBe(200);
    expect(typeof toSecret.body.secret).toBe('string');
    expect((await clientCredentialsToken(clientId, toSecret.body.secret as string)).status).toBe(200);
    expect(
      (await federatedToken(await issuer.token('repo:acme/app:ref:refs/heads/main'), clientId)).body
        .access_token,
    ).toBeUndefined();

    const back = await t.call<Resource>('PATCH', url, {
      token: paula,
      body: {
        credential: { type: 'federated', issuer: issuer.url, subject: 'repo:acme/app:ref:refs/heads/main' },
      },
    });
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect(back.body).not.toHaveProperty('secret');
    expect((await clientCredentialsToken(clientId, toSecret.body.secret as string)).status).toBe(401);
    expect(
      (await federatedToken(await issuer.token('repo:acme/app:ref:refs/heads/main'), clientId)).status,
    ).toBe(200);

    const got = await t.call<Resource>('GET', url, { token: paula });
    const {
      clientId: _c,
      accountId: _a,
      createdAt: _t,
      lastUsedAt: _l,
      previousSecretExpiresAt: _p,
      ...body
    } = got.body;
    const put = await t.call<Resource>('PUT', url, { token: paula, body });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.credential).toEqual(got.body.credential);
    // a federated client has no secret to reveal or regenerate
    expect((await t.call('POST', `${url}/secret`, { token: paula, body: {} })).status).toBe(409);
  });

  it('bad input is a 400 naming each field, and an internal issuer is refused without its allow-list entry', async () => {
    const bad = await t.call<Problem>('POST', clientsUrl(account), {
      token: paula,
      body: scriptClient(`${account}_bad`, {
        credential: {
          type: 'federated',
          issuer: issuer.url,
          expiresAt: '2030-01-01T00:00:00Z',
          jwksUrl: 'https://k.example.com/',
        },
      }),
    });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/problem\+json/);
    expect(bad.body.errors?.map((e) => e.pointer).sort()).toEqual([
      '/credential/expiresAt',
      '/credential/jwksUrl',
      '/credential/subject',
    ]);
    for (const internal of [issuer.url, 'https://kubernetes.default.svc', 'https://10.0.0.1/issuer']) {
      const refused = await strict.call<Problem>('POST', clientsUrl(account), {
        token: paula,
        body: scriptClient(`${account}_internal`, {
          credential: { type: 'federated', issuer: internal, subject: 'x' },
        }),
      });
      expect(refused.status, internal).toBe(400);
      expect(refused.body.errors?.map((e) => e.pointer)).toEqual(['/credential/issuer']);
    }
    // the platform's own Keycloak is no workload's issuer, allowed origin or not: its tokens are the realm's
    for (const app of [t, strict]) {
      const own = await app.call<Problem>('POST', clientsUrl(account), {
        token: paula,
        body: scriptClient(`${account}_internal`, {
          credential: { type: 'federated', issuer: `${keycloakUrl()}/realms/platform`, subject: 'x' },
        }),
      });
      expect(own.status).toBe(400);
      expect(own.body.errors).toEqual([
        expect.objectContaining({
          pointer: '/credential/issuer',
          reason: expect.stringMatching(/own Keycloak/),
        }),
      ]);
    }
    expect(await keycloakClient(`${account}_bad`)).toBeUndefined();
    expect(await keycloakClient(`${account}_internal`)).toBeUndefined();
  });

  it('an operator list of issuer origins (FEDERATED_ISSUER_ORIGINS) refuses any other issuer, before Keycloak is asked', async () => {
    const listed = await startTestApp({
      urlSafety: {
        ...testConfig().urlSafety,
        allowedOrigins: [issuer.url],
        federatedIssuerOrigins: ['https://token.actions.githubusercontent.com:443'],
      },
    });
    try {
      const refused = await listed.call<Problem>('POST', clientsUrl(account), {
        token: paula,
        body: scriptClient(`${account}_unlisted`, {
          credential: { type: 'federated', issuer: issuer.url, subject: 'system:serviceaccount:ci:unlisted' },
        }),
      });
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual([
        expect.objectContaining({
          pointer: '/credential/issuer',
          reason: expect.stringMatching(/not among/),
        }),
      ]);
      expect(await keycloakClient(`${account}_unlisted`)).toBeUndefined();
    } finally {
      await listed.close();
    }
  });

  it('moving a client to another issuer removes the old issuer’s identity provider once no client names it', async () => {
    const { clientId } = await federatedClient(account, 'mover', 'mover');
    const url = clientUrl(account, clientId);
    const moved = await t.call<Resource>('PATCH', url, {
      token: paula,
      body: { credential: { type: 'federated', issuer: second.url } },
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body.credential).toEqual({ type: 'federated', issuer: second.url, subject: 'mover' });
    expect((await federatedToken(await second.token('mover'), clientId)).status).toBe(200);
    expect((await federatedToken(await issuer.token('mover'), clientId)).body.access_token).toBeUndefined();
    // the first issuer still has the other tests' clients: its identity provider stays
    expect(await identityProvider(issuer)).toBe(200);
    const away = await t.call<Resource>('PATCH', url, {
      token: paula,
      body: { credential: { type: 'secret' } },
    });
    expect(away.status).toBe(200);
    expect(await identityProvider(second)).toBe(404);
  });

  it('an identity provider the service did not make is neither used nor touched', async () => {
    const rep = {
      alias: handMade,
      providerId: 'oidc',
      enabled: true,
      config: {
        issuer: foreign.url,
        jwksUrl: `${foreign.url}/keys`,
        useJwksUrl: 'true',
        validateSignature: 'true',
        supportsClientAssertions: 'true',
        clientId: 'x',
        clientSecret: 'x',
        authorizationUrl: `${foreign.url}/auth`,
        tokenUrl: `${foreign.url}/token`,
      },
    };
    expect((await keycloakAdmin('POST', '/identity-provider/instances', rep)).status).toBe(201);
    const before = (await keycloakAdminGet(`/identity-provider/instances/${handMade}`)).body;
    const refused = await t.call<Problem>('POST', clientsUrl(account), {
      token: paula,
      body: scriptClient(`${account}_foreign`, {
        credential: { type: 'federated', issuer: foreign.url, subject: 'x' },
      }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors?.map((e) => e.pointer)).toEqual(['/credential/issuer']);
    expect(await keycloakClient(`${account}_foreign`)).toBeUndefined();
    expect((await keycloakAdminGet(`/identity-provider/instances/${handMade}`)).body).toEqual(before);
    expect(await identityProvider(foreign)).toBe(404);
  });

  it('an issuer whose discovery document names another issuer, or keys inside the platform, is refused', async () => {
    for (const [bad, reason] of [
      [liar, /names another issuer/],
      [pointsInside, /jwks_uri .*169\.254\.169\.254/],
    ] as const) {
      const refused = await t.call<Problem>('POST', clientsUrl(account), {
        token: paula,
        body: scriptClient(`${account}_discovery`, {
          credential: { type: 'federated', issuer: bad.url, subject: 'x' },
        }),
      });
      expect(refused.status).toBe(400);
      expect(refused.body.errors?.map((e) => e.pointer)).toEqual(['/credential/issuer']);
      expect(refused.body.errors?.[0]?.reason).toMatch(reason);
      expect(await identityProvider(bad)).toBe(404);
    }
    expect(await keycloakClient(`${account}_discovery`)).toBeUndefined();
  });

  it('deleting the last client of an issuer removes its identity provider', async () => {
    expect(await identityProvider()).toBe(200);
    for (const [acc, clientId] of made.splice(0)) {
      expect((await t.call('DELETE', clientUrl(acc, clientId), { token: paula })).status).toBe(204);
    }
    expect(await identityProvider()).toBe(404);
  });
});
