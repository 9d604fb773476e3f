import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { type ClientsGateway, createClientsGateway } from '../keycloak/clients-gateway.js';
import { ACCOUNT_ATTRIBUTE } from './mapping.js';
import { type ApiClientsService, createApiClientsService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    apiClients: ApiClientsService;
    clientsGateway: ClientsGateway;
  }
}

/** The API clients domain, over the app's Keycloak connection. */
export const apiClientsPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    const gateway = createClientsGateway(app.keycloak, { serviceClientId: config.keycloak.clientId });
    app.decorate('clientsGateway', gateway);
    app.decorate(
      'apiClients',
      createApiClientsService(gateway, {
        defaultMaxApiClients: config.limits.defaultMaxApiClients,
        limitCacheTtlMs: config.limits.cacheTtlMs,
        allowWildcardWebOrigin: config.allowWildcardWebOrigin,
        secretRevealEnabled: config.secretRevealEnabled,
        allowOfflineAccess: config.tokens.allowOfflineAccess,
        urlSafety: config.urlSafety,
      }),
    );
  },
  { name: 'api-clients', dependencies: ['keycloak'] },
);

/** Whether a Keycloak client carries the service's account marker. */
export async function isManagedClient(gateway: ClientsGateway, clientId: string): Promise<boolean> {
  const rep = await gateway.findByClientId(clientId);
  return typeof (rep?.attributes as Record<string, unknown> | undefined)?.[ACCOUNT_ATTRIBUTE] === 'string';
}
