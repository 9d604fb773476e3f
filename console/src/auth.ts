// Login through Keycloak: authorization code with PKCE (S256) as a public client, with
// oauth4webapi (https://github.com/panva/oauth4webapi) doing the protocol: state, the code
// challenge, the token request and the ID token's checks. Tokens live in memory only: a reload
// goes back through Keycloak, whose own session cookie makes that one redirect.
import * as oauth from 'oauth4webapi';
import type { ConsoleConfig } from '../../src/http/console-config.js';

export type { ConsoleConfig };

export interface Session {
  accessToken: string;
  idToken: string | undefined;
  refreshToken: string | undefined;
  /** ms since the epoch */
  expiresAt: number;
  claims: Record<string, unknown>;
}

const PENDING = 'api-clients-console.login';

/** The page Keycloak sends the browser back to: the console's own address, without query or hash. */
export const redirectUri = (): string => new URL('./', window.location.href).href;

function server(config: ConsoleConfig): oauth.AuthorizationServer {
  const issuer = `${config.keycloakUrl}/realms/${encodeURIComponent(config.realm)}`;
  return {
    issuer,
    authorization_endpoint: `${issuer}/protocol/openid-connect/auth`,
    token_endpoint: `${issuer}/protocol/openid-connect/token`,
    end_session_endpoint: `${issuer}/protocol/openid-connect/logout`,
    authorization_response_iss_parameter_supported: true,
  };
}

/** Plain http only for a Keycloak on this machine (development); anything else must be https. */
function requestOptions(config: ConsoleConfig) {
  const url = new URL(config.keycloakUrl);
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  return { [oauth.allowInsecureRequests]: url.protocol === 'http:' && local };
}

/** The claims of a JWT's payload, read without checking it: the service checks every token it gets. */
export function readClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
}

function toSession(answer: oauth.TokenEndpointResponse, previous?: Session): Session {
  return {
    accessToken: answer.access_token,
    idToken: answer.id_token ?? previous?.idToken,
    refreshToken: answer.refresh_token ?? previous?.refreshToken,
    expiresAt: Date.now() + (answer.expires_in ?? 60) * 1000,
    claims: readClaims(answer.access_token),
  };
}

/** Sends the browser to Keycloak's login page; `returnTo` is the console's hash route to come back to. */
export async function login(config: ConsoleConfig, returnTo: string): Promise<void> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, returnTo }));
  const url = new URL(server(config).authorization_endpoint as string);
  url.search = new URLSearchParams({
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    response_type: 'code',
    scope: 'openid',
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  }).toString();
  window.location.assign(url.href);
}

/**
 * On the way back from Keycloak (`?code=...&state=...`): the code for tokens. Answers undefined
 * when this page load is no such return, and the hash route to show otherwise.
 */
export async function completeLogin(
  config: ConsoleConfig,
): Promise<{ session: Session; returnTo: string } | undefined> {
  const current = new URL(window.location.href);
  if (!current.searchParams.has('state')) return undefined;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as {
    verifier: string;
    state: string;
    returnTo: string;
  } | null;
  sessionStorage.removeItem(PENDING);
  // the code must not stay in the address bar or the history
  window.history.replaceState(null, '', redirectUri());
  if (!pending) throw new Error('This login was not started here; log in again.');
  const as = server(config);
  const client: oauth.Client = { client_id: config.clientId };
  const params = oauth.validateAuthResponse(as, client, current.searchParams, pending.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(),
    params,
    redirectUri(),
    pending.verifier,
    requestOptions(config),
  );
  const answer = await oauth.processAuthorizationCodeResponse(as, client, response);
  return { session: toSession(answer), returnTo: pending.returnTo };
}

/** A session whose access token has at least 30 s left: refreshed through Keycloak when it has not. */
export async function fresh(config: ConsoleConfig, session: Session): Promise<Session> {
  if (session.expiresAt - Date.now() > 30_000 || !session.refreshToken) return session;
  const as = server(config);
  const client: oauth.Client = { client_id: config.clientId };
  const response = await oauth.refreshTokenGrantRequest(
    as,
    client,
    oauth.None(),
    session.refreshToken,
    requestOptions(config),
  );
  return toSession(await oauth.processRefreshTokenResponse(as, client, response), session);
}

/** Ends the Keycloak session (RP-initiated logout) and comes back to the console's login page. */
export function logout(config: ConsoleConfig, session: Session): void {
  const url = new URL(server(config).end_session_endpoint as string);
  url.search = new URLSearchParams({
    client_id: config.clientId,
    post_logout_redirect_uri: redirectUri(),
    ...(session.idToken ? { id_token_hint: session.idToken } : {}),
  }).toString();
  window.location.assign(url.href);
}

/** The value at a dot path of the claims (`realm_access.roles`), as the service reads it. */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (value, key) =>
        value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined,
      claims,
    );
}

const asList = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value)
      ? value.filter((v) => typeof v === 'string')
      : [];

export const accountsOf = (config: ConsoleConfig, session: Session): string[] =>
  asList(claimAt(session.claims, config.accountClaim));
export const rolesOf = (config: ConsoleConfig, session: Session): string[] =>
  asList(claimAt(session.claims, config.rolesClaim));
