import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problems, success } from '../../http/responses.js';
import { createReadiness } from './readiness.js';

const Status = Type.Object({ status: Type.Literal('ok') });

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // One cheap admin call proves Keycloak is reachable and accepts the service's own token
  // (obtained or renewed as needed); fails as keycloak-unavailable otherwise. Shared by concurrent
  // callers and reused for a second (readiness.ts): at most one Keycloak call a second.
  const ready = createReadiness(async () => {
    await app.keycloak.call('readiness', (client) => client.clients.find({ clientId: '', first: 0, max: 1 }));
  });

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
        summary:
          "Readiness: Keycloak answers and accepts the service's own token (a result at most a second old)",
        response: { 200: success(Status, 'Ready'), ...problems(503) },
      },
    },
    async () => {
      await ready();
      return { status: 'ok' as const };
    },
  );
};
