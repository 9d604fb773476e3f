import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { ProblemError } from '../lib/problem.js';
import type { ConsoleConfig } from './console-config.js';

/** Where `npm run build` puts the console: dist/console, beside src/ and dist/ alike. */
export const defaultConsoleDir = fileURLToPath(new URL('../../dist/console/', import.meta.url));

/**
 * The console's own policy: its scripts and styles from this origin only, and fetch to the
 * service and to Keycloak's token endpoint. The API's answers keep theirs (none: they are JSON).
 */
function contentSecurityPolicy(keycloakOrigin: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${keycloakOrigin}`,
    `form-action 'self' ${keycloakOrigin}`,
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "object-src 'none'",
  ].join('; ');
}

/**
 * The reference console (SPEC §8) at /console: the page `npm run build` writes to dist/console,
 * and /console/config.json. Without a build, /console answers a 404 problem that says how to build it.
 */
export async function consolePlugin(
  app: FastifyInstance,
  { config, dir = defaultConsoleDir }: { config: Config; dir?: string },
): Promise<void> {
  const consoleConfig: ConsoleConfig = {
    keycloakUrl: config.keycloak.publicUrl,
    realm: config.keycloak.realm,
    clientId: config.auth.consoleClientId,
    accountClaim: config.auth.accountClaim,
    rolesClaim: config.auth.rolesClaim,
    maxGracePeriodSeconds: config.secrets.maxGracePeriodSeconds,
    secretRevealEnabled: config.secretRevealEnabled,
  };
  const policy = contentSecurityPolicy(new URL(config.keycloak.publicUrl).origin);
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', policy);
    return payload;
  });
  const hide = { schema: { hide: true } };
  app.get('/console/config.json', hide, async (_request, reply) => {
    reply.header('cache-control', 'no-cache');
    return consoleConfig;
  });
  if (!existsSync(`${dir}/index.html`)) {
    const notBuilt = async () => {
      throw new ProblemError('not-found', 'The console is not built: run `npm run build` (or `npm run dev`)');
    };
    app.get('/console', hide, notBuilt);
    app.get('/console/*', hide, notBuilt);
    return;
  }
  // /console -> /console/, so that the page's relative asset URLs resolve under it
  app.get('/console', hide, async (_request, reply) => reply.redirect('/console/'));
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/console/',
    index: ['index.html'],
    wildcard: true,
    // hashed asset names never change; the page itself is checked on every load
    setHeaders: (reply, path) => {
      reply.header(
        'cache-control',
        path.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
      );
    },
  });
}
