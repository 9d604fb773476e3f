import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';
import type { Config } from '../config.js';
import { createTtlCache } from '../lib/cache.js';
import { keycloakUnavailable, ProblemError } from '../lib/problem.js';
import type { Caller } from './caller.js';

export type TokenVerifier = (token: string) => Promise<Caller>;

/** How long a verified token is trusted without verifying it again (never past its exp). */
const VERIFIED_TTL_MS = 60_000;

function claimAt(payload: JWTPayload, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined),
      payload,
    );
}

const strings = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value)
      ? value.filter((v): v is string => typeof v === 'string')
      : [];

export const unauthorized = (detail: string, error: string | undefined = 'invalid_token') =>
  new ProblemError('unauthorized', detail, {
    headers: {
      'www-authenticate': error
        ? `Bearer realm="api-clients", error="${error}", error_description="${detail.replace(/"/g, "'")}"`
        : 'Bearer realm="api-clients"',
    },
  });

/**
 * Verifies a caller's bearer token against the realm's JWKS (cached by jose, fetched again on an
 * unknown key id), checking signature, issuer, expiry and audience, and reads the caller from it.
 */
export function createTokenVerifier(config: Config): TokenVerifier {
  const realmPath = `/realms/${encodeURIComponent(config.keycloak.realm)}`;
  const jwks = createRemoteJWKSet(
    new URL(`${config.keycloak.url}${realmPath}/protocol/openid-connect/certs`),
    {
      timeoutDuration: config.keycloak.timeoutMs,
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
    },
  );
  // Keycloak names itself by the URL it was reached at: accept the service's and the browsers'.
  const issuers = [...new Set([config.keycloak.url, config.keycloak.publicUrl])].map(
    (base) => `${base}${realmPath}`,
  );

  // Each distinct token is verified once, then kept until it expires (at most VERIFIED_TTL_MS, so
  // that a key Keycloak withdraws stops being trusted within that time too): a UI backend sends
  // the same token on every call, and verifying it costs more than the rest of a GET.
  const verified = createTtlCache<string, { caller: Caller; expiresAt: number }>({
    ttlMs: VERIFIED_TTL_MS,
    max: 10_000,
  });

  return async (token) => {
    const hit = verified.peek(token);
    if (hit && hit.expiresAt > Date.now()) return hit.caller;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: issuers,
        audience: config.auth.audience,
        algorithms: [
          'RS256',
          'RS384',
          'RS512',
          'PS256',
          'PS384',
          'PS512',
          'ES256',
          'ES384',
          'ES512',
          'EdDSA',
        ],
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw unauthorized('The token has expired');
      if (error instanceof errors.JWTClaimValidationFailed)
        throw unauthorized(`The token's ${error.claim} claim is not accepted`);
      if (
        error instanceof errors.JWKSTimeout ||
        (error instanceof TypeError && error.message === 'fetch failed')
      ) {
        throw keycloakUnavailable("Keycloak's signing keys could not be fetched", error);
      }
      throw unauthorized('The token is not valid');
    }
    const caller: Caller = {
      subject: String(payload.sub),
      username: typeof payload.preferred_username === 'string' ? payload.preferred_username : undefined,
      clientId: typeof payload.azp === 'string' ? payload.azp : '',
      accounts: new Set(strings(claimAt(payload, config.auth.accountClaim))),
      roles: new Set(strings(claimAt(payload, config.auth.rolesClaim))),
    };
    verified.set(token, { caller, expiresAt: Number(payload.exp) * 1000 });
    return caller;
  };
}
