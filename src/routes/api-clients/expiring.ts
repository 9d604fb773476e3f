import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ExpiringList, ExpiringQuery } from '../../api-clients/resource/schema-operations.js';
import { callerSecurity as security } from '../../http/docs.js';
import { success } from '../../http/responses.js';

/** Platform-wide: the secrets that expire soon, for a platform's own notifier (platform admins only). */
export const expiringRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api-clients',
    {
      config: { access: 'platform' },
      schema: {
        tags: ['api-clients'],
        security,
        operationId: 'listExpiringSecrets',
        summary: 'Client secrets of every account that expire soon or have expired (platform admins)',
        description:
          'For a notifier that tells accounts before a key stops working (docs/operations.md shows a CronJob). ' +
          'Rows are in order of expiry, then clientId; `from` and `to` state the window searched. Each week of ' +
          'the window is one indexed Keycloak query, read until the page is full. Clients of every account are ' +
          'listed: the route is refused to everyone but platform admins.',
        querystring: ExpiringQuery,
        response: { 200: success(ExpiringList, 'The secrets that expire in the window, paged') },
      },
    },
    async (request) => {
      const { expiringWithinDays, first = 0, max = 50 } = request.query;
      return app.apiClients.expiring({ withinDays: expiringWithinDays, first, max });
    },
  );
};
