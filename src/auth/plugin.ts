import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { ProblemError } from '../lib/problem.js';
import { type Access, authorize, type Caller } from './caller.js';
import { createTokenVerifier, type TokenVerifier, unauthorized } from './verify.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
  interface FastifyContextConfig {
    /** Set on every management route: what the caller needs. Routes without it are public. */
    access?: Access;
  }
}

export interface AuthOptions {
  config: Config;
  verifier?: TokenVerifier;
  /** Whether a clientId is an API client this service manages (src/api-clients/plugin.ts). */
  isManagedClient: (clientId: string) => Promise<boolean>;
  /** The refused-request limits (http/protection.ts): by verified caller, else by address. */
  refusals?: { check(request: FastifyRequest, key: string): Promise<void> };
}

function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  // RFC 6750 §3.1: no error code when the request carries no token at all
  if (!header) throw unauthorized('Send Authorization: Bearer <token>', undefined);
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
  if (!match?.[1]) throw unauthorized('The Authorization header is not a bearer token', undefined);
  return match[1];
}

/**
 * Every route that declares `config.access` gets its caller verified and authorised before
 * anything else runs: 401 without a valid token, 403 for a managed API client's own token, a
 * missing role, or an account the token does not name.
 */
export const authPlugin = fp(
  async (app: FastifyInstance, options: AuthOptions) => {
    const verify = options.verifier ?? createTokenVerifier(options.config);
    app.decorateRequest('caller', undefined);
    app.addHook('onRequest', async (request) => {
      const access = request.routeOptions.config.access;
      if (!access) return;
      let caller: Caller;
      try {
        caller = await verify(bearerToken(request));
      } catch (error) {
        // no verified caller: the refusal counts against the address, and a used-up address gets 429
        if (error instanceof ProblemError && error.status === 401)
          await options.refusals?.check(request, `ip:${request.ip}`);
        throw error;
      }
      await options.refusals?.check(request, `sub:${caller.subject}`);
      if (await options.isManagedClient(caller.clientId)) {
        throw new ProblemError('forbidden', 'An API client cannot manage API clients');
      }
      request.caller = caller;
      const params = request.params as { accountId?: string } | undefined;
      authorize(caller, access, params?.accountId);
    });
  },
  { name: 'auth' },
);
