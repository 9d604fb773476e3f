// SPEC §2 Credentials, private_key_jwt, proved at Keycloak's own token endpoint: a client that
// registered public keys gets tokens (with its scopes and roles) for assertions signed by its
// private key, and none for another key, an expired assertion, or a client secret; keys rotate
// without downtime; switching the credential either way stops the old one at once; and every
// refusal (a bad key, a secret operation on a key-pair client) changes nothing in Keycloak.
import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwksErrors, jwkThumbprint } from '../../../src/api-clients/resource/jwks.js';
import type { Jwks } from '../../../src/api-clients/resource/schema.js';
import type { Problem } from '../../../src/lib/problem.js';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../../support/app.js';
import { assertionToken, type KeyPair, newKeyPair, privateJwk } from '../../support/assertions.js';
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
  credential: Record<string, unknown> & { type: string; keys?: Record<string, unknown>[] };
};

describe('the keys a client may register (unit)', () => {
  it('computes the RFC 7638 thumbprint as jose does', async () => {
    for (const alg of ['RS256', 'ES256', 'ES384', 'ES512'] as const) {
      const pair = await newKeyPair(`k-${alg}`, alg);
      expect(jwkThumbprint(pair.jwk as Record<string, unknown>)).toBe(await calculateJwkThumbprint(pair.jwk));
    }
  });

  it('refuses private members, symmetric keys, short RSA keys, repeated and missing kids, each by pointer', async () => {
    const good = await newKeyPair('good');
    const ec = await newKeyPair('ec', 'ES256');
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    const jwks = {
      keys: [
        good.jwk,
        await privateJwk(ec),
        { kty: 'oct', kid: 'hmac', k: 'c2VjcmV0' },
        { ...small, kid: 'small' },
        { ...good.jwk, kid: 'good' },
        { ...ec.jwk, kid: undefined },
        ec.jwk,
      ],
    } as unknown as Jwks;
    const errors = jwksErrors(jwks);
    expect(errors.map((e) => e.pointer)).toEqual([
      '/credential/jwks/keys/1',
      '/credential/jwks/keys/2',
      '/credential/jwks/keys/3',
      '/credential/jwks/keys/4',
      '/credential/jwks/keys/5',
    ]);
    expect(errors[0]?.reason).toMatch(/private key material \(d\)/);
    expect(errors[1]?.reason).toMatch(/symmetric/);
    expect(errors[2]?.reason).toMatch(/1024 bits/);
    expect(errors[3]?.reason).toMatch(/repeats the kid "good"/);
    expect(errors[4]?.reason).toMatch(/kid/);
    const p384 = await newKeyPair('p384', 'ES384');
    const rsa4096 = generateKeyPairSync('rsa', { modulusLength: 4096 }).publicKey.export({ format: 'jwk' });
    expect(jwksErrors({ keys: [p384.jwk, { ...rsa4096, kid: 'big' }] } as unknown as Jwks)).toEqual([]);
  });
});

