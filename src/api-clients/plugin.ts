import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { createClientsGateway } from '../keycloak/clients-gateway.js';
import { createTtlCache } from '../lib/cache.js';
import { accountMarkerOf, MANAGED_CLIENT_ID_PATTERN } from './access/ownership.js';
import { callBudgetFor, type LockOptions, leaseFor } from './consistency/account-lock.js';
import type { ResolveHost } from './resource/host-resolution.js';
import { type ApiClientsService, createApiClientsService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    apiClients: ApiClientsService;
    /** Whether a clientId (a token's azp) is an API client this service manages. */
    isManagedClient: (clientId: string) => Promise<boolean>;
  }
}

/** The API clients domain, over the app's Keycloak connection. */
export const apiClientsPlugin = fp(
  async (
    app: FastifyInstance,
    {
      config,
      now,
      lock,
      resolveHost,
    }: { config: Config; now?: () => Date; lock?: LockOptions; resolveHost?: ResolveHost },
  ) => {
    const gateway = createClientsGateway(app.keycloak);
    app.decorate(
      'apiClients',
      createApiClientsService(gateway, {
        serviceClientId: config.keycloak.clientId,
        defaultMaxApiClients: config.limits.defaultMaxApiClients,
        limitCacheTtlMs: config.limits.cacheTtlMs,
        roleScopeCacheTtlMs: config.roleScopeCacheTtlMs,
        historyMaxEvents: config.activity.historyMaxEvents,
        usage: { maxEvents: config.activity.usageMaxEvents, cacheTtlMs: config.activity.usageCacheTtlMs },
        allowWildcardWebOrigin: config.allowWildcardWebOrigin,
        secretRevealEnabled: config.secretRevealEnabled,
        defaultMaxSecretLifetimeDays: config.secrets.defaultMaxSecretLifetimeDays,
        allowOfflineAccess: config.tokens.allowOfflineAccess,
        urlSafety: config.urlSafety,
        resolveHost,
        // a lock's lease covers the Keycloak calls its holder makes, each up to the timeout
        lock: {
          leaseMs: leaseFor(config.keycloak.timeoutMs),
          callBudgetMs: callBudgetFor(config.keycloak.timeoutMs),
          ...lock,
        },
        now,
      }),
    );
    // A client keeps or loses the marker only by being created or deleted: 5 minutes is safe.
    const managed = createTtlCache<string, boolean>({
      ttlMs: 5 * 60_000,
      load: async (clientId) =>
        typeof accountMarkerOf((await gateway.findByClientId(clientId)) ?? {}) === 'string',
    });
    app.decorate('isManagedClient', async (clientId: string) =>
      MANAGED_CLIENT_ID_PATTERN.test(clientId) ? managed.get(clientId) : false,
    );
  },
  { name: 'api-clients', dependencies: ['keycloak'] },
);
