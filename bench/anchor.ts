// The thin proxy: the least a Node service must do to answer "get one client" and "list an
// account's clients" on top of Keycloak (issue 26). It is the benchmark's anchor, not a product:
// `npm run bench` starts it as a child process beside the service (bench/lib/anchor.ts) and
// compares the two per request (req/s, CPU, RSS).
//
// Per request it does what the service cannot skip, and nothing else:
// - verifies the bearer token (jose, the realm's JWKS fetched once and cached; each distinct token
//   verified once, as the service does) and checks the caller's account or platform role;
// - makes one Keycloak admin call over a keep-alive undici Pool, with its own service-account
//   token cached until shortly before it expires;
// - answers JSON: the client's clientId, name, description and enabled, or a list of them.
// No access log, metrics, rate limits, schemas or problem details: those are the service's
// behaviours the comparison prices.
//
// Run by Node 24 itself (type stripping): `node bench/anchor.ts`, configured by environment
// (KEYCLOAK_URL, KEYCLOAK_REALM, KEYCLOAK_CLIENT_ID, KEYCLOAK_CLIENT_SECRET, PORT).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { Pool } from 'undici';

const keycloakUrl = (process.env.KEYCLOAK_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const realm = process.env.KEYCLOAK_REALM ?? 'platform';
const clientId = process.env.KEYCLOAK_CLIENT_ID ?? 'api-clients-service';
const clientSecret = process.env.KEYCLOAK_CLIENT_SECRET ?? '';
const port = Number(process.env.PORT ?? 0);
const ACCOUNT_ATTRIBUTE = 'api-clients.account';

const keycloak = new Pool(keycloakUrl, { connections: 16, keepAliveTimeout: 30_000 });
const realmPath = `/realms/${realm}`;
const issuer = `${keycloakUrl}${realmPath}`;
const jwks = createRemoteJWKSet(new URL(`${issuer}/protocol/openid-connect/certs`));

let serviceToken: { value: string; until: number } | undefined;
let renewing: Promise<string> | undefined;

async function adminToken(): Promise<string> {
  if (serviceToken && serviceToken.until > Date.now()) return serviceToken.value;
  renewing ??= (async () => {
    const started = Date.now();
    const { statusCode, body } = await keycloak.request({
      method: 'POST',
      path: `${realmPath}/protocol/openid-connect/token`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
      }).toString(),
    });
    const answer = (await body.json()) as { access_token?: string; expires_in?: number };
    if (statusCode !== 200 || !answer.access_token) throw new Error(`token: ${statusCode}`);
    serviceToken = {
      value: answer.access_token,
      until: started + ((answer.expires_in ?? 60) - 30) * 1000,
    };
    return answer.access_token;
  })().finally(() => {
    renewing = undefined;
  });
  return renewing;
}

interface Caller {
  accounts: string[];
  roles: string[];
}
const verified = new Map<string, { caller: Caller; expiresAt: number }>();

async function callerOf(request: IncomingMessage): Promise<Caller | undefined> {
  const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  if (!token) return undefined;
  const hit = verified.get(token);
  if (hit && hit.expiresAt > Date.now()) return hit.caller;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, jwks, { issuer, audience: 'api-clients-service' }));
  } catch {
    return undefined;
  }
  const claims = payload as { account_id?: unknown; realm_access?: { roles?: unknown } };
  const caller = {
    accounts: [claims.account_id ?? []].flat().map(String),
    roles: Array.isArray(claims.realm_access?.roles) ? claims.realm_access.roles.map(String) : [],
  };
  if (verified.size > 10_000) verified.clear();
  verified.set(token, { caller, expiresAt: Number(payload.exp) * 1000 });
  return caller;
}

async function admin(path: string): Promise<unknown> {
  const { statusCode, body } = await keycloak.request({
    method: 'GET',
    path: `/admin${realmPath}${path}`,
    headers: { authorization: `Bearer ${await adminToken()}`, accept: 'application/json' },
  });
  if (statusCode !== 200) {
    await body.dump();
    throw new Error(`Keycloak answered ${statusCode}`);
  }
  return body.json();
}

interface KeycloakClient {
  clientId?: string;
  name?: string;
  description?: string;
  enabled?: boolean;
}
const view = (c: KeycloakClient) => ({
  clientId: c.clientId,
  displayName: c.name ?? null,
  description: c.description ?? null,
  enabled: c.enabled ?? true,
});

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': status < 400 ? 'application/json' : 'application/problem+json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

const route = /^\/v1\/accounts\/([a-z0-9-]+)\/api-clients(?:\/([^/?]+))?$/;

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const match = request.method === 'GET' ? route.exec(request.url ?? '') : null;
  if (!match?.[1]) return send(response, 404, { status: 404 });
  const caller = await callerOf(request);
  if (!caller) return send(response, 401, { status: 401 });
  const [, account, client] = match;
  if (!caller.roles.includes('platform-admin') && !caller.accounts.includes(account))
    return send(response, 403, { status: 403 });
  if (client) {
    const clientIdParam = decodeURIComponent(client);
    const found = (await admin(
      `/clients?clientId=${encodeURIComponent(clientIdParam)}&first=0&max=1`,
    )) as KeycloakClient[];
    const hit = found.find((c) => c.clientId === clientIdParam);
    return hit ? send(response, 200, view(hit)) : send(response, 404, { status: 404 });
  }
  const listed = (await admin(
    `/clients?q=${encodeURIComponent(`${ACCOUNT_ATTRIBUTE}:${account}`)}`,
  )) as KeycloakClient[];
  return send(response, 200, { items: listed.map(view), total: listed.length });
}

const server = createServer((request, response) => {
  handle(request, response).catch(() => {
    if (!response.headersSent) send(response, 502, { status: 502 });
    else response.destroy();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`anchor listening on ${typeof address === 'object' ? address?.port : address}\n`);
});
const stop = () => {
  server.close();
  server.closeAllConnections();
  void keycloak.close();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
