import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Every Prometheus metric the service exposes, in one registry per app instance. */
export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  keycloakRequests: Counter<'operation' | 'outcome'>;
  keycloakDuration: Histogram<'operation' | 'outcome'>;
  tokenRenewals: Counter<'outcome'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration, by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets,
      registers: [registry],
    }),
    keycloakRequests: new Counter({
      name: 'keycloak_requests_total',
      help: 'Keycloak admin API calls, by operation and outcome (ok, not_found, conflict, client_error, unavailable)',
      labelNames: ['operation', 'outcome'],
      registers: [registry],
    }),
    keycloakDuration: new Histogram({
      name: 'keycloak_request_duration_seconds',
      help: 'Keycloak admin API call duration, by operation and outcome',
      labelNames: ['operation', 'outcome'],
      buckets,
      registers: [registry],
    }),
    tokenRenewals: new Counter({
      name: 'keycloak_token_renewals_total',
      help: "Logins of the service's own client to Keycloak (client credentials), by outcome",
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}

/** The Keycloak admin connection's reports (src/keycloak/admin.ts KeycloakObserver), as metrics. */
export function keycloakObserver(metrics: Metrics) {
  return {
    onCall(operation: string, outcome: string, seconds: number): void {
      metrics.keycloakRequests.inc({ operation, outcome });
      metrics.keycloakDuration.observe({ operation, outcome }, seconds);
    },
    onTokenRenewal(outcome: 'success' | 'failure'): void {
      metrics.tokenRenewals.inc({ outcome });
    },
  };
}
