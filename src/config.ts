import envSchema from 'env-schema';
import ipaddr from 'ipaddr.js';
import { type Static, Type } from 'typebox';
import { allowedOrigin, originWithPort } from './api-clients/resource/url-safety.js';

const CommaList = Type.String({ default: '', description: 'comma-separated list' });

/** The service's whole configuration, from environment variables. docs/configuration.md lists every one. */
export const EnvSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
  /** Base URL the service uses to reach Keycloak, e.g. http://127.0.0.1:8080 */
  KEYCLOAK_URL: Type.String({ pattern: '^https?://\\S+$' }),
  /** Base URL browsers use to reach Keycloak (Swagger UI login); defaults to KEYCLOAK_URL. */
  KEYCLOAK_PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://\\S+$' })),
  KEYCLOAK_REALM: Type.String({ minLength: 1, default: 'platform' }),
  KEYCLOAK_CLIENT_ID: Type.String({ minLength: 1, default: 'api-clients-service' }),
  KEYCLOAK_CLIENT_SECRET: Type.String({ minLength: 1 }),
  /** Upper bound of one Keycloak call, in milliseconds. */
  KEYCLOAK_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 5000 }),
  /** Audience a caller's token must carry. */
  AUTH_AUDIENCE: Type.String({ minLength: 1, default: 'api-clients-service' }),
  /** Dot path of the roles claim in a caller's token. */
  AUTH_ROLES_CLAIM: Type.String({ minLength: 1, default: 'realm_access.roles' }),
  /** Claim naming the caller's account or accounts (string or array). */
  AUTH_ACCOUNT_CLAIM: Type.String({ minLength: 1, default: 'account_id' }),
  /** Public client used by Swagger UI's Authorize button. */
  DOCS_CLIENT_ID: Type.String({ minLength: 1, default: 'api-clients-docs' }),
  /** Public client the reference console (/console) logs in with. */
  CONSOLE_CLIENT_ID: Type.String({ minLength: 1, default: 'api-clients-console' }),
  DEFAULT_MAX_API_CLIENTS: Type.Integer({ minimum: 0, maximum: 10_000, default: 5 }),
  /** How long a replica keeps an account's limit before reading it from Keycloak again. */
  LIMIT_CACHE_TTL_MS: Type.Integer({ minimum: 0, maximum: 600_000, default: 10_000 }),
  /** How long a replica keeps a client's role scope for gets and lists (0: read it every time). */
  ROLE_SCOPE_CACHE_TTL_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 10_000 }),
  SECRET_REVEAL_ENABLED: Type.Boolean({ default: true }),
  /** The most Keycloak admin events one history request reads (docs/activity.md). */
  HISTORY_MAX_EVENTS: Type.Integer({ minimum: 100, maximum: 100_000, default: 2000 }),
  /** The most login events one usage answer counts, and how long a replica keeps an answer (docs/activity.md). */
  USAGE_MAX_EVENTS: Type.Integer({ minimum: 10, maximum: 1_000_000, default: 20_000 }),
  USAGE_CACHE_TTL_MS: Type.Integer({ minimum: 0, maximum: 600_000, default: 30_000 }),
  /** The longest grace period a regenerate may ask for, in seconds (default 7 days). */
  SECRET_MAX_GRACE_PERIOD_SECONDS: Type.Integer({ minimum: 0, maximum: 31_536_000, default: 604_800 }),
  /** Every account's maximum secret lifetime in days unless it has its own; empty: none. */
  DEFAULT_MAX_SECRET_LIFETIME_DAYS: Type.String({ default: '', pattern: '^(?:|[1-9][0-9]{0,4})$' }),
  ALLOW_WILDCARD_WEB_ORIGIN: Type.Boolean({ default: false }),
  CORS_ORIGINS: CommaList,
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 10_485_760, default: 65_536 }),
  RATE_LIMIT_MAX: Type.Integer({ minimum: 1, default: 600 }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({ minimum: 1000, default: 60_000 }),
  /** Answer 503 overloaded while the event loop lags more than this; 0 switches load shedding off. */
  LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 1000 }),
  /** Accept http:// for the URLs Keycloak's server calls (adminUrl, back-channel logout); development only. */
  ALLOW_HTTP_KEYCLOAK_CALLS: Type.Boolean({ default: false }),
  /** Host suffixes of the platform's own network, refused in URLs Keycloak calls (besides localhost, local, internal). */
  INTERNAL_HOST_SUFFIXES: CommaList,
  /**
   * Exact origins (scheme://host:port) Keycloak may call although internal or plain http: the
   * operator's own receivers, and a loopback receiver in tests. Empty by default.
   */
  KEYCLOAK_CALLS_ALLOWED_ORIGINS: CommaList,
  /**
   * The only origins (scheme://host:port) a federated client's issuer may have: the workload
   * identity issuers the platform accepts. Empty (the default): any issuer the URL rules allow.
   */
  FEDERATED_ISSUER_ORIGINS: CommaList,
  /** Let managed clients offer offline_access (offline tokens); off by default. */
  ALLOW_OFFLINE_ACCESS: Type.Boolean({ default: false }),
  /** Runs for development (npm run dev, the tests): only then is the demo realm's secret accepted. */
  API_CLIENTS_DEV_MODE: Type.Boolean({ default: false }),
  /** Which reverse proxies' X-Forwarded-For to believe: false, true, a hop count, or addresses/CIDRs. */
  TRUST_PROXY: Type.String({ default: 'false' }),
  /** Refused requests allowed per RATE_LIMIT_WINDOW_MS before 429: 403s per verified caller, 401s per client address. */
  REFUSED_RATE_LIMIT_MAX: Type.Integer({ minimum: 1, default: 120 }),
  /** false: no /metrics at all. */
  METRICS_ENABLED: Type.Boolean({ default: true }),
  /** The port of /metrics' own listener (on METRICS_HOST): never the public port unless told below. */
  METRICS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9464 }),
  METRICS_HOST: Type.Optional(Type.String({ minLength: 1 })),
  /** true: serve /metrics on the public port (PORT) instead, and open no port of its own. */
  METRICS_ON_PUBLIC_PORT: Type.Boolean({ default: false }),
});

