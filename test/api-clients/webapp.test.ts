// WebApp clients: Keycloak's own authorization and logout endpoints honour what the service wrote.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../support/app.js';
import { keycloakClient, keycloakUrl, realm, userToken } from '../support/keycloak.js';

const oidc = () => `${keycloakUrl()}/realms/${realm}/protocol/openid-connect`;

async function authorize(clientId: string, redirectUri: string): Promise<number> {
  const query = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid',
  });
  const response = await fetch(`${oidc()}/auth?${query}`, { redirect: 'manual' });
  await response.body?.cancel();
  return response.status;
}

async function logout(
  clientId: string,
  postLogoutRedirectUri: string,
): Promise<{ status: number; text: string; location: string | null }> {
  const query = new URLSearchParams({ client_id: clientId, post_logout_redirect_uri: postLogoutRedirectUri });
  const response = await fetch(`${oidc()}/logout?${query}`, { redirect: 'manual' });
  return { status: response.status, text: await response.text(), location: response.headers.get('location') };
}

describe('a WebApp client against the real authorization and logout endpoints', () => {
  let t: TestApp;
  let token: string;
  const account = uniqueAccount('web');
  const clientId = `${account}_portal`;

  beforeAll(async () => {
    t = await startTestApp();
    token = await userToken('paula');
    const created = await t.call('POST', clientsUrl(account), {
      token,
      body: {
        clientId,
        capabilityTypes: ['WebApp'],
        redirectUris: ['https://app.example.test/*'],
        postLogoutRedirectUris: [],
        webOrigins: ['+'],
        backchannelLogout: {
          url: 'https://app.example.com/backchannel',
          sessionRequired: true,
          revokeOfflineSessions: false,
        },
      },
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await t.call('DELETE', clientUrl(account, clientId), { token });
    await t.close();
  });

  it('accepts a redirect under the registered pattern and refuses one outside it', async () => {
    expect(await authorize(clientId, 'https://app.example.test/callback')).toBe(200);
    expect(await authorize(clientId, 'https://evil.example.test/callback')).toBe(400);
    expect(await authorize(clientId, 'https://app.example.test.evil.example/callback')).toBe(400);
  });

  it('with an empty postLogoutRedirectUris refuses every post_logout_redirect_uri, even under the redirect URIs', async () => {
    const refused = await logout(clientId, 'https://app.example.test/bye');
    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(/Invalid redirect uri/i);

    // "+" (every redirect URI) lets the same one through: the refusal above is the explicit "none"
    const patched = await t.call('PATCH', clientUrl(account, clientId), {
      token,
      body: { postLogoutRedirectUris: ['+'] },
    });
    expect(patched.status).toBe(200);
    const accepted = await logout(clientId, 'https://app.example.test/bye');
    expect(accepted.status).toBe(302);
    expect(accepted.location).toBe('https://app.example.test/bye');

    await t.call('PATCH', clientUrl(account, clientId), { token, body: { postLogoutRedirectUris: [] } });
    expect((await logout(clientId, 'https://app.example.test/bye')).status).toBe(400);
  });

  it('writes back-channel logout onto the Keycloak client', async () => {
    const rep = (await keycloakClient(clientId)) as unknown as {
      attributes: Record<string, string>;
      frontchannelLogout: boolean;
    };
    expect(rep.attributes['backchannel.logout.url']).toBe('https://app.example.com/backchannel');
    expect(rep.attributes['backchannel.logout.session.required']).toBe('true');
    expect(rep.attributes['backchannel.logout.revoke.offline.tokens']).toBe('false');
    expect(rep.frontchannelLogout).toBe(false);

    const got = await t.call<{ backchannelLogout: unknown }>('GET', clientUrl(account, clientId), { token });
    expect(got.body.backchannelLogout).toEqual({
      url: 'https://app.example.com/backchannel',
      sessionRequired: true,
      revokeOfflineSessions: false,
    });
  });

  it('refuses back-channel logout without WebApp or without a URL, and changes nothing', async () => {
    const before = await keycloakClient(clientId);
    const scriptOnly = await t.call<{ errors: { pointer: string }[] }>(
      'PATCH',
      clientUrl(account, clientId),
      {
        token,
        body: { capabilityTypes: ['Script'], redirectUris: [], webOrigins: [] },
      },
    );
    expect(scriptOnly.status).toBe(400);
    expect(scriptOnly.body.errors.map((e) => e.pointer)).toContain('/backchannelLogout');

    const noUrl = await t.call<{ errors: { pointer: string }[] }>('POST', clientsUrl(account), {
      token,
      body: {
        clientId: `${account}_no-url`,
        capabilityTypes: ['WebApp'],
        redirectUris: ['https://app.example.test/*'],
        backchannelLogout: { sessionRequired: true, revokeOfflineSessions: false },
      },
    });
    expect(noUrl.status).toBe(400);
    expect(noUrl.body.errors.map((e) => e.pointer)).toContain('/backchannelLogout/url');
    expect(await keycloakClient(`${account}_no-url`)).toBeUndefined();
    expect(await keycloakClient(clientId)).toEqual(before);
  });
});
