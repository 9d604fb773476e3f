// src/auth/verify.ts against a JWKS of its own (one port stubbed: the realm's certs endpoint):
// a verified token is kept, but never past its exp.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTokenVerifier } from '../../src/auth/verify.js';
import { loadConfig } from '../../src/config.js';

describe('the token verifier', () => {
  let server: Server;
  let baseUrl: string;
  let sign: (expiresInSeconds: number) => Promise<string>;
  let certRequests = 0;
  /** What the certs endpoint answers: 503 stands for a Keycloak that cannot give its keys. */
  let certsStatus = 200;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((_request, response) => {
      certRequests++;
      response.statusCode = certsStatus;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(certsStatus === 200 ? { keys: [jwk] } : { error: 'unavailable' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    sign = (expiresInSeconds) =>
      new SignJWT({
        azp: 'api-clients-cli',
        account_id: 'acme',
        realm_access: { roles: ['api-clients-viewer'] },
      })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setSubject('alice')
        .setIssuer(`${baseUrl}/realms/platform`)
        .setAudience('api-clients-service')
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds)
        .sign(privateKey);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterEach(() => {
    certsStatus = 200;
    vi.useRealTimers();
  });

  const verifier = () =>
    createTokenVerifier(
      loadConfig({ KEYCLOAK_URL: baseUrl, KEYCLOAK_CLIENT_SECRET: 'x', API_CLIENTS_DEV_MODE: 'true' }),
    );

  it('reads the caller from a valid token, the same on a second use', async () => {
    const verify = verifier();
    const token = await sign(60);
    const first = await verify(token);
    expect(first).toEqual({
      subject: 'alice',
      clientId: 'api-clients-cli',
      accounts: new Set(['acme']),
      roles: new Set(['api-clients-viewer']),
    });
    expect(await verify(token)).toEqual(first);
  });

  it('refuses a kept token once its exp has passed', async () => {
    // only the wall clock is faked: jose and the cache read Date.now(), the certs server runs as is
    vi.useFakeTimers({ toFake: ['Date'] });
    const verify = verifier();
    const token = await sign(60);
    await verify(token);
    vi.setSystemTime(Date.now() + 61_000);
    await expect(verify(token)).rejects.toMatchObject({ problemType: 'unauthorized' });
  });

  it('keeps no token it refused: the same token is verified again, and accepted once it can be', async () => {
    const verify = verifier();
    const token = await sign(60);
    certsStatus = 503;
    const before = certRequests;
    await expect(verify(token)).rejects.toMatchObject({ problemType: 'unauthorized' });
    expect(certRequests).toBe(before + 1);
    // the keys can be read again: a refusal kept for this token would refuse it once more
    certsStatus = 200;
    await expect(verify(token)).resolves.toMatchObject({ subject: 'alice' });
    expect(certRequests).toBe(before + 2);
  });

  it('keeps a token by all of it: the same claims under another signature are refused', async () => {
    const verify = verifier();
    const token = await sign(60);
    await verify(token);
    const forged = `${token.slice(0, -4)}AAAA`;
    await expect(verify(forged)).rejects.toMatchObject({ problemType: 'unauthorized' });
  });
});
