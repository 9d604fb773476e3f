import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import helmetHeaders from 'helmet';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Config } from '../config.js';
import { ProblemError, RETRY_AFTER_SECONDS } from '../lib/problem.js';

// The answers are JSON; Swagger UI (/docs) needs its scripts and Keycloak's token endpoint,
// so no blanket Content-Security-Policy, and its login popup comes back from Keycloak to
// /docs/static/oauth2-redirect.html and talks to its opener, which Cross-Origin-Opener-Policy
// would cut. Every other helmet header applies.
const securityHeaders = {
  contentSecurityPolicy: false,
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: { policy: 'same-site' as const },
};
const exposedHeaders = ['etag', 'location', 'retry-after', 'x-request-id'];

/**
 * The security and CORS headers of an answer no hook saw (Fastify's router refused it before
 * routing): the same helmet options, and the CORS headers @fastify/cors gives an allowed origin.
 */
export function refusalHeaders(config: Config) {
  const secure = helmetHeaders(securityHeaders);
  return (request: FastifyRequest, reply: FastifyReply): void => {
    secure(request.raw, reply.raw, () => undefined);
    reply.header('vary', 'Origin');
    const origin = request.headers.origin;
    if (origin && config.corsOrigins.includes(origin)) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-expose-headers', exposedHeaders.join(', '));
    }
  };
}

/**
 * Abuse limits that apply before anything else: security headers, CORS from the configured
 * allow-list, and load shedding that answers 503 instead of falling over.
 */
export const protectionPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    await app.register(helmet, securityHeaders);
    await app.register(cors, {
      origin: config.corsOrigins.length > 0 ? config.corsOrigins : false,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'if-match', 'x-request-id'],
      exposedHeaders,
      maxAge: 600,
    });
    // Event-loop delay only: utilisation sits near 1 for a moment after start-up (module
    // compilation) and would shed the first requests of a healthy process.
    await app.register(underPressure, {
      maxEventLoopDelay: config.loadShedding.maxEventLoopDelayMs,
      retryAfter: RETRY_AFTER_SECONDS,
      exposeStatusRoute: false,
      // Only the API is shed: health, metrics and the docs keep answering, so that an overloaded
      // replica stays observable (under-pressure lets a request through when this returns nothing).
      pressureHandler: (request, _reply, type, value) => {
        if (!request.url.startsWith('/v1/')) return;
        request.log.warn({ pressure: type, value }, 'shedding load');
        throw new ProblemError('overloaded', 'The service is overloaded; retry shortly', {
          headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
        });
      },
    });
  },
  { name: 'protection' },
);

/** Per-caller rate limit: the verified token's subject, else the address. Registered after auth. */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    await app.register(rateLimit, {
      hook: 'preHandler',
      max: config.rateLimit.max,
      timeWindow: config.rateLimit.windowMs,
      keyGenerator: (request) => (request.caller ? `sub:${request.caller.subject}` : `ip:${request.ip}`),
      errorResponseBuilder: (_request, context) =>
        new ProblemError(
          'rate-limited',
          `At most ${context.max} requests per ${context.after}; retry later`,
          {
            headers: { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
          },
        ),
    });
  },
  { name: 'rate-limit', dependencies: ['auth'] },
);

declare module 'fastify' {
  interface FastifyInstance {
    /** The refused-request limits (refusedRateLimitPlugin), which the auth hook consults. */
    refusals: RefusalLimits;
  }
  interface FastifyRequest {
    /** Whom a refusal of this request counts against: `sub:<verified subject>` or `ip:<address>`. */
    refusalKey?: string;
  }
}

export interface RefusalLimits {
  /**
   * Throws 429 when the key (`sub:<subject>` of a verified token, else `ip:<address>`) has used up
   * its refusals, and marks the request so that a refusal of it counts against that key.
   */
  check(request: FastifyRequest, key: string): Promise<void>;
}

/**
 * Refused requests (401, 403) are limited too (SPEC §5), by caller where the token names one and
 * by address otherwise, so that one shared address's failures do not lock everyone behind it out:
 *
 * - a 403 answers a verified token: it counts against the token's subject (`sub:`), and past the
 *   limit that subject gets 429 on every management route, from any address;
 * - a 401 answers a request whose token did not verify (none, forged, expired, another issuer):
 *   an unverified token names nobody (its claims could name anyone, a victim too), so it counts
 *   against the client address (request.ip, which honours TRUST_PROXY); past the limit the address
 *   gets 429 instead of 401 for requests without a valid token, while a caller whose token
 *   verifies still passes from that address.
 *
 * The auth hook (auth/plugin.ts) asks after verification, so a flood of bad tokens costs one
 * signature check each (the JWKS is cached; an unknown key id refetches it at most every 30 s) and
 * never a Keycloak call. Registered before auth; docs/consistency-edges.md.
 */
export const refusedRateLimitPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    const { max, windowMs } = config.refusedRateLimit;
    const refusals = new RateLimiterMemory({
      points: max,
      duration: Math.max(1, Math.ceil(windowMs / 1000)),
    });
    app.decorateRequest('refusalKey', undefined);
    app.decorate('refusals', {
      async check(request: FastifyRequest, key: string) {
        request.refusalKey = key;
        const seen = await refusals.get(key);
        if (seen && seen.consumedPoints >= max) {
          const whom = key.startsWith('sub:') ? 'this caller' : 'this address';
          throw new ProblemError('rate-limited', `Too many refused requests from ${whom}; retry later`, {
            headers: { 'retry-after': String(Math.max(1, Math.ceil(seen.msBeforeNext / 1000))) },
          });
        }
      },
    } satisfies RefusalLimits);
    app.addHook('onResponse', async (request, reply) => {
      if (reply.statusCode !== 401 && reply.statusCode !== 403) return;
      // a 403 the auth hook did not see (none today) counts against the address
      await refusals.penalty(request.refusalKey ?? `ip:${request.ip}`, 1);
    });
  },
  { name: 'refused-rate-limit' },
);
