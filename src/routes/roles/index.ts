import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { RoleList } from '../../api-clients/schema.js';
import { callerSecurity } from '../../http/docs.js';
import { problemResponses } from '../../http/problem.js';

export const roleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/roles',
    {
      config: { access: 'read' },
      schema: {
        tags: ['roles'],
        security: callerSecurity,
        summary: 'The role catalogue',
        description:
          'The roles an API client may hold (what an application key may view or change), with their descriptions, as Keycloak holds them.',
        response: { 200: RoleList, ...problemResponses(401, 403, 429, 503) },
      },
    },
    async () => ({ items: await app.apiClients.roles() }),
  );
};
