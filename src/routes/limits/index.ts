import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AccountParams } from '../../api-clients/resource/schema.js';
import { LimitUpdate } from '../../api-clients/resource/schema-operations.js';
import { actorOf } from '../../auth/caller.js';
import { callerSecurity as security } from '../../http/docs.js';
import { success } from '../../http/responses.js';

export const limitRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/accounts/:accountId/limits',
    {
      config: { access: 'read' },
      schema: {
        tags: ['limits'],
        security,
        operationId: 'getLimits',
        summary: "The account's limit of API clients and how many it has",
        params: AccountParams,
        response: { 200: success(Type.Ref('Limit'), "The account's limit and use") },
      },
    },
    async (request) => app.apiClients.getLimit(request.params.accountId),
  );

  app.put(
    '/accounts/:accountId/limits',
    {
      config: { access: 'platform', audit: 'limits.update' },
      schema: {
        tags: ['limits'],
        security,
        operationId: 'setLimits',
        summary: "Set the account's own limit and maximum secret lifetime (platform admins)",
        description:
          'Stored in Keycloak. Lowering it below the number of clients the account has deletes nothing; it only ' +
          'refuses new ones. `null` returns the account to the configured default. `maxSecretLifetimeDays` ' +
          '(optional; left out: unchanged) bounds the expiry of the secrets created or regenerated from now on.',
        params: AccountParams,
        body: LimitUpdate,
        response: { 200: success(Type.Ref('Limit'), 'The limit now in force') },
      },
    },
    async (request) =>
      app.apiClients.setLimit(request.params.accountId, request.body, actorOf(request.caller)),
  );
};