/** The secret of the service's client in the demo realm (keycloak/demo/): committed, so never for production. */
export const DEVELOPMENT_CLIENT_SECRET = 'api-clients-service-dev-secret';
export type Env = Static<typeof EnvSchema>;

/** The configuration the app takes: the environment's values, grouped. Its type is derived from EnvSchema through toConfig. */
export type Config = ReturnType<typeof toConfig>;

const commaList = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** proxy-addr's names for address ranges, besides addresses and CIDRs. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** Fastify's trustProxy: which proxies' X-Forwarded-For names the client address. */
export type TrustProxy = boolean | number | string[];

function parseTrustProxy(value: string): TrustProxy {
  const text = value.trim().toLowerCase();
  if (text === '' || text === 'false') return false;
  if (text === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text);
  const entries = commaList(text);
  const valid = (entry: string) =>
    PROXY_RANGE_NAMES.includes(entry) || ipaddr.isValid(entry) || isCidr(entry);
  if (!entries.every(valid)) {
    throw new Error(
      'env/TRUST_PROXY must be false, true, a number of proxy hops, or a comma-separated list of addresses, CIDR ranges, loopback, linklocal or uniquelocal',
    );
  }
  return entries;
}

function isCidr(entry: string): boolean {
  try {
    ipaddr.parseCIDR(entry);
    return true;
  } catch {
    return false;
  }
}

const trimSlash = (url: string): string => url.replace(/\/+$/, '');

/** A list of exact origins, each entry as it is compared; a bad entry stops the start, named. */
function parseOrigins(name: string, value: string): string[] {
  return commaList(value).map((entry) => {
    const origin = allowedOrigin(entry);
    if (!origin) {
      throw new Error(
        `env/${name}: "${entry}" is not an exact origin: write scheme://host:port ` +
          '(http or https, the port written, no path, no wildcard), entries separated by commas',
      );
    }
    return origin;
  });
}

