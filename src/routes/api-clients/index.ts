import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { type BodyInput, readBody } from '../../api-clients/resource/input.js';
import {
  AccountParams,
  ApiClientCreate,
  ApiClientPatch,
  ApiClientReplace,
  ClientParams,
} from '../../api-clients/resource/schema.js';
import {
  ApiClientList,
  BulkDeleteRequest,
  BulkDeleteResult,
  ListQuery,
} from '../../api-clients/resource/schema-operations.js';
import { actorOf, grantorOf } from '../../auth/caller.js';
import { callerSecurity as security } from '../../http/docs.js';
import { type AjvError, fieldErrors } from '../../http/errors.js';
import { problems, success } from '../../http/responses.js';
import type { FieldError } from '../../lib/problem.js';

const tags = ['api-clients'];
const IfMatch = Type.Object({
  'if-match': Type.Optional(
    Type.String({ description: 'an ETag from GET: the change applies only if it still matches' }),
  ),
});
/**
 * Create, PUT and PATCH validate their body themselves (attachValidation): the body is read once
 * into fields and the schema's errors, which the service joins with the domain rules' so that one
 * answer lists every failing field. A failure of the path, query or headers is answered at once.
 */
function bodyInput(request: FastifyRequest): BodyInput {
  const failure = request.validationError as
    | (Error & { validation?: AjvError[]; validationContext?: string })
    | undefined;
  if (failure && (failure.validationContext !== 'body' || !failure.validation)) throw failure;
  const schemaErrors: FieldError[] = failure?.validation ? fieldErrors(failure.validation, 'body') : [];
  return readBody(request.body as unknown, schemaErrors);
}

/** Create, PUT and PATCH may also be refused because the body gives a role the caller does not hold. */
const roleNotHeld = {
  403: {
    ...problems(403)[403],
    description:
      'forbidden: the token may not act on this account or route; role-not-held: the body gives the client ' +
      'a catalogue role the caller does not hold (each named in `errors` as /roles/<i>), and nothing changed',
  },
};

const clientPath = (accountId: string, clientId: string) =>
  `/v1/accounts/${encodeURIComponent(accountId)}/api-clients/${encodeURIComponent(clientId)}`;

