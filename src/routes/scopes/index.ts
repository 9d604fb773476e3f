import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ScopeList } from '../../api-clients/resource/schema-operations.js';
import { callerSecurity } from '../../http/docs.js';
import { success } from '../../http/responses.js';

export const scopeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/scopes',
    {
      config: { access: 'read' },
      schema: {
        tags: ['scopes'],
        security: callerSecurity,
        operationId: 'listScopes',
        summary: 'The scope catalogue',
        description: 'The scopes an API client may get, with their descriptions, as Keycloak holds them.',
        response: { 200: success(ScopeList, 'The catalogue') },
      },
    },
    async () => ({ items: await app.apiClients.scopes() }),
  );
};
