// A browser at Keycloak's own login page, over plain HTTP: the authorization-code flow with PKCE,
// the login form (Keycloak's login.ftl, form id kc-form-login) filled in and posted, cookies kept
// per "browser" so that a second authorization rides on the SSO cookie (KEYCLOAK_IDENTITY) like a
// real browser would. No JavaScript is needed: Keycloak's login page is a plain HTML form.
import { createHash, randomBytes } from 'node:crypto';
import { realm as defaultRealm, keycloakUrl } from './keycloak.js';

/** The cookies of one browser (one host; path and expiry beyond Max-Age=0 are not modelled). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      if (at <= 0) continue;
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  has(name: string): boolean {
    return this.cookies.has(name);
  }
}

export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  /** Default `openid`. */
  scope?: string;
  /** e.g. `none`: no login page, an error redirect instead when a login would be needed. */
  prompt?: string;
  realm?: string;
}

/** Where the authorization ended: back at the client (with a code or an error) or on a Keycloak page. */
export interface AuthorizationOutcome {
  /** The authorization code, when Keycloak redirected back with one. */
  code?: string;
  /** The OAuth error of a redirect back (`access_denied`, `login_required`...). */
  error?: string;
  /** Keycloak's page when it did not redirect back: its status and text. */
  page?: { status: number; text: string };
  /** Whether Keycloak showed its login form on the way (false: the SSO cookie was enough). */
  sawLoginForm: boolean;
  codeVerifier: string;
}

const decodeHtml = (text: string): string =>
  text
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');

/** The action of Keycloak's login form, when the page is one. */
export const loginFormAction = (html: string): string | undefined => {
  const form = /<form[^>]*id="kc-form-login"[^>]*>/i.exec(html)?.[0];
  const action = form && /action="([^"]+)"/i.exec(form)?.[1];
  return action ? decodeHtml(action) : undefined;
};

async function send(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, {
    ...init,
    redirect: 'manual',
    headers: { ...(init.headers as Record<string, string>), cookie: jar.header() },
    signal: AbortSignal.timeout(30_000),
  });
  jar.store(response);
  return response;
}

/**
 * Runs one authorization: GET Keycloak's authorization endpoint, and when it shows its login form,
 * posts `username` and `password` to the form's action; follows Keycloak's own redirects until it
 * sends the browser back to `redirectUri` or shows a page.
 */
export async function authorizeInBrowser(
  jar: CookieJar,
  request: AuthorizationRequest,
  user?: { username: string; password: string },
): Promise<AuthorizationOutcome> {
  const codeVerifier = randomBytes(32).toString('base64url');
  const query = new URLSearchParams({
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    response_type: 'code',
    scope: request.scope ?? 'openid',
    state: randomBytes(8).toString('hex'),
    nonce: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...(request.prompt ? { prompt: request.prompt } : {}),
  });
  const realm = request.realm ?? defaultRealm;
  let response = await send(jar, `${keycloakUrl()}/realms/${realm}/protocol/openid-connect/auth?${query}`);
  let sawLoginForm = false;
  for (let hops = 0; hops < 10; hops++) {
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      const target = new URL(location, response.url || keycloakUrl());
      if (target.href.startsWith(request.redirectUri)) {
        // the response mode is query for the code flow
        const params = target.searchParams;
        return {
          code: params.get('code') ?? undefined,
          error: params.get('error') ?? undefined,
          sawLoginForm,
          codeVerifier,
        };
      }
      response = await send(jar, target.href);
      continue;
    }
    const text = await response.text();
    const action = loginFormAction(text);
    if (action && user && !sawLoginForm) {
      sawLoginForm = true;
      response = await send(jar, new URL(action, keycloakUrl()).href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          username: user.username,
          password: user.password,
          credentialId: '',
        }).toString(),
      });
      continue;
    }
    return { page: { status: response.status, text }, sawLoginForm: sawLoginForm || !!action, codeVerifier };
  }
  throw new Error('too many redirects at Keycloak');
}

/** Exchanges a code at the token endpoint, as the confidential client. */
export async function exchangeCode(
  outcome: AuthorizationOutcome,
  client: { clientId: string; secret: string; redirectUri: string; realm?: string },
): Promise<{
  status: number;
  body: { access_token?: string; scope?: string; id_token?: string; error?: string };
}> {
  const response = await fetch(
    `${keycloakUrl()}/realms/${client.realm ?? defaultRealm}/protocol/openid-connect/token`,
    {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: outcome.code ?? '',
        code_verifier: outcome.codeVerifier,
        redirect_uri: client.redirectUri,
        client_id: client.clientId,
        client_secret: client.secret,
      }),
    },
  );
  return { status: response.status, body: (await response.json()) as never };
}

/** A demo user of the realm import: the password is the username. */
export const demoUser = (username: string) => ({ username, password: username });