export const apiClientRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = app.apiClients;

  app.get(
    '/accounts/:accountId/api-clients',
    {
      config: { access: 'read' },
      schema: {
        tags,
        security,
        operationId: 'listApiClients',
        summary: "List the account's API clients",
        description:
          'Rows sorted by clientId. `search` keeps rows whose clientId or displayName contains it (case-insensitive); ' +
          '`total` counts them before `first`/`max`. `limit` is the account limit and how much of it is used.',
        params: AccountParams,
        querystring: ListQuery,
        response: { 200: success(ApiClientList, 'The page of rows') },
      },
    },
    async (request) => service.list(request.params.accountId, request.query),
  );

  app.post(
    '/accounts/:accountId/api-clients',
    {
      config: { access: 'write', audit: 'api-client.create' },
      attachValidation: true,
      schema: {
        tags,
        security,
        operationId: 'createApiClient',
        summary: 'Create an API client',
        description:
          'Keycloak generates the secret; this answer is one of the few that shows it (a `private-key-jwt` client ' +
          'has none). `clientId` must start with `{accountId}_`. Refused with limit-reached when the account is ' +
          'at its limit, and with role-not-held when `roles` names a role the caller does not hold (platform ' +
          "admins may give any catalogue role). A secret without `credential.expiresAt` gets now + the account's " +
          'maximum secret lifetime, when it has one.',
        params: AccountParams,
        body: ApiClientCreate,
        response: {
          201: success(
            Type.Ref('ApiClientWithSecret'),
            'Created; the body carries the secret',
            'location',
            'etag',
            'cache-control',
          ),
          ...problems(409),
          ...roleNotHeld,
        },
      },
    },
    async (request, reply) => {
      const { accountId } = request.params;
      const created = await service.create(
        accountId,
        bodyInput(request),
        grantorOf(request.caller),
        actorOf(request.caller),
      );
      reply
        .code(201)
        .header('location', clientPath(accountId, created.client.clientId))
        .header('etag', created.etag)
        .header('cache-control', 'no-store');
      return { ...created.client, ...(created.secret !== undefined ? { secret: created.secret } : {}) };
    },
  );

  app.get(
    '/accounts/:accountId/api-clients/:clientId',
    {
      config: { access: 'read' },
      schema: {
        tags,
        security,
        operationId: 'getApiClient',
        summary: "An API client's whole configuration",
        description:
          'The ETag header versions the answer, for If-Match on PUT, PATCH and DELETE. No secret here.',
        params: ClientParams,
        response: { 200: success(Type.Ref('ApiClient'), 'The client', 'etag'), ...problems(404) },
      },
    },
    async (request, reply) => {
      const { client, etag } = await service.get(request.params.accountId, request.params.clientId);
      reply.header('etag', etag);
      return client;
    },
  );

  /** PUT and PATCH differ only in their body schema: the service merges either over the current client. */
  const update = async (
    request: FastifyRequest<{
      Params: { accountId: string; clientId: string };
      Headers: { 'if-match'?: string };
    }>,
    reply: FastifyReply,
  ) => {
    const { accountId, clientId } = request.params;
    const updated = await service.update(
      accountId,
      clientId,
      bodyInput(request),
      grantorOf(request.caller),
      actorOf(request.caller),
      request.headers['if-match'],
    );
    if (updated.secret === undefined) return reply.header('etag', updated.etag).send(updated.client);
    // a switch to a secret: its one showing
    return reply
      .header('etag', updated.etag)
      .header('cache-control', 'no-store')
      .send({ ...updated.client, secret: updated.secret });
  };

  const updateOptions = <Body extends typeof ApiClientReplace | typeof ApiClientPatch>(
    operationId: string,
    consumes: string[],
    summary: string,
    description: string,
    body: Body,
  ) => ({
    config: { access: 'write' as const, audit: 'api-client.update' },
    attachValidation: true,
    schema: {
      tags,
      security,
      operationId,
      consumes,
      summary,
      description,
      params: ClientParams,
      headers: IfMatch,
      body,
      response: {
        200: success(
          Type.Ref('ApiClientWithSecret'),
          'The client as stored; with `secret` (and Cache-Control: no-store) when the credential was switched to a secret',
          'etag',
          'cache-control',
        ),
        ...problems(404, 412),
        ...roleNotHeld,
      },
    },
  });

  app.put(
    '/accounts/:accountId/api-clients/:clientId',
    updateOptions(
      'replaceApiClient',
      ['application/json'],
      'Replace every editable field',
      'Fields are all required (`credential` and `tokenSettings` may be left out: unchanged); clientId may be ' +
        'repeated but not changed (client-id-immutable). What a GET answered may be sent back: its read-only ' +
        'members (accountId, createdAt, lastUsedAt, previousSecretExpiresAt, credential.keys) are ignored. ' +
        'Changing `credential.type` switches the credential at once: the old one stops working, and a switch ' +
        'to `secret` answers the new secret, once.',
      ApiClientReplace,
    ),
    update,
  );

  app.patch(
    '/accounts/:accountId/api-clients/:clientId',
    updateOptions(
      'patchApiClient',
      ['application/merge-patch+json', 'application/json'],
      'Change some fields (JSON merge patch, RFC 7396)',
      'Send application/merge-patch+json (application/json is accepted too). A member set to null returns ' +
        'to its default; objects merge member by member (a `credential` of another type replaces the old one: ' +
        'see PUT). Read-only members are ignored.',
      ApiClientPatch,
    ),
    update,
  );

  app.delete(
    '/accounts/:accountId/api-clients/:clientId',
    {
      config: { access: 'write', audit: 'api-client.delete' },
      schema: {
        tags,
        security,
        operationId: 'deleteApiClient',
        summary: 'Delete an API client, permanently',
        description: 'The client and its credentials are gone from Keycloak: it gets no token any more.',
        params: ClientParams,
        headers: IfMatch,
        response: {
          204: success({ type: 'null' }, 'Deleted'),
          ...problems(404, 412),
        },
      },
    },
    async (request, reply) => {
      await service.remove(
        request.params.accountId,
        request.params.clientId,
        actorOf(request.caller),
        request.headers['if-match'],
      );
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/accounts/:accountId/api-clients/bulk-delete',
    {
      config: { access: 'write', audit: 'api-client.bulk-delete' },
      schema: {
        tags,
        security,
        operationId: 'bulkDeleteApiClients',
        summary: 'Delete several API clients',
        description: 'One result per requested id, in the order sent: deleted, not-found, or failed.',
        params: AccountParams,
        body: BulkDeleteRequest,
        response: { 200: success(BulkDeleteResult, 'One result per id') },
      },
    },
    async (request) =>
      service.bulkDelete(request.params.accountId, request.body.clientIds, actorOf(request.caller)),
  );
};