export function toConfig(env: Env) {
  return {
    host: env.HOST,
    port: env.PORT,
    logLevel: env.LOG_LEVEL,
    keycloak: {
      url: trimSlash(env.KEYCLOAK_URL),
      publicUrl: trimSlash(env.KEYCLOAK_PUBLIC_URL ?? env.KEYCLOAK_URL),
      realm: env.KEYCLOAK_REALM,
      clientId: env.KEYCLOAK_CLIENT_ID,
      clientSecret: env.KEYCLOAK_CLIENT_SECRET,
      timeoutMs: env.KEYCLOAK_TIMEOUT_MS,
    },
    auth: {
      audience: env.AUTH_AUDIENCE,
      rolesClaim: env.AUTH_ROLES_CLAIM,
      accountClaim: env.AUTH_ACCOUNT_CLAIM,
      docsClientId: env.DOCS_CLIENT_ID,
      consoleClientId: env.CONSOLE_CLIENT_ID,
    },
    limits: { defaultMaxApiClients: env.DEFAULT_MAX_API_CLIENTS, cacheTtlMs: env.LIMIT_CACHE_TTL_MS },
    roleScopeCacheTtlMs: env.ROLE_SCOPE_CACHE_TTL_MS,
    activity: {
      historyMaxEvents: env.HISTORY_MAX_EVENTS,
      usageMaxEvents: env.USAGE_MAX_EVENTS,
      usageCacheTtlMs: env.USAGE_CACHE_TTL_MS,
    },
    secretRevealEnabled: env.SECRET_REVEAL_ENABLED,
    secrets: {
      maxGracePeriodSeconds: env.SECRET_MAX_GRACE_PERIOD_SECONDS,
      defaultMaxSecretLifetimeDays:
        env.DEFAULT_MAX_SECRET_LIFETIME_DAYS === '' ? null : Number(env.DEFAULT_MAX_SECRET_LIFETIME_DAYS),
    },
    allowWildcardWebOrigin: env.ALLOW_WILDCARD_WEB_ORIGIN,
    corsOrigins: commaList(env.CORS_ORIGINS),
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    rateLimit: { max: env.RATE_LIMIT_MAX, windowMs: env.RATE_LIMIT_WINDOW_MS },
    loadShedding: { maxEventLoopDelayMs: env.LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS },
    urlSafety: {
      allowHttp: env.ALLOW_HTTP_KEYCLOAK_CALLS,
      internalSuffixes: commaList(env.INTERNAL_HOST_SUFFIXES),
      allowedOrigins: parseOrigins('KEYCLOAK_CALLS_ALLOWED_ORIGINS', env.KEYCLOAK_CALLS_ALLOWED_ORIGINS),
      federatedIssuerOrigins: parseOrigins('FEDERATED_ISSUER_ORIGINS', env.FEDERATED_ISSUER_ORIGINS),
      keycloakOrigins: [env.KEYCLOAK_URL, env.KEYCLOAK_PUBLIC_URL ?? env.KEYCLOAK_URL].map((url) =>
        originWithPort(new URL(url)),
      ),
    },
    tokens: { allowOfflineAccess: env.ALLOW_OFFLINE_ACCESS },
    devMode: env.API_CLIENTS_DEV_MODE,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    refusedRateLimit: { max: env.REFUSED_RATE_LIMIT_MAX, windowMs: env.RATE_LIMIT_WINDOW_MS },
    /** port: a separate listener for /metrics, none on the public port; undefined: on the public port. */
    metrics: {
      enabled: env.METRICS_ENABLED,
      port: env.METRICS_ON_PUBLIC_PORT ? undefined : env.METRICS_PORT,
      host: env.METRICS_HOST ?? env.HOST,
    } as {
      enabled: boolean;
      port?: number;
      host: string;
    },
  };
}

/** Refuses the demo realm's committed secret unless the service was told it runs for development. */
function refuseDevelopmentSecret(env: Env): void {
  if (env.KEYCLOAK_CLIENT_SECRET === DEVELOPMENT_CLIENT_SECRET && !env.API_CLIENTS_DEV_MODE) {
    throw new Error(
      "env/KEYCLOAK_CLIENT_SECRET is the demo realm's development secret, which is public: " +
        "give the service its client's own secret (npm run setup-realm prints it), " +
        'or set API_CLIENTS_DEV_MODE=true for local development',
    );
  }
}

/**
 * Reads and validates the environment. A bad or missing value throws an error whose message
 * names the variable, e.g. "env/PORT must be <= 65535".
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema<Env>({ schema: structuredClone(EnvSchema), data: env, env: false, dotenv: false });
  refuseDevelopmentSecret(parsed);
  return toConfig(parsed);
}
