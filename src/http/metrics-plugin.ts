import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createMetrics, type Metrics } from './metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
    /** Starts the separate /metrics listener when METRICS_PORT asks for one; otherwise does nothing. */
    listenMetrics(): Promise<string | undefined>;
  }
}

export interface MetricsOptions {
  /** false: no /metrics anywhere. */
  enabled: boolean;
  /** A port of its own for /metrics (on host), and none on the public port. */
  port?: number;
  host?: string;
}

const metricsRoute = {
  schema: {
    tags: ['operations'],
    operationId: 'getMetrics',
    summary: 'Prometheus metrics',
    produces: ['text/plain'],
    response: { 200: { description: 'Prometheus text exposition format', type: 'string' } },
  },
};

/** Request count, errors and duration per route, and the /metrics endpoint. */
export const metricsPlugin = fp(
  async (app: FastifyInstance, { metrics: options = { enabled: true } }: { metrics?: MetricsOptions }) => {
    const metrics = createMetrics();
    app.decorate('metrics', metrics);
    app.addHook('onResponse', async (request, reply) => {
      const labels = {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    });
    const serve = (server: FastifyInstance) =>
      server.get('/metrics', metricsRoute, async (_request, reply) => {
        reply.type(metrics.registry.contentType);
        return metrics.registry.metrics();
      });

    if (options.enabled && options.port === undefined) serve(app);
    // A listener of its own, built here but started only by listenMetrics() (buildApp starts nothing)
    const side = options.enabled && options.port !== undefined ? Fastify({ logger: false }) : undefined;
    if (side) serve(side);
    app.decorate('listenMetrics', async () =>
      side ? side.listen({ host: options.host ?? '127.0.0.1', port: options.port }) : undefined,
    );
    app.addHook('onClose', async () => {
      await side?.close();
    });
  },
  { name: 'metrics' },
);
