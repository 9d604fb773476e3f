// Helpers of the security tests: the Keycloak admin REST API as the service's own client (to see
// what really is in Keycloak, independently of the service), tokens that must be refused, and a
// snapshot of one account as Keycloak holds it.
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type KeycloakAdminClient from '@keycloak/keycloak-admin-client';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import {
  type KeycloakClient,
  keycloakAccountClientIds,
  keycloakAdminGet,
  keycloakClient,
  keycloakSecret,
  serviceClientRole,
  tokenUrl,
} from '../support/keycloak.js';
import { masterAdmin } from './realm-admin.js';

/**
 * What the account is in Keycloak: the marked clients, the fixture client in full with its secret
 * and its roles (its role scope, and for a Script client its service account's role mappings), the
 * limit role.
 */
export interface AccountSnapshot {
  clientIds: string[];
  fixture:
    | {
        rep: KeycloakClient;
        secret: string | undefined;
        roleScope: string[];
        serviceAccountRoles: string[] | undefined;
      }
    | undefined;
  limit: unknown;
}

/** The names of the realm roles an admin API path lists, sorted. */
async function realmRoleNames(path: string): Promise<string[]> {
  const answer = await keycloakAdminGet<{ name: string }[]>(path);
  if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status}`);
  return answer.body.map((role) => role.name).sort();
}

let realmAdmin: { kc: KeycloakAdminClient; until: number } | undefined;
/** The master realm's admin (the service's own client may not read users), logged in again every 30 s. */
async function usersReader(): Promise<KeycloakAdminClient> {
  if (!realmAdmin || Date.now() > realmAdmin.until) {
    realmAdmin = { kc: await masterAdmin(), until: Date.now() + 30_000 };
  }
  return realmAdmin.kc;
}

/** A client's role scope and, when it has a service account, that user's realm roles. */
async function clientRoles(rep: KeycloakClient) {
  const roleScope = await realmRoleNames(`/clients/${rep.id}/scope-mappings/realm`);
  if (!rep.serviceAccountsEnabled) return { roleScope, serviceAccountRoles: undefined };
  const user = await keycloakAdminGet<{ id: string }>(`/clients/${rep.id}/service-account-user`);
  if (user.status !== 200) throw new Error(`service account of ${rep.clientId}: ${user.status}`);
  const mappings = await (await usersReader()).users.listRealmRoleMappings({ id: user.body.id });
  return { roleScope, serviceAccountRoles: mappings.map((role) => role.name as string).sort() };
}

export async function accountSnapshot(accountId: string, fixtureClientId: string): Promise<AccountSnapshot> {
  const fixtureRep = await keycloakClient(fixtureClientId);
  const limitRole = await serviceClientRole(`limit.${accountId}`);
  return {
    clientIds: await keycloakAccountClientIds(accountId),
    fixture: fixtureRep
      ? { rep: fixtureRep, secret: await keycloakSecret(fixtureRep.id), ...(await clientRoles(fixtureRep)) }
      : undefined,
    limit: limitRole === undefined ? null : { status: 200, attributes: limitRole.attributes },
  };
}

/** A password-grant token through any client of the realm. */
export async function passwordToken(clientId: string, username: string): Promise<string> {
  const response = await fetch(tokenUrl(), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: clientId, username, password: username }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token)
    throw new Error(`no token for ${username} via ${clientId}: ${JSON.stringify(body)}`);
  return body.access_token;
}

/**
 * A password-grant token asked of the same Keycloak under another host name: Keycloak (without a
 * strict hostname) names itself by the Host header, so the token is signed by the realm's real
 * key but carries another issuer.
 */
export async function tokenFromOtherHost(host: string, clientId: string, username: string): Promise<string> {
  const url = new URL(tokenUrl());
  const form = new URLSearchParams({
    grant_type: 'password',
    client_id: clientId,
    username,
    password: username,
  });
  const text = await new Promise<string>((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { host: `${host}:${url.port}`, 'content-type': 'application/x-www-form-urlencoded' },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          data += chunk;
        });
        res.on('end', () => resolve(data));
      },
    );
    req.on('error', reject);
    req.end(form.toString());
  });
  const body = JSON.parse(text) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token from host ${host}: ${text}`);
  return body.access_token;
}

/**
 * The claims of a real token signed with a key of our own (RS256), with a fresh iat/exp so that
 * the key (or the issuer) is the only thing wrong with it.
 */
export async function forgeToken(
  real: string,
  options: { kid?: string; issuer?: string } = {},
): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  const claims: JWTPayload = { ...decodeJwt(real) };
  delete claims.iat;
  delete claims.exp;
  if (options.issuer) claims.iss = options.issuer;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(options.kid ? { kid: options.kid } : {}) })
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(privateKey);
}

/** The same claims, HS256 over a secret of our own: an algorithm the realm never uses. */
export async function forgeHmacToken(real: string): Promise<string> {
  const claims: JWTPayload = { ...decodeJwt(real) };
  delete claims.iat;
  delete claims.exp;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: decodeProtectedHeader(real).kid ?? 'k' })
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(randomBytes(32));
}

/** The same claims, unsigned (`alg: none`). */
export function unsignedToken(real: string): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ ...decodeJwt(real), iat: now, exp: now + 600 })}.`;
}

/** A token source that asks again shortly before the token expires. */
export function renewing(get: () => Promise<string>): () => Promise<string> {
  let current: { value: string; until: number } | undefined;
  return async () => {
    if (current && current.until > Date.now()) return current.value;
    const value = await get();
    current = { value, until: (decodeJwt(value).exp ?? 0) * 1000 - 60_000 };
    return value;
  };
}

export const hex = (bytes = 3): string => randomBytes(bytes).toString('hex');
