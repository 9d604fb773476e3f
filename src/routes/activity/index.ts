// A client's history and usage, and the account's history (SPEC §3, §4 History and Usage): for
// viewers and admins of the account, and platform admins.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AccountParams, ClientParams } from '../../api-clients/resource/schema.js';
import { HistoryPage, HistoryQuery, UsageQuery } from '../../api-clients/resource/schema-operations.js';
import { callerSecurity as security } from '../../http/docs.js';
import { problems, success } from '../../http/responses.js';

const tags = ['activity'];
const HISTORY_DESCRIPTION =
  "From Keycloak's admin events (kept as long as the realm's adminEventsExpiration): each change the service " +
  'made carries who called it. Rows hold field names, never values or secrets.';

export const activityRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = app.apiClients;

  app.get(
    '/accounts/:accountId/api-clients/:clientId/history',
    {
      config: { access: 'read' },
      schema: {
        tags,
        security,
        operationId: 'getApiClientHistory',
        summary: "The client's changes, newest first",
        description: HISTORY_DESCRIPTION,
        params: ClientParams,
        querystring: HistoryQuery,
        response: { 200: success(HistoryPage, 'A page of rows'), ...problems(404) },
      },
    },
    async (request) =>
      service.clientHistory(
        request.params.accountId,
        request.params.clientId,
        request.query.first ?? 0,
        request.query.max ?? 20,
      ),
  );

  app.get(
    '/accounts/:accountId/history',
    {
      config: { access: 'read' },
      schema: {
        tags,
        security,
        operationId: 'getAccountHistory',
        summary: "The account's changes, deleted clients and limit changes included, newest first",
        description: `${HISTORY_DESCRIPTION} Keycloak cannot filter admin events by account: the service reads the realm's client events newest first, at most a bounded number per request (\`truncated\` says when it stopped there).`,
        params: AccountParams,
        querystring: HistoryQuery,
        response: { 200: success(HistoryPage, 'A page of rows') },
      },
    },
    async (request) =>
      service.accountHistory(request.params.accountId, request.query.first ?? 0, request.query.max ?? 20),
  );

  app.get(
    '/accounts/:accountId/api-clients/:clientId/usage',
    {
      config: { access: 'read' },
      schema: {
        tags,
        security,
        operationId: 'getApiClientUsage',
        summary: 'Tokens issued and refused client authentications per day',
        description:
          "From Keycloak's login events (CLIENT_LOGIN, CODE_TO_TOKEN, CLIENT_LOGIN_ERROR), as far as their retention " +
          'reaches; a longer `days` is refused (400). At most `countedUpTo` events are counted per answer ' +
          '(`truncated`); an answer is kept briefly by the service.',
        params: ClientParams,
        querystring: UsageQuery,
        response: { 200: success(Type.Ref('Usage'), 'Use per day'), ...problems(404) },
      },
    },
    async (request) =>
      service.usage(request.params.accountId, request.params.clientId, request.query.days ?? 14),
  );
};
