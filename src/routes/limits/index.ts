import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AccountParams, LimitUpdate } from '../../api-clients/schema.js';
import { callerSecurity as security } from '../../http/docs.js';
import { problemResponses } from '../../http/problem.js';

export const limitRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/accounts/:accountId/limits',
    {
      config: { access: 'read' },
      schema: {
        tags: ['limits'],
        security,
        summary: "The account's limit of API clients and how many it has",
        params: AccountParams,
        response: { 200: Type.Ref('Limit'), ...problemResponses(400, 401, 403, 429, 503) },
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
        summary: "Set the account's own limit (platform admins)",
        description:
          'Stored in Keycloak. Lowering it below the number of clients the account has deletes nothing; it only ' +
          'refuses new ones. `null` returns the account to the configured default.',
        params: AccountParams,
        body: LimitUpdate,
        response: { 200: Type.Ref('Limit'), ...problemResponses(400, 401, 403, 413, 415, 429, 503) },
      },
    },
    async (request) => app.apiClients.setLimit(request.params.accountId, request.body.maxApiClients),
  );
};
