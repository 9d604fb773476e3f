import KeycloakAdminClient from '@keycloak/keycloak-admin-client';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Config } from '../config.js';
import { isConflict, isNotFound, isUnavailable, KeycloakUnavailableError, keycloakStatus } from './errors.js';
import { createTokenProvider, type TokenProvider } from './token-provider.js';

/** What the admin connection reports about itself (the app passes its metrics in). */
export interface KeycloakObserver {
  /** Called once per admin call with its outcome: ok, not_found, conflict, client_error, unavailable. */
  onCall(operation: string, outcome: string, seconds: number): void;
  onTokenRenewal(outcome: 'success' | 'failure'): void;
}

export const silentObserver: KeycloakObserver = { onCall() {}, onTokenRenewal() {} };

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

/** Keycloak calls' spans; a no-op until the process starts tracing (src/tracing.ts). */
const tracer = trace.getTracer('api-clients-service/keycloak');

function outcomeOf(error: unknown): string {
  if (isNotFound(error)) return 'not_found';
  if (isConflict(error)) return 'conflict';
  if (isUnavailable(error)) return 'unavailable';
  return 'client_error';
}

export function createKeycloakAdmin(
  config: Config['keycloak'],
  observer: KeycloakObserver = silentObserver,
): KeycloakAdmin {
  const tokens = createTokenProvider({
    tokenUrl: `${config.url}/realms/${encodeURIComponent(config.realm)}/protocol/openid-connect/token`,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    timeoutMs: config.timeoutMs,
    onRenewal: (outcome) => observer.onTokenRenewal(outcome),
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

  // one span per call, named for the gateway's operation; its HTTP exchanges (a login, a retry) are children
  const call = <T>(operation: string, run: (client: KeycloakAdminClient) => Promise<T>): Promise<T> =>
    tracer.startActiveSpan(
      `keycloak ${operation}`,
      { attributes: { 'keycloak.operation': operation } },
      async (span) => {
        try {
          return await observedCall(operation, run, (outcome) => {
            span.setAttribute('keycloak.outcome', outcome);
            if (outcome === 'unavailable') span.setStatus({ code: SpanStatusCode.ERROR });
          });
        } finally {
          span.end();
        }
      },
    );

  async function observedCall<T>(
    operation: string,
    run: (client: KeycloakAdminClient) => Promise<T>,
    onOutcome: (outcome: string) => void,
  ): Promise<T> {
    const started = performance.now();
    const report = (outcome: string) => {
      onOutcome(outcome);
      observer.onCall(operation, outcome, (performance.now() - started) / 1000);
    };
    try {
      let result: T;
      try {
        result = await run(client);
      } catch (error) {
        if (keycloakStatus(error) !== 401) throw error;
        tokens.invalidate(lastToken);
        result = await run(client);
      }
      report('ok');
      return result;
    } catch (error) {
      const outcome = outcomeOf(error);
      report(outcome);
      if (outcome === 'unavailable' && !(error instanceof KeycloakUnavailableError)) {
        throw new KeycloakUnavailableError(`Keycloak ${operation} failed`, { cause: error });
      }
      throw error;
    }
  }

  return { client, tokens, call };
}
