// A workload token issuer of the test's own on loopback: an OIDC discovery document and a JWKS,
// and tokens signed by a key it makes, as a Kubernetes cluster or GitHub Actions would issue them.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type CryptoKey, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { realmIssuer } from './assertions.js';
import { requestToken, type TokenAnswer } from './keycloak.js';

export interface TestIssuer {
  /** `http://127.0.0.1:<port>`: its `iss`, and the origin KEYCLOAK_CALLS_ALLOWED_ORIGINS must name. */
  url: string;
  /** A workload token: `aud` the realm's issuer URL unless told, `exp` in seconds (negative: expired). */
  token(
    subject: string,
    options?: { audience?: string; expiresIn?: number; key?: CryptoKey },
  ): Promise<string>;
  /** A key the issuer does not publish. */
  strangerKey: CryptoKey;
  close(): Promise<void>;
}

/** `discovery`: what the discovery document claims instead of the truth (another issuer, another jwks_uri). */
export async function startTestIssuer(
  discovery: { issuer?: string; jwksUri?: string } = {},
): Promise<TestIssuer> {
  const own = await generateKeyPair('RS256', { extractable: true });
  const stranger = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(own.publicKey)), kid: 'issuer-1', alg: 'RS256', use: 'sig' };
  let url = '';
  const server: Server = createServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    if (request.url === '/.well-known/openid-configuration') {
      response.end(
        JSON.stringify({
          issuer: discovery.issuer ?? url,
          jwks_uri: discovery.jwksUri ?? `${url}/keys`,
          response_types_supported: ['id_token'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
        }),
      );
    } else if (request.url === '/keys') response.end(JSON.stringify({ keys: [jwk] }));
    else {
      response.statusCode = 404;
      response.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    strangerKey: stranger.privateKey,
    async token(subject, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      const expiresIn = options.expiresIn ?? 60;
      return new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: 'issuer-1', typ: 'JWT' })
        .setIssuer(url)
        .setSubject(subject)
        .setAudience(options.audience ?? realmIssuer())
        .setIssuedAt(now - (expiresIn < 0 ? 120 : 0))
        .setExpirationTime(now + expiresIn)
        .setJti(randomUUID())
        .sign(options.key ?? own.privateKey);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** client_credentials with a workload token as the client assertion (client_id optional for Keycloak). */
export const federatedToken = (assertion: string, clientId?: string): Promise<TokenAnswer> =>
  requestToken({
    grant_type: 'client_credentials',
    ...(clientId ? { client_id: clientId } : {}),
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  });
