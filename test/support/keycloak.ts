import { createHash } from 'node:crypto';
import { decodeJwt, type JWTPayload } from 'jose';
import { inject } from 'vitest';
import { ACCOUNT_ATTRIBUTE } from '../../src/api-clients/access/ownership.js';
import { type Config, loadConfig } from '../../src/config.js';

export const realm = 'platform';
export const serviceClient = { clientId: 'api-clients-service', secret: 'api-clients-service-dev-secret' };

export function keycloakUrl(): string {
  return inject('keycloakUrl');
}

// `node`: the Keycloak to ask, the run's own by default (the cluster test names each node).
export const tokenUrl = (node = keycloakUrl()): string =>
  `${node}/realms/${realm}/protocol/openid-connect/token`;

/** The service's configuration for tests: the run's Keycloak, defaults for everything else. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  const base = loadConfig({
    KEYCLOAK_URL: keycloakUrl(),
    KEYCLOAK_CLIENT_SECRET: serviceClient.secret,
    API_CLIENTS_DEV_MODE: 'true',
    // Test files refuse many requests on purpose from one address; security/refused-limit.test.ts lowers it.
    REFUSED_RATE_LIMIT_MAX: '1000000',
    LOG_LEVEL: 'silent',
    // Test workers share two cores with Keycloak: event-loop lag there says nothing about the
    // service. The load-shedding test switches it back on.
    LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
    // Tests read /metrics through app.inject; the default (a port of its own) is tested in
    // security/refused-limit.test.ts.
    METRICS_ON_PUBLIC_PORT: 'true',
  });
  return { ...base, ...overrides };
}

export interface TokenAnswer {
  status: number;
  body: { access_token?: string; error?: string; scope?: string; [key: string]: unknown };
}

/** Posts a form to the realm's token endpoint and returns Keycloak's answer as is. */
export async function requestToken(form: Record<string, string>, node?: string): Promise<TokenAnswer> {
  const response = await fetch(tokenUrl(node), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as TokenAnswer['body'] };
}

