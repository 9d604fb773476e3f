// A client's secret (SPEC §3, §4 Secrets): reveal, regenerate with an optional grace period, end
// the grace period early, invalidate. Every answer that carries a secret is `Cache-Control: no-store`.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { ClientParams } from '../../api-clients/resource/schema.js';
import { RegenerateRequest } from '../../api-clients/resource/schema-operations.js';
import { actorOf } from '../../auth/caller.js';
import { callerSecurity as security } from '../../http/docs.js';
import { problems, success } from '../../http/responses.js';

const tags = ['secrets'];

export interface SecretRoutesOptions {
  /** The longest grace period a regenerate may ask for, in seconds. */
  maxGracePeriodSeconds: number;
}

const noStore = <T>(reply: FastifyReply, body: T): T => {
  reply.header('cache-control', 'no-store');
  return body;
};

export const secretRoutes: FastifyPluginAsyncTypebox<SecretRoutesOptions> = async (app, options) => {
  const service = app.apiClients;

  app.get(
    '/accounts/:accountId/api-clients/:clientId/secret',
    {
      config: { access: 'write', audit: 'api-client.secret.reveal' },
      schema: {
        tags,
        security,
        operationId: 'revealSecret',
        summary: 'Reveal the current secret',
        description: 'Forbidden when the service runs with SECRET_REVEAL_ENABLED=false.',
        params: ClientParams,
        response: { 200: success(Type.Ref('Secret'), 'The secret', 'cache-control'), ...problems(404, 409) },
      },
    },
    async (request, reply) =>
      noStore(reply, {
        secret: await service.revealSecret(request.params.accountId, request.params.clientId),
      }),
  );

  app.post(
    '/accounts/:accountId/api-clients/:clientId/secret',
    {
      config: { access: 'write', audit: 'api-client.secret.regenerate' },
      // The body is optional: a request without one is a regenerate without grace, as before.
      attachValidation: true,
      schema: {
        tags,
        security,
        operationId: 'regenerateSecret',
        summary: 'Regenerate the secret, with an optional grace period',
        description:
          "Keycloak generates a new secret. Without a body, or with `gracePeriodSeconds` 0, Keycloak's token " +
          'endpoint refuses the previous secret at once. With `gracePeriodSeconds` n (at most ' +
          `${options.maxGracePeriodSeconds}), Keycloak accepts both secrets until \`previousSecretExpiresAt\`, ` +
          'then only the new one; `DELETE .../secret/previous` ends that early. Regenerating again during a ' +
          'grace period makes the current secret the previous one: the older one is refused at once. ' +
          "`expiresAt`: when the new secret stops (at most the account's maximum secret lifetime from now; left " +
          'out: now + that maximum, or never). credential-not-secret (409) for a private-key-jwt client.',
        params: ClientParams,
        body: RegenerateRequest(options.maxGracePeriodSeconds),
        response: {
          200: success(
            Type.Ref('RotatedSecret'),
            'The new secret, and when the previous one stops',
            'cache-control',
          ),
          ...problems(404, 409),
        },
      },
    },
    async (request, reply) => {
      if (request.validationError && request.body !== undefined) throw request.validationError;
      const { accountId, clientId } = request.params;
      const grace = request.body?.gracePeriodSeconds ?? 0;
      return noStore(
        reply,
        await service.regenerateSecret(
          accountId,
          clientId,
          grace,
          actorOf(request.caller),
          request.body?.expiresAt,
        ),
      );
    },
  );

  app.delete(
    '/accounts/:accountId/api-clients/:clientId/secret/previous',
    {
      config: { access: 'write', audit: 'api-client.secret.end-grace-period' },
      schema: {
        tags,
        security,
        operationId: 'endSecretGracePeriod',
        summary: 'End the grace period now',
        description:
          "Keycloak's token endpoint refuses the previous secret from now on. 204 also when there is no grace period.",
        params: ClientParams,
        response: {
          204: success({ type: 'null' }, 'The previous secret is refused'),
          ...problems(404, 409),
        },
      },
    },
    async (request, reply) => {
      await service.endGracePeriod(
        request.params.accountId,
        request.params.clientId,
        actorOf(request.caller),
      );
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/accounts/:accountId/api-clients/:clientId/invalidate',
    {
      config: { access: 'write', audit: 'api-client.invalidate' },
      schema: {
        tags,
        security,
        operationId: 'invalidateApiClient',
        summary: "Invalidate the client's keys and secrets",
        description:
          'A new secret with no grace period, any previous secret refused, and every token Keycloak issued to the ' +
          "client so far revoked: Keycloak's introspection answers inactive for them and refuses their refresh " +
          "(the client's notBefore). Tokens asked for with the new secret after this answer are valid. Takes up " +
          'to a second: notBefore counts whole seconds.',
        params: ClientParams,
        response: {
          200: success(Type.Ref('Secret'), 'The new secret', 'cache-control'),
          ...problems(404, 409),
        },
      },
    },
    async (request, reply) =>
      noStore(reply, {
        secret: await service.invalidate(
          request.params.accountId,
          request.params.clientId,
          actorOf(request.caller),
        ),
      }),
  );
};
