// SPEC §4 "The resource server": insights-api is the audience of every catalogue scope, so that it
// can introspect a token issued with one (Keycloak answers introspection only to a client in the
// token's audience), and only such a token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../support/app.js';
import {
  claims,
  clientCredentialsToken,
  introspect,
  keycloakUrl,
  realm,
  userToken,
} from '../support/keycloak.js';

let service: TestApp;
let paula: string;
const account = uniqueAccount('rs');
const secrets: Record<string, string> = {};

beforeAll(async () => {
  service = await startTestApp();
  paula = await userToken('paula');
  for (const [name, scopes] of [
    ['datahub', ['datahub-api']],
    ['push', ['push-data']],
    ['none', []],
  ] as const) {
    const answer = await service.call<{ secret: string }>('POST', clientsUrl(account), {
      token: paula,
      body: { clientId: `${account}_${name}`, capabilityTypes: ['Script'], scopes },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    secrets[name] = answer.body.secret;
  }
});

afterAll(async () => {
  for (const name of Object.keys(secrets)) {
    await service.call('DELETE', clientUrl(account, `${account}_${name}`), { token: paula });
  }
  await service?.close();
});

describe('insights-api, the resource server of the catalogue', () => {
  it.each(['datahub', 'push'])('is the audience of a %s token and introspects it as active', async (name) => {
    const { body } = await clientCredentialsToken(`${account}_${name}`, secrets[name] as string);
    const token = body.access_token as string;
    expect([claims(token).aud].flat()).toContain('insights-api');
    const answer = await introspect(token);
    expect(answer.active).toBe(true);
    expect(answer.client_id).toBe(`${account}_${name}`);
  });

  it('is not the audience of a token without a catalogue scope, and learns nothing of it', async () => {
    const { body } = await clientCredentialsToken(`${account}_none`, secrets.none as string);
    const token = body.access_token as string;
    expect([claims(token).aud ?? []].flat()).not.toContain('insights-api');
    expect(await introspect(token)).toEqual({ active: false });
  });

  it('a wrong secret gets no introspection', async () => {
    const { body } = await clientCredentialsToken(`${account}_datahub`, secrets.datahub as string);
    const response = await fetch(
      `${keycloakUrl()}/realms/${realm}/protocol/openid-connect/token/introspect`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          token: body.access_token as string,
          client_id: 'insights-api',
          client_secret: 'x',
        }),
      },
    );
    expect(response.status).toBe(401);
  });
});