export async function clientCredentialsToken(
  clientId: string,
  clientSecret: string,
  node?: string,
): Promise<TokenAnswer> {
  return requestToken(
    { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
    node,
  );
}

/** The demo realm's resource server: the audience of every catalogue scope (demo secret). */
export const insightsApi = { clientId: 'insights-api', secret: 'insights-api-dev-secret' };

/** Keycloak's introspection of a token, asked by `as` (insights-api unless told). */
export async function introspect(token: string, as = insightsApi): Promise<Record<string, unknown>> {
  const response = await fetch(`${tokenUrl()}/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, client_id: as.clientId, client_secret: as.secret }),
  });
  if (response.status !== 200) throw new Error(`introspection answered ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

/** A demo user's access token (password grant through the realm's public CLI client). */
export async function userToken(username: 'alice' | 'victor' | 'gina' | 'mira' | 'paula'): Promise<string> {
  const answer = await requestToken({
    grant_type: 'password',
    client_id: 'api-clients-cli',
    username,
    password: username,
  });
  if (!answer.body.access_token) throw new Error(`no token for ${username}: ${JSON.stringify(answer.body)}`);
  return answer.body.access_token;
}

export const claims = (token: string): JWTPayload & Record<string, unknown> => decodeJwt(token);

export interface AdminAnswer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** Per Keycloak node: a token is only accepted by the node whose URL is its issuer. */
const adminTokens = new Map<string, { value: string; until: number }>();

/**
 * The service client's own token (manage-clients, view-clients, query-clients), kept for half
 * its lifetime: the token-renewal test shortens the lifespan of exactly this client's tokens.
 */
export async function serviceAccessToken(node = keycloakUrl()): Promise<string> {
  const kept = adminTokens.get(node);
  if (kept && Date.now() < kept.until) return kept.value;
  const answer = await clientCredentialsToken(serviceClient.clientId, serviceClient.secret, node);
  const value = answer.body.access_token;
  if (!value) throw new Error(`no service token: ${JSON.stringify(answer.body)}`);
  const lifetimeMs = Number(answer.body.expires_in ?? 60) * 1000;
  adminTokens.set(node, { value, until: Date.now() + lifetimeMs / 2 });
  return value;
}

/**
 * One call of Keycloak's admin REST API on the realm (`path` relative to /admin/realms/{realm}),
 * as the service's own client, straight to the real Keycloak: to look behind the service.
 */
export async function keycloakAdmin<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  node = keycloakUrl(),
): Promise<AdminAnswer<T>> {
  return adminRequest<T>({ realm, token: await serviceAccessToken(node), node }, method, path, body);
}

/** One admin API call on any realm with any bearer token (`path` relative to /admin/realms/{realm}). */
export async function adminRequest<T = unknown>(
  as: { realm: string; token: string; node?: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<AdminAnswer<T>> {
  const response = await fetch(`${as.node ?? keycloakUrl()}/admin/realms/${as.realm}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${as.token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text && /json/.test(response.headers.get('content-type') ?? '') ? JSON.parse(text) : text) as T,
    headers: response.headers,
  };
}

export const keycloakAdminGet = <T = unknown>(path: string, node?: string): Promise<AdminAnswer<T>> =>
  keycloakAdmin<T>('GET', path, undefined, node);

export interface KeycloakClient {
  id: string;
  clientId: string;
  name?: string;
  description?: string;
  attributes?: Record<string, string>;
  defaultClientScopes?: string[];
  [key: string]: unknown;
}

/**
 * The Keycloak client with this clientId, in full, as Keycloak holds it (or undefined): its
 * set-like lists sorted so that two reads compare equal, its secret as a hash (compared, never
 * printed in clear by a failing assertion).
 */
export async function keycloakClient(clientId: string, node?: string): Promise<KeycloakClient | undefined> {
  const { status, body } = await keycloakAdminGet<KeycloakClient[]>(
    `/clients?clientId=${encodeURIComponent(clientId)}`,
    node,
  );
  if (status !== 200) throw new Error(`GET clients answered ${status}`);
  const client = body.find((found) => found.clientId === clientId);
  if (!client) return undefined;
  // Keycloak answers these sets in no fixed order
  for (const list of ['defaultClientScopes', 'optionalClientScopes', 'redirectUris', 'webOrigins']) {
    if (Array.isArray(client[list])) client[list] = [...(client[list] as string[])].sort();
  }
  if (typeof client.secret === 'string')
    client.secret = `sha256:${createHash('sha256').update(client.secret).digest('hex')}`;
  return client;
}

/** The clientIds Keycloak holds for an account (by the service's account attribute), sorted. */
export async function keycloakAccountClientIds(accountId: string, node?: string): Promise<string[]> {
  const { body } = await keycloakAdminGet<{ clientId: string }[]>(
    `/clients?q=${encodeURIComponent(`${ACCOUNT_ATTRIBUTE}:${accountId}`)}&first=0&max=1000`,
    node,
  );
  return body.map((client) => client.clientId).sort();
}

/** Creates a client directly in Keycloak (not through the service) and answers its internal id. */
export async function createKeycloakClient(rep: Record<string, unknown>): Promise<string> {
  const answer = await keycloakAdmin('POST', '/clients', rep);
  if (answer.status !== 201)
    throw new Error(`create ${String(rep.clientId)}: ${answer.status} ${JSON.stringify(answer.body)}`);
  const id = answer.headers.get('location')?.split('/').pop();
  if (!id) throw new Error('Keycloak answered no Location');
  return id;
}

export async function deleteKeycloakClient(id: string): Promise<void> {
  const answer = await keycloakAdmin('DELETE', `/clients/${id}`);
  if (answer.status !== 204 && answer.status !== 404)
    throw new Error(`delete client ${id}: ${answer.status}`);
}

/** The client's current secret, straight from Keycloak. */
export async function keycloakSecret(id: string): Promise<string | undefined> {
  const answer = await keycloakAdmin<{ value?: string }>('GET', `/clients/${id}/client-secret`);
  return answer.status === 200 ? answer.body.value : undefined;
}

let serviceClientId: string | undefined;

/** Keycloak's internal id of the service's own client. */
export async function serviceClientUuid(): Promise<string> {
  serviceClientId ??= (await keycloakClient(serviceClient.clientId))?.id;
  if (!serviceClientId) throw new Error('the service client is not in the realm');
  return serviceClientId;
}

/** A role of the service's own client (the per-account lock.<account> and limit.<account>), or undefined. */
export async function serviceClientRole(
  name: string,
): Promise<{ id: string; attributes?: Record<string, string[]> } | undefined> {
  const answer = await keycloakAdmin<{ id: string; attributes?: Record<string, string[]> }>(
    'GET',
    `/clients/${await serviceClientUuid()}/roles/${encodeURIComponent(name)}`,
  );
  if (answer.status !== 200 && answer.status !== 404)
    throw new Error(`unexpected ${answer.status} reading role ${name}`);
  return answer.status === 200 ? answer.body : undefined;
}

/** The `maxApiClients` the account's limit role holds in Keycloak, or null without one. */
export async function keycloakAccountLimit(accountId: string): Promise<number | null> {
  const value = (await serviceClientRole(`limit.${accountId}`))?.attributes?.maxApiClients?.[0];
  return value === undefined ? null : Number(value);
}
