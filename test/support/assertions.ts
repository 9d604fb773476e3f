// What a private_key_jwt client and a DPoP client send to Keycloak's token endpoint, signed in the
// test with jose: the client assertion (RFC 7523) and the DPoP proof (RFC 9449).
import { randomUUID } from 'node:crypto';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { keycloakUrl, realm, requestToken, type TokenAnswer, tokenUrl } from './keycloak.js';

export interface KeyPair {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  /** The public JWK, with kid and alg: what a client registers. */
  jwk: JWK;
}

export async function newKeyPair(
  kid: string,
  alg: 'RS256' | 'ES256' | 'ES384' | 'ES512' | 'PS256' = 'RS256',
): Promise<KeyPair> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** The private JWK of a pair (to prove the service refuses one). */
export const privateJwk = async (pair: KeyPair): Promise<JWK> => ({
  ...(await exportJWK(pair.privateKey)),
  kid: pair.kid,
});

/** The realm's issuer URL: the audience Keycloak accepts in a client assertion. */
export const realmIssuer = (): string => `${keycloakUrl()}/realms/${realm}`;

/** A client assertion for `clientId` signed by `pair`; `expiresIn` in seconds (negative: already expired). */
export async function clientAssertion(clientId: string, pair: KeyPair, expiresIn = 60): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: pair.alg, kid: pair.kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(realmIssuer())
    .setIssuedAt(now - (expiresIn < 0 ? 120 : 0))
    .setExpirationTime(now + expiresIn)
    .setJti(randomUUID())
    .sign(pair.privateKey);
}

/** client_credentials with a private_key_jwt assertion. */
export const assertionToken = async (
  clientId: string,
  pair: KeyPair,
  options: { expiresIn?: number; headers?: Record<string, string> } = {},
): Promise<TokenAnswer> =>
  tokenWithHeaders(
    {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await clientAssertion(clientId, pair, options.expiresIn),
    },
    options.headers,
  );

/** A DPoP proof for a POST to the realm's token endpoint (RFC 9449 §4.2). */
export async function dpopProof(pair: KeyPair, htu = tokenUrl()): Promise<string> {
  const { kid: _kid, alg: _alg, use: _use, ...publicJwk } = pair.jwk;
  return new SignJWT({ htm: 'POST', htu })
    .setProtectedHeader({ alg: pair.alg, typ: 'dpop+jwt', jwk: publicJwk })
    .setIssuedAt()
    .setJti(randomUUID())
    .sign(pair.privateKey);
}

/** A token request with extra headers (DPoP); without any, the shared helper. */
export async function tokenWithHeaders(
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<TokenAnswer> {
  if (Object.keys(headers).length === 0) return requestToken(form);
  const response = await fetch(tokenUrl(), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as TokenAnswer['body'] };
}

/** Polls `check` every 500 ms until it answers true or `withinMs` passes; answers the last result. */
export async function eventually(check: () => Promise<boolean>, withinMs: number): Promise<boolean> {
  const until = Date.now() + withinMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
