import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problems, success } from '../../http/responses.js';

const Status = Type.Object({ status: Type.Literal('ok') });

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        operationId: 'getLiveness',
        summary: 'Liveness: the process is up',
        response: { 200: success(Status, 'Alive') },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        operationId: 'getReadiness',
        summary: "Readiness: Keycloak answers and accepts the service's own token",
        response: { 200: success(Status, 'Ready'), ...problems(503) },
      },
    },
    async () => {
      // One cheap admin call: proves Keycloak is reachable and that the service's own token
      // (obtained or renewed as needed) is accepted. Fails as keycloak-unavailable otherwise.
      await app.keycloak.call('readiness', (client) =>
        client.clients.find({ clientId: '', first: 0, max: 1 }),
      );
      return { status: 'ok' as const };
    },
  );
};
