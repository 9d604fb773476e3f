import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import type { LockOptions } from './api-clients/consistency/account-lock.js';
import { apiClientsPlugin } from './api-clients/plugin.js';
import type { ResolveHost } from './api-clients/resource/host-resolution.js';
import { authPlugin } from './auth/plugin.js';
import type { TokenVerifier } from './auth/verify.js';
import type { Config } from './config.js';
import { auditPlugin } from './http/audit.js';
import { consolePlugin } from './http/console.js';
import { docsPlugin } from './http/docs.js';
import { errorHandling, frameworkRefusal } from './http/errors.js';
import { loggerOptions, requestLogPlugin } from './http/logger.js';
import { keycloakObserver } from './http/metrics.js';
import { metricsPlugin } from './http/metrics-plugin.js';
import {
  protectionPlugin,
  rateLimitPlugin,
  refusalHeaders,
  refusedRateLimitPlugin,
} from './http/protection.js';
import { declareCommonProblems } from './http/responses.js';
import { createRouteTable, MAX_PARAM_LENGTH } from './http/route-table.js';
import { installValidators } from './http/validation.js';
import type { KeycloakAdmin } from './keycloak/admin.js';
import { isUnavailable } from './keycloak/errors.js';
import { keycloakPlugin } from './keycloak/plugin.js';
import { activityRoutes } from './routes/activity/index.js';
import { expiringRoutes } from './routes/api-clients/expiring.js';
import { apiClientRoutes } from './routes/api-clients/index.js';
import { secretRoutes } from './routes/api-clients/secrets.js';
import { healthRoutes } from './routes/health/index.js';
import { limitRoutes } from './routes/limits/index.js';
import { roleRoutes } from './routes/roles/index.js';
import { scopeRoutes } from './routes/scopes/index.js';

export interface AppDeps {
  /** A pino logger to use instead of the default one; tests pass their own to capture output. */
  loggerInstance?: FastifyBaseLogger;
  /** Logger options instead of the default ones (server.ts asks for pretty output on a terminal). */
  logger?: FastifyServerOptions['logger'];
  /** Where the default logger writes instead of stdout (tests: memory, to read what it censors). */
  logDestination?: { write(line: string): void };
  /** A Keycloak admin connection to use instead of one built from config (unit tests). */
  keycloak?: KeycloakAdmin;
  /** A bearer-token verifier to use instead of the realm's JWKS (unit tests). */
  verifier?: TokenVerifier;
  /** This replica's wall clock (tests: a replica whose clock is ahead). */
  now?: () => Date;
  /** Lock timing instead of the one derived from the Keycloak timeout (fault tests). */
  lock?: LockOptions;
  /** The built console's folder instead of dist/console (tests: one that is not built). */
  consoleDir?: string;
  /** Told of every route the app registers (tests: the access matrix covers each one). */
  onRoute?: (route: { method: string | string[]; url: string }) => void;
  /** How names in URLs Keycloak calls are looked up instead of the system's DNS (tests: no outside network). */
  resolveHost?: ResolveHost;
}

/** Fastify takes a hop count too, but its types do not say so: the same rule as a function. */
const hopsOrList = (trust: Config['trustProxy']) =>
  typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : trust;

/** Builds the service: registers everything, starts nothing, connects to nothing yet. */
export async function buildApp(config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const routes = createRouteTable();
  const app = Fastify({
    ...((deps.loggerInstance
      ? { loggerInstance: deps.loggerInstance }
      : {
          logger: deps.logger ?? {
            ...loggerOptions(config.logLevel),
            ...(deps.logDestination ? { stream: deps.logDestination } : {}),
          },
        }) as FastifyServerOptions),
    bodyLimit: config.bodyLimitBytes,
    // one line per request instead of two (requestLogPlugin)
    logController: new LogController({ disableRequestLogging: true }),
    // A caller's x-request-id is kept when it looks like an id; anything else gets a fresh one,
    // so that no caller writes arbitrary text into every log line of its request.
    requestIdHeader: false,
    genReqId: (request) => {
      const sent = request.headers['x-request-id'];
      return typeof sent === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(sent) ? sent : crypto.randomUUID();
    },
    ajv: { customOptions: { allErrors: true } },
    // every valid clientId (255 characters, more when percent-encoded) reaches every route
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: frameworkRefusal(refusalHeaders(config), isUnavailable),
    // request.ip: the peer, or behind the configured proxies the address they forwarded
    trustProxy: hopsOrList(config.trustProxy),
  }).withTypeProvider<TypeBoxTypeProvider>();
  installValidators(app);
  app.addHook('onRoute', (route) => {
    routes.add(route.method, route.url);
    deps.onRoute?.(route);
  });
  app.addHook('onRoute', declareCommonProblems);

  await app.register(errorHandling, { isUnavailable, routes });
  await app.register(requestLogPlugin);
  await app.register(docsPlugin, { config });
  await app.register(metricsPlugin, { metrics: config.metrics });
  await app.register(keycloakPlugin, {
    config: config.keycloak,
    observer: keycloakObserver(app.metrics),
    admin: deps.keycloak,
  });
  await app.register(apiClientsPlugin, {
    config,
    now: deps.now,
    lock: deps.lock,
    resolveHost: deps.resolveHost,
  });
  // Before authentication, so that refusals carry them too: request id, security headers, CORS
  // (a browser UI must be able to read a 401), load shedding.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  await app.register(protectionPlugin, { config });
  await app.register(refusedRateLimitPlugin, { config });
  await app.register(authPlugin, {
    config,
    verifier: deps.verifier,
    isManagedClient: app.isManagedClient,
    refusals: app.refusals,
  });
  // After it: the rate limit counts per verified caller.
  await app.register(rateLimitPlugin, { config });
  await app.register(auditPlugin);
  // Bodies are JSON: without Fastify's text/plain parser, any other type is 415.
  app.removeContentTypeParser('text/plain');
  // JSON merge patch bodies are JSON
  app.addContentTypeParser(
    'application/merge-patch+json',
    { parseAs: 'string', bodyLimit: config.bodyLimitBytes },
    app.getDefaultJsonParser('error', 'error'),
  );

  await app.register(healthRoutes);
  await app.register(consolePlugin, { config, dir: deps.consoleDir });
  await app.register(
    async (v1) => {
      await v1.register(apiClientRoutes);
      await v1.register(secretRoutes, { maxGracePeriodSeconds: config.secrets.maxGracePeriodSeconds });
      await v1.register(expiringRoutes);
      await v1.register(limitRoutes);
      await v1.register(activityRoutes);
      await v1.register(scopeRoutes);
      await v1.register(roleRoutes);
    },
    { prefix: '/v1' },
  );
  return app;
}
