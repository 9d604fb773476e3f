import KeycloakAdminClient from '@keycloak/keycloak-admin-client';
import type { Config } from '../config.js';
import type { Metrics } from '../http/metrics.js';
import { isConflict, isNotFound, isUnavailable, KeycloakUnavailableError, keycloakStatus } from './errors.js';
import { createTokenProvider, type TokenProvider } from './token-provider.js';

export interface KeycloakAdmin {
  /** The admin client, already bound to the managed realm and to the service's own token. */
  client: KeycloakAdminClient;
  tokens: TokenProvider;
  /**
   * Runs one admin API call: bounded by the configured timeout, timed and counted per
   * operation, retried once with a fresh token when Keycloak answers 401, and turned into
   * KeycloakUnavailableError when Keycloak is down, slow or failing.
   */
  call<T>(operation: string, run: (client: KeycloakAdminClient) => Promise<T>): Promise<T>;
}

function outcomeOf(error: unknown): string {
  if (isNotFound(error)) return 'not_found';
  if (isConflict(error)) return 'conflict';
  if (isUnavailable(error)) return 'unavailable';
  return 'client_error';
}

export function createKeycloakAdmin(config: Config['keycloak'], metrics: Metrics): KeycloakAdmin {
  const tokens = createTokenProvider({
    tokenUrl: `${config.url}/realms/${encodeURIComponent(config.realm)}/protocol/openid-connect/token`,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    timeoutMs: config.timeoutMs,
    onRenewal: (outcome) => metrics.tokenRenewals.inc({ outcome }),
  });
  const client = new KeycloakAdminClient({
    baseUrl: config.url,
    realmName: config.realm,
    timeout: config.timeoutMs,
  });
  let lastToken = '';
  client.registerTokenProvider({
    getAccessToken: async () => {
      lastToken = await tokens.getAccessToken();
      return lastToken;
    },
  });

  async function call<T>(operation: string, run: (client: KeycloakAdminClient) => Promise<T>): Promise<T> {
    const stopTimer = metrics.keycloakDuration.startTimer({ operation });
    try {
      let result: T;
      try {
        result = await run(client);
      } catch (error) {
        if (keycloakStatus(error) !== 401) throw error;
        tokens.invalidate(lastToken);
        result = await run(client);
      }
      metrics.keycloakRequests.inc({ operation, outcome: 'ok' });
      stopTimer({ outcome: 'ok' });
      return result;
    } catch (error) {
      const outcome = outcomeOf(error);
      metrics.keycloakRequests.inc({ operation, outcome });
      stopTimer({ outcome });
      if (outcome === 'unavailable' && !(error instanceof KeycloakUnavailableError)) {
        throw new KeycloakUnavailableError(`Keycloak ${operation} failed`, { cause: error });
      }
      throw error;
    }
  }

  return { client, tokens, call };
}
