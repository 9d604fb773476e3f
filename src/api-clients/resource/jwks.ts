// The private_key_jwt credential (RFC 7523; SPEC §2 Credentials): the client signs its token request
// with a private key that never leaves it, and Keycloak checks the signature against the public
// keys registered here (JWTClientAuthenticator, clientAuthenticatorType `client-jwt`, with the
// attributes `use.jwks.string` + `jwks.string` or `use.jwks.url` + `jwks.url`).
//
// The keys are checked with node:crypto, synchronously, as the other rules are: createPublicKey
// parses the JWK as jose's importJWK does (the same OpenSSL underneath) and tells the RSA modulus
// length; the RFC 7638 thumbprint is the SHA-256 of the key's required members in lexical order
// (test/api-clients/credentials/private-key-jwt.test.ts compares it with jose's calculateJwkThumbprint).
import { createHash, createPublicKey } from 'node:crypto';
import type { FieldError } from '../../lib/problem.js';
import type { Jwks, KeyInfo } from './schema.js';

/** Members that carry private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
export const MIN_RSA_BITS = 2048;
const EC_CURVES = ['P-256', 'P-384', 'P-521'];
/** The members of a public JWK the service stores and answers; anything else (x5c, ...) is dropped. */
const PUBLIC_MEMBERS: Record<string, readonly string[]> = {
  RSA: ['kty', 'kid', 'use', 'alg', 'n', 'e'],
  EC: ['kty', 'kid', 'use', 'alg', 'crv', 'x', 'y'],
};
/** The members RFC 7638 hashes, in lexical order. */
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = {
  RSA: ['e', 'kty', 'n'],
  EC: ['crv', 'kty', 'x', 'y'],
};
const ALGS: Record<string, readonly string[]> = {
  RSA: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
  EC: ['ES256', 'ES384', 'ES512'],
};

type Jwk = Record<string, unknown>;
const error = (pointer: string, reason: string): FieldError => ({ pointer, in: 'body', reason });

/** Why this JWK cannot be registered, or undefined when it is a public key the service accepts. */
function keyReason(key: Jwk): string | undefined {
  const held = PRIVATE_MEMBERS.filter((name) => name in key);
  if (key.kty === 'oct') return 'is a symmetric key (kty "oct"): register a public key (RSA or EC)';
  if (held.length > 0)
    return `carries private key material (${held.join(', ')}): register the public key only, the private key never leaves the client`;
  if (key.kty !== 'RSA' && key.kty !== 'EC') return 'must be an RSA or EC public key (kty "RSA" or "EC")';
  if (typeof key.kid !== 'string' || key.kid === '') return 'needs a "kid": Keycloak picks the key by it';
  if (key.kty === 'EC' && !EC_CURVES.includes(String(key.crv)))
    return `must be on one of the curves ${EC_CURVES.join(', ')}`;
  if (key.use !== undefined && key.use !== 'sig')
    return 'must be a signing key ("use": "sig") or name no use';
  if (key.alg !== undefined && !ALGS[key.kty]?.includes(String(key.alg)))
    return `names an algorithm that does not fit the key: one of ${ALGS[key.kty]?.join(', ')}`;
  let bits: number | undefined;
  try {
    const parsed = createPublicKey({ key: publicPart(key) as never, format: 'jwk' });
    bits = parsed.asymmetricKeyDetails?.modulusLength;
  } catch {
    return 'is not a valid public key';
  }
  if (key.kty === 'RSA' && (bits ?? 0) < MIN_RSA_BITS)
    return `is an RSA key of ${bits} bits: at least ${MIN_RSA_BITS} are needed`;
  return undefined;
}

/** The key's public members only (what is stored in Keycloak and shown). */
export function publicPart(key: Jwk): Jwk {
  const members = PUBLIC_MEMBERS[String(key.kty)] ?? [];
  return Object.fromEntries(
    members.filter((name) => key[name] !== undefined).map((name) => [name, key[name]]),
  );
}

/** Every failing key of a JWK Set, each named by its pointer. */
export function jwksErrors(jwks: Jwks, pointer = '/credential/jwks'): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Map<string, number>();
  jwks.keys.forEach((key, i) => {
    const reason = keyReason(key as Jwk);
    if (reason) {
      errors.push(error(`${pointer}/keys/${i}`, reason));
      return;
    }
    const kid = String((key as Jwk).kid);
    const first = seen.get(kid);
    if (first !== undefined)
      errors.push(error(`${pointer}/keys/${i}`, `repeats the kid "${kid}" of key ${first}`));
    else seen.set(kid, i);
  });
  return errors;
}

/** RFC 7638: base64url(SHA-256(the required members, lexically ordered, no white space)). */
export function jwkThumbprint(key: Jwk): string {
  const members = THUMBPRINT_MEMBERS[String(key.kty)] ?? [];
  const canonical = `{${members.map((name) => `${JSON.stringify(name)}:${JSON.stringify(key[name])}`).join(',')}}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

export const keyInfoOf = (jwks: Jwks | null): KeyInfo[] =>
  (jwks?.keys ?? []).map((key) => {
    const jwk = key as Jwk;
    return {
      kid: String(jwk.kid ?? ''),
      kty: String(jwk.kty),
      alg: typeof jwk.alg === 'string' ? jwk.alg : null,
      thumbprint: jwkThumbprint(jwk),
    };
  });

/** The JWK Set as stored: public members only. */
export const storedJwks = (jwks: Jwks): Jwks => ({
  keys: jwks.keys.map((key) => publicPart(key as Jwk)) as Jwks['keys'],
});

/**
 * The algorithm Keycloak requires of an assertion (`token.endpoint.auth.signing.alg`): the keys'
 * own when they all name the same one; otherwise none ("" lets Keycloak take any asymmetric
 * algorithm the key found by kid verifies).
 */
export function signingAlgOf(jwks: Jwks | null): string {
  const algs = new Set((jwks?.keys ?? []).map((key) => (key as Jwk).alg));
  const [only] = [...algs];
  return algs.size === 1 && typeof only === 'string' ? only : '';
}
