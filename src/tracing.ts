// OpenTelemetry traces, a process concern: main.ts starts them before the app is built, from the
// standard OTEL_* variables, and only when those ask for traces. One span per request (named by
// the route's operationId, by @fastify/otel), one per Keycloak call (src/keycloak/admin.ts), and
// one per HTTP exchange with Keycloak (undici, which also sends `traceparent`). No attribute holds
// a secret or a token: no headers, no bodies, query values replaced by REDACTED.
// The SDK and the instrumentations are imported only when traces are asked for: a service without
// OTEL_* loads none of them.
import type { Attributes, Span } from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';

export const ATTR_ACCOUNT_ID = 'api_clients.account_id';
export const ATTR_CLIENT_ID = 'api_clients.client_id';
const DEFAULT_SERVICE_NAME = 'api-clients-service';

export interface Tracing {
  /** Sends the spans still buffered, then stops; called on shutdown. */
  shutdown(): Promise<void>;
}

const isSet = (value: string | undefined): boolean => value !== undefined && value.trim() !== '';

/**
 * Whether the environment asks for traces: an OTLP endpoint or a traces exporter other than
 * `none`, and OTEL_SDK_DISABLED not true. Nothing set: no SDK, no instrumentation, no cost.
 */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (exporters.includes('none')) return false;
  return (
    exporters.length > 0 ||
    isSet(env.OTEL_EXPORTER_OTLP_ENDPOINT) ||
    isSet(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
  );
}

/** A URL without its credentials and with every query value replaced: `?q=REDACTED&max=REDACTED`. */
export function redactedUrl(url: URL): { full: string; query: string } {
  const names = [...url.searchParams.keys()];
  const query = names.length > 0 ? `?${names.map((name) => `${name}=REDACTED`).join('&')}` : '';
  return { full: `${url.protocol}//${url.host}${url.pathname}${query}`, query };
}

/** The account and client a request is about: from its path, or for a create from its body's clientId. */
export function requestIds(request: Pick<FastifyRequest, 'params' | 'body'>): Attributes {
  const params = (request.params ?? {}) as { accountId?: unknown; clientId?: unknown };
  const body = (request.body ?? {}) as { clientId?: unknown };
  const ids: Attributes = {};
  if (typeof params.accountId === 'string') ids[ATTR_ACCOUNT_ID] = params.accountId;
  const clientId = typeof params.clientId === 'string' ? params.clientId : body.clientId;
  if (typeof clientId === 'string') ids[ATTR_CLIENT_ID] = clientId;
  return ids;
}

/** The route's operationId (createApiClient), else `METHOD /route`, else the method alone. */
export function requestSpanName(request: Pick<FastifyRequest, 'method' | 'routeOptions'>): string {
  const operationId = (request.routeOptions.schema as { operationId?: unknown } | undefined)?.operationId;
  if (typeof operationId === 'string') return operationId;
  return request.routeOptions.url ? `${request.method} ${request.routeOptions.url}` : request.method;
}

function nameRequestSpan(span: Span, request: FastifyRequest): void {
  span.updateName(requestSpanName(request));
  // @fastify/otel records request.url, query string included
  span.setAttribute('url.path', request.url.split('?')[0] ?? '/');
  span.setAttributes(requestIds(request));
}

/** The instrumentations, configured so that no attribute can carry a secret. */
async function instrumentations() {
  const [{ FastifyOtelInstrumentation }, { UndiciInstrumentation }] = await Promise.all([
    import('@fastify/otel'),
    import('@opentelemetry/instrumentation-undici'),
  ]);
  return [
    new FastifyOtelInstrumentation({
      registerOnInitialization: true,
      // probes and scrapes would drown the requests that matter
      ignorePaths: ({ url }) => /^\/(healthz|readyz|metrics)(\?|$)/.test(url),
      // Spans for the handler and for the hooks that run after the body is read: they carry the
      // request's context past the body parser, so that their Keycloak calls stay in its trace.
      // onRequest hooks (the token check's JWKS fetch) run inside the request span already.
      instrumentHooks: ['preValidation', 'preHandler'],
      requestHook: nameRequestSpan,
      lifecycleHook: (span, { hookName, request }) => {
        if (hookName !== 'handler') return;
        // the body is parsed by now: a create names its client
        const ids = requestIds(request);
        span.updateName(`${requestSpanName(request)} handler`);
        span.setAttributes(ids);
        request.opentelemetry().span?.setAttributes(ids);
      },
    }),
    new UndiciInstrumentation({
      // headers are never recorded (no headersToSpanAttributes): no Authorization, no cookies
      startSpanHook: (request) => {
        const { full, query } = redactedUrl(new URL(request.path, request.origin));
        return { 'url.full': full, 'url.query': query };
      },
    }),
  ];
}

/** Starts the SDK when the environment asks for traces (tracingRequested); undefined otherwise. */
export async function startTracing(env: NodeJS.ProcessEnv): Promise<Tracing | undefined> {
  if (!tracingRequested(env)) return undefined;
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    ...(isSet(env.OTEL_SERVICE_NAME) ? {} : { serviceName: DEFAULT_SERVICE_NAME }),
    instrumentations: await instrumentations(),
    // traces only: metrics are Prometheus' (/metrics), logs are pino's JSON lines
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
