// SPEC §2 tokenSettings, proved at Keycloak's token endpoint: a client's own access-token lifetime
// is the `expires_in` Keycloak answers, bounded by 60 s and by the realm's own lifespan; a client
// that requires DPoP gets no token without a proof (RFC 9449) and a DPoP-bound one with it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '../../../src/lib/problem.js';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../../support/app.js';
import { dpopProof, newKeyPair, tokenWithHeaders } from '../../support/assertions.js';
import { scriptClient } from '../../support/fixtures.js';
import {
  claims,
  clientCredentialsToken,
  keycloakAdminGet,
  keycloakClient,
  userToken,
} from '../../support/keycloak.js';

type Resource = Record<string, unknown> & {
  clientId: string;
  secret?: string;
  tokenSettings: { accessTokenLifetimeSeconds: number | null; requireDpop: boolean };
};

let t: TestApp;
let paula: string;
let realmLifespan: number;
const account = uniqueAccount('tok');
let serial = 0;

beforeAll(async () => {
  t = await startTestApp({ limits: { defaultMaxApiClients: 20, cacheTtlMs: 0 } });
  paula = await userToken('paula');
  realmLifespan = (await keycloakAdminGet<{ accessTokenLifespan: number }>('')).body.accessTokenLifespan;
});
afterAll(async () => {
  for (let n = 1; n <= serial; n++)
    await t.call('DELETE', clientUrl(account, `${account}_job-${n}`), { token: paula });
  await t?.close();
});

const create = (tokenSettings?: unknown) => {
  const clientId = `${account}_job-${++serial}`;
  return t
    .call<Resource>('POST', clientsUrl(account), {
      token: paula,
      body: scriptClient(clientId, tokenSettings === undefined ? {} : { tokenSettings }),
    })
    .then((answer) => ({ clientId, answer }));
};

describe('tokenSettings.accessTokenLifetimeSeconds', () => {
  it("is the token's expires_in; null is the realm's", async () => {
    const { clientId, answer } = await create({ accessTokenLifetimeSeconds: 120, requireDpop: false });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body.tokenSettings).toEqual({ accessTokenLifetimeSeconds: 120, requireDpop: false });
    const token = await clientCredentialsToken(clientId, answer.body.secret as string);
    expect(token.body.expires_in).toBe(120);

    const reset = await t.call<Resource>('PATCH', clientUrl(account, clientId), {
      token: paula,
      body: { tokenSettings: { accessTokenLifetimeSeconds: null } },
    });
    expect(reset.status, JSON.stringify(reset.body)).toBe(200);
    expect(reset.body.tokenSettings.accessTokenLifetimeSeconds).toBeNull();
    expect((await clientCredentialsToken(clientId, answer.body.secret as string)).body.expires_in).toBe(
      realmLifespan,
    );
  });

  it("is refused under 60 s and over the realm's own lifespan, changing nothing", async () => {
    const { clientId, answer } = await create();
    expect(answer.status).toBe(201);
    const before = await keycloakClient(clientId);
    for (const seconds of [59, realmLifespan + 1]) {
      const refused = await t.call<Problem>('PATCH', clientUrl(account, clientId), {
        token: paula,
        body: { tokenSettings: { accessTokenLifetimeSeconds: seconds } },
      });
      expect(refused.status, String(seconds)).toBe(400);
      expect(refused.body.errors?.map((e) => e.pointer)).toEqual([
        '/tokenSettings/accessTokenLifetimeSeconds',
      ]);
    }
    expect(await keycloakClient(clientId)).toEqual(before);
    const atRealm = await t.call<Resource>('PATCH', clientUrl(account, clientId), {
      token: paula,
      body: { tokenSettings: { accessTokenLifetimeSeconds: realmLifespan } },
    });
    expect(atRealm.status).toBe(200);
  });
});

describe('tokenSettings.requireDpop', () => {
  it('refuses a token request without a DPoP proof and answers a DPoP-bound token with one', async () => {
    const { clientId, answer } = await create({ accessTokenLifetimeSeconds: null, requireDpop: true });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    const secret = answer.body.secret as string;
    const without = await clientCredentialsToken(clientId, secret);
    expect(without.status).toBe(400);
    expect(without.body.error).toBe('invalid_request');

    const holder = await newKeyPair('dpop', 'ES256');
    const form = { grant_type: 'client_credentials', client_id: clientId, client_secret: secret };
    const withProof = await tokenWithHeaders(form, { DPoP: await dpopProof(holder) });
    expect(withProof.status, JSON.stringify(withProof.body)).toBe(200);
    expect(String(withProof.body.token_type).toLowerCase()).toBe('dpop');
    expect(claims(withProof.body.access_token as string).cnf).toHaveProperty('jkt');

    const off = await t.call<Resource>('PATCH', clientUrl(account, clientId), {
      token: paula,
      body: { tokenSettings: { requireDpop: false } },
    });
    expect(off.body.tokenSettings.requireDpop).toBe(false);
    expect((await clientCredentialsToken(clientId, secret)).status).toBe(200);
  });
});
