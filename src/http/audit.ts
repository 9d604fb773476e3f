import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes that change something or show a secret name their audit event. */
    audit?: string;
  }
}

/**
 * One structured audit line per change, reveal and regenerate: event, account, client, actor
 * (sub, azp), request id, outcome. Never the body, never a secret.
 */
export const auditPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onResponse', async (request, reply) => {
      const event = request.routeOptions.config.audit;
      if (!event) return;
      const params = (request.params ?? {}) as { accountId?: string; clientId?: string };
      const body = (request.body ?? {}) as { clientId?: unknown; clientIds?: unknown };
      const clientId =
        params.clientId ??
        (typeof body.clientId === 'string' ? body.clientId : undefined) ??
        (Array.isArray(body.clientIds)
          ? body.clientIds.filter((id) => typeof id === 'string').join(',')
          : undefined);
      request.log.info(
        {
          audit: {
            event,
            accountId: params.accountId ?? null,
            clientId: clientId ?? null,
            actor: { sub: request.caller?.subject ?? null, azp: request.caller?.clientId ?? null },
            requestId: request.id,
            outcome: reply.statusCode < 400 ? 'success' : 'failure',
            status: reply.statusCode,
          },
        },
        'audit',
      );
    });
  },
  { name: 'audit' },
);
