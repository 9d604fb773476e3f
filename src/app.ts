import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';
import { docsPlugin } from './http/docs.js';
import { errorHandling } from './http/errors.js';
import { metricsPlugin } from './http/metrics-plugin.js';
import { installValidators } from './http/validation.js';
import type { KeycloakAdmin } from './keycloak/admin.js';
import { keycloakPlugin } from './keycloak/plugin.js';
import { healthRoutes } from './routes/health/index.js';

export interface AppDeps {
  /** A pino logger to use instead of the default one; tests pass their own to capture output. */
  loggerInstance?: FastifyBaseLogger;
  /** A Keycloak admin connection to use instead of one built from config (unit tests). */
  keycloak?: KeycloakAdmin;
}

/** Paths that must never reach a log line in clear. */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.secret',
  '*.client_secret',
  '*.access_token',
  '*.refresh_token',
  '*.clientSecret',
];

export function defaultLogger(config: Config): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    redact: { paths: redactPaths, censor: '[redacted]' },
    ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty' } } : {}),
  };
}

/** Builds the service: registers everything, starts nothing, connects to nothing yet. */
export async function buildApp(config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...((deps.loggerInstance
      ? { loggerInstance: deps.loggerInstance }
      : { logger: defaultLogger(config) }) as FastifyServerOptions),
    bodyLimit: config.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    ajv: { customOptions: { allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  installValidators(app);

  await app.register(errorHandling);
  await app.register(metricsPlugin);
  await app.register(docsPlugin, { config });
  await app.register(keycloakPlugin, { config: config.keycloak, admin: deps.keycloak });
  await app.register(healthRoutes);
  return app;
}
