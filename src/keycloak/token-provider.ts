import { KeycloakUnavailableError } from './errors.js';

export interface TokenProviderOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  /** Called after every successful login (for metrics). */
  onRenewal?: (outcome: 'success' | 'failure') => void;
  now?: () => number;
}

export interface TokenProvider {
  /** A valid access token of the service's own client; logs in only when needed. */
  getAccessToken(): Promise<string>;
  /** Forget the cached token (Keycloak refused it), so that the next call logs in again. */
  invalidate(token: string): void;
}

/** The service's own credentials were refused: a configuration error, not an outage. */
export class ServiceLoginRefusedError extends KeycloakUnavailableError {
  override name = 'ServiceLoginRefusedError';
}

interface CachedToken {
  token: string;
  /** After this instant a caller triggers a background renewal. */
  renewAt: number;
  /** After this instant the token is not handed out any more. */
  usableUntil: number;
}

/**
 * Client-credentials login with a cached token. Client-credentials grants carry no refresh
 * token, so the token is renewed by logging in again: in the background once 70% of its
 * lifetime has passed, and at most one login at a time however many requests wait for it.
 */
export function createTokenProvider(options: TokenProviderOptions): TokenProvider {
  const now = options.now ?? Date.now;
  let cached: CachedToken | undefined;
  let inFlight: Promise<CachedToken> | undefined;

  async function login(): Promise<CachedToken> {
    const started = now();
    let response: Response;
    try {
      response = await fetch(options.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: options.clientId,
          client_secret: options.clientSecret,
        }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      options.onRenewal?.('failure');
      throw new KeycloakUnavailableError('Keycloak token endpoint unreachable', { cause: error });
    }
    if (!response.ok) {
      options.onRenewal?.('failure');
      await response.body?.cancel();
      if (response.status === 400 || response.status === 401) {
        throw new ServiceLoginRefusedError(
          `Keycloak refused the service's own credentials (${response.status})`,
        );
      }
      throw new KeycloakUnavailableError(`Keycloak token endpoint answered ${response.status}`);
    }
    const body = (await response.json()) as { access_token?: string; expires_in?: number };
    if (typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
      options.onRenewal?.('failure');
      throw new KeycloakUnavailableError('Keycloak token endpoint answered without a token');
    }
    options.onRenewal?.('success');
    const lifetimeMs = body.expires_in * 1000;
    return {
      token: body.access_token,
      renewAt: started + lifetimeMs * 0.7,
      // keep a margin for clock skew and for the request that carries it
      usableUntil: started + lifetimeMs - Math.min(10_000, lifetimeMs * 0.1),
    };
  }

  function renew(): Promise<CachedToken> {
    if (!inFlight) {
      inFlight = login()
        .then((token) => {
          cached = token;
          return token;
        })
        .finally(() => {
          inFlight = undefined;
        });
    }
    return inFlight;
  }

  return {
    async getAccessToken() {
      const current = cached;
      const at = now();
      if (current && at < current.usableUntil) {
        if (at >= current.renewAt) renew().catch(() => undefined); // next caller retries
        return current.token;
      }
      return (await renew()).token;
    },
    invalidate(token) {
      if (cached?.token === token) cached = undefined;
    },
  };
}