describe('private_key_jwt at Keycloak', () => {
  let t: TestApp;
  let paula: string;
  const account = uniqueAccount('pkj');
  let serial = 0;
  let first: KeyPair;
  let second: KeyPair;
  let stranger: KeyPair;

  beforeAll(async () => {
    t = await startTestApp({ limits: { defaultMaxApiClients: 20, cacheTtlMs: 0 } });
    paula = await userToken('paula');
    [first, second, stranger] = await Promise.all([
      newKeyPair('first'),
      newKeyPair('second', 'ES256'),
      newKeyPair('first'),
    ]);
  });
  afterAll(async () => {
    for (let n = 1; n <= serial; n++)
      await t.call('DELETE', clientUrl(account, `${account}_kp-${n}`), { token: paula });
    await t?.close();
  });

  const nextId = () => `${account}_kp-${++serial}`;
  const create = (body: Record<string, unknown>) =>
    t.call<Resource>('POST', clientsUrl(account), { token: paula, body });
  const keyPairClient = async (keys: KeyPair[] = [first]) => {
    const clientId = nextId();
    const created = await create(
      scriptClient(clientId, {
        scopes: ['datahub-api'],
        roles: ['insights-viewer'],
        credential: { type: 'private-key-jwt', jwks: { keys: keys.map((k) => k.jwk) } },
      }),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return { clientId, created };
  };
  /** The secret Keycloak still keeps for a client-jwt client, read behind the service's back. */
  const keycloakSecret = async (clientId: string) => {
    const id = (await keycloakClient(clientId))?.id;
    return (await keycloakAdminGet<{ value: string }>(`/clients/${id}/client-secret`)).body.value;
  };

  it('creates a key-pair client: no secret, each key shown by kid, kty, alg and thumbprint', async () => {
    const { clientId, created } = await keyPairClient([first, second]);
    expect(created.body).not.toHaveProperty('secret');
    expect(created.body.credential.keys).toEqual([
      { kid: 'first', kty: 'RSA', alg: 'RS256', thumbprint: await calculateJwkThumbprint(first.jwk) },
      { kid: 'second', kty: 'EC', alg: 'ES256', thumbprint: await calculateJwkThumbprint(second.jwk) },
    ]);
    const got = await t.call<Resource>('GET', clientUrl(account, clientId), { token: paula });
    expect(got.body.credential).toEqual(created.body.credential);
    const rep = await keycloakClient(clientId);
    expect(rep?.clientAuthenticatorType).toBe('client-jwt');
    // only the public members are stored (use is dropped from nothing: it is public)
    expect(JSON.stringify(rep?.attributes)).not.toMatch(/"d"\s*:/);
  });

  it('an assertion signed by the registered key gets a token with the client’s scopes and roles', async () => {
    const { clientId } = await keyPairClient();
    const answer = await assertionToken(clientId, first);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const token = claims(answer.body.access_token as string);
    expect(token.azp).toBe(clientId);
    expect(String(token.scope).split(' ')).toContain('datahub-api');
    expect((token.realm_access as { roles: string[] }).roles).toContain('insights-viewer');

    // another key with the same kid, an expired assertion, a client secret: refused
    expect((await assertionToken(clientId, stranger)).status).toBeGreaterThanOrEqual(400);
    expect((await assertionToken(clientId, first, { expiresIn: -30 })).status).toBeGreaterThanOrEqual(400);
    const bySecret = await clientCredentialsToken(clientId, await keycloakSecret(clientId));
    expect(bySecret.status, JSON.stringify(bySecret.body)).toBeGreaterThanOrEqual(400);
    expect(bySecret.body.access_token).toBeUndefined();
  });

  it('rotates keys without downtime: both keys, then only the new one', async () => {
    const { clientId } = await keyPairClient([first]);
    const both = await t.call<Resource>('PATCH', clientUrl(account, clientId), {
      token: paula,
      body: { credential: { type: 'private-key-jwt', jwks: { keys: [first.jwk, second.jwk] } } },
    });
    expect(both.status, JSON.stringify(both.body)).toBe(200);
    expect((await assertionToken(clientId, first)).status).toBe(200);
    expect((await assertionToken(clientId, second)).status).toBe(200);
    // the GET body sent back with the old key taken out: keys (read-only) ride along, ignored
    const got = await t.call<Resource>('GET', clientUrl(account, clientId), { token: paula });
    const credential = { ...got.body.credential, jwks: { keys: [second.jwk] } };
    const onlyNew = await t.call<Resource>('PUT', clientUrl(account, clientId), {
      token: paula,
      body: { ...got.body, credential },
    });
    expect(onlyNew.status, JSON.stringify(onlyNew.body)).toBe(200);
    expect(onlyNew.body.credential.keys?.map((k) => k.kid)).toEqual(['second']);
    expect((await assertionToken(clientId, first)).status).toBeGreaterThanOrEqual(400);
    expect((await assertionToken(clientId, second)).status).toBe(200);
  });

  it('switches a secret client to a key pair: the secret is refused at once', async () => {
    const clientId = nextId();
    const created = await create(scriptClient(clientId, { scopes: ['datahub-api'] }));
    const secret = created.body.secret as string;
    expect((await clientCredentialsToken(clientId, secret)).status).toBe(200);
    const switched = await t.call<Resource>('PATCH', clientUrl(account, clientId), {
      token: paula,
      body: { credential: { type: 'private-key-jwt', jwks: { keys: [first.jwk] } } },
    });
    expect(switched.status, JSON.stringify(switched.body)).toBe(200);
    expect(switched.body).not.toHaveProperty('secret');
    expect((await clientCredentialsToken(clientId, secret)).status).toBeGreaterThanOrEqual(400);
    expect((await assertionToken(clientId, first)).status).toBe(200);
    // the secret Keycloak keeps was replaced too: a switch back cannot revive the old one
    expect(await keycloakSecret(clientId)).not.toBe(secret);
  });

  it('switches a key-pair client to a secret: the new secret is answered once, the key is refused at once', async () => {
    const { clientId } = await keyPairClient([first]);
    const switched = await t.call<Resource>('PATCH', clientUrl(account, clientId), {
      token: paula,
      body: { credential: { type: 'secret' } },
    });
    expect(switched.status, JSON.stringify(switched.body)).toBe(200);
    expect(switched.headers['cache-control']).toBe('no-store');
    expect(switched.body.credential).toEqual({ type: 'secret', expiresAt: null });
    const secret = switched.body.secret as string;
    expect(secret).toBe(await keycloakSecret(clientId));
    expect((await clientCredentialsToken(clientId, secret)).status).toBe(200);
    expect((await assertionToken(clientId, first)).status).toBeGreaterThanOrEqual(400);
    const rep = await keycloakClient(clientId);
    expect(rep?.attributes?.['jwks.string'] ?? '').toBe('');
    // the next GET carries no secret
    expect((await t.call('GET', clientUrl(account, clientId), { token: paula })).body).not.toHaveProperty(
      'secret',
    );
  });

  it('answers credential-not-secret to every secret operation on a key-pair client, changing nothing', async () => {
    const { clientId } = await keyPairClient([first]);
    const before = await keycloakClient(clientId);
    const calls: [string, string][] = [
      ['GET', '/secret'],
      ['POST', '/secret'],
      ['DELETE', '/secret/previous'],
      ['POST', '/invalidate'],
    ];
    for (const [method, path] of calls) {
      const answer = await t.call<Problem>(method as 'GET', `${clientUrl(account, clientId)}${path}`, {
        token: paula,
      });
      expect(answer.status, `${method} ${path}`).toBe(409);
      expect(answer.body.type).toBe('urn:api-clients:problem:credential-not-secret');
    }
    expect(await keycloakClient(clientId)).toEqual(before);
    expect((await assertionToken(clientId, first)).status).toBe(200);
  });

  it('refuses bad keys and an internal jwksUrl, each by pointer, creating or changing nothing', async () => {
    const clientId = nextId();
    const ec = await newKeyPair('ec', 'ES256');
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    const refused = await create(
      scriptClient(clientId, {
        credential: {
          type: 'private-key-jwt',
          jwks: {
            keys: [
              first.jwk,
              await privateJwk(ec),
              { kty: 'oct', kid: 'h', k: 'c2VjcmV0' },
              { ...small, kid: 's' },
              first.jwk,
            ],
          },
        },
      }),
    );
    expect(refused.status).toBe(400);
    expect((refused.body as unknown as Problem).errors?.map((e) => e.pointer)).toEqual([
      '/credential/jwks/keys/1',
      '/credential/jwks/keys/2',
      '/credential/jwks/keys/3',
      '/credential/jwks/keys/4',
    ]);
    expect(await keycloakClient(clientId)).toBeUndefined();

    const { clientId: existing } = await keyPairClient([first]);
    const before = await keycloakClient(existing);
    for (const jwksUrl of [
      'http://127.0.0.1:8080/jwks',
      'https://169.254.169.254/keys',
      'https://vault.internal/jwks',
    ]) {
      const answer = await t.call<Problem>('PATCH', clientUrl(account, existing), {
        token: paula,
        body: { credential: { type: 'private-key-jwt', jwksUrl } },
      });
      expect(answer.status, jwksUrl).toBe(400);
      expect(answer.body.errors?.map((e) => e.pointer)).toEqual(['/credential/jwksUrl']);
    }
    const expiring = await t.call<Problem>('PATCH', clientUrl(account, existing), {
      token: paula,
      body: { credential: { type: 'private-key-jwt', expiresAt: '2030-01-01T00:00:00Z' } },
    });
    expect(expiring.status).toBe(400);
    expect(expiring.body.errors?.map((e) => e.pointer)).toEqual(['/credential/expiresAt']);
    const keyless = await t.call<Problem>('PATCH', clientUrl(account, existing), {
      token: paula,
      body: { credential: { type: 'private-key-jwt', jwks: null } },
    });
    expect(keyless.status).toBe(400);
    expect(await keycloakClient(existing)).toEqual(before);
  });

  it('takes a public jwksUrl and answers no keys for it (Keycloak fetches them)', async () => {
    const { clientId } = await keyPairClient([first]);
    const answer = await t.call<Resource>('PATCH', clientUrl(account, clientId), {
      token: paula,
      body: {
        credential: { type: 'private-key-jwt', jwksUrl: 'https://keys.example.com/.well-known/jwks.json' },
      },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.credential).toEqual({
      type: 'private-key-jwt',
      jwks: null,
      jwksUrl: 'https://keys.example.com/.well-known/jwks.json',
      keys: [],
    });
    const rep = await keycloakClient(clientId);
    expect(rep?.attributes).toMatchObject({ 'use.jwks.url': 'true', 'use.jwks.string': 'false' });
    // Keycloak drops an attribute written as "": the pasted keys are gone
    expect(rep?.attributes?.['jwks.string'] ?? '').toBe('');
  });
});
