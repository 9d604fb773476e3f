import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { RoleList } from '../../api-clients/resource/schema-operations.js';
import { grantorOf } from '../../auth/caller.js';
import { callerSecurity } from '../../http/docs.js';
import { success } from '../../http/responses.js';

export const roleRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/roles',
    {
      config: { access: 'read' },
      schema: {
        tags: ['roles'],
        security: callerSecurity,
        operationId: 'listRoles',
        summary: 'The role catalogue',
        description:
          'The roles an API client may hold (what an application key may view or change), with their descriptions, as Keycloak holds them. ' +
          '`grantable` says whether this caller may give the role: it holds the role itself (its token carries it), or is a platform admin.',
        response: { 200: success(RoleList, 'The catalogue') },
      },
    },
    async (request) => ({ items: await app.apiClients.roles(grantorOf(request.caller)) }),
  );
};
