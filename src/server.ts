// The server's process concerns: logger, listen, and graceful shutdown on SIGTERM / SIGINT.
// src/main.ts is the entry point that calls it with the configuration from the environment.
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { loggerOptions } from './http/logger.js';
import type { Tracing } from './tracing.js';

export interface ServerOptions {
  /** Started by main.ts when OTEL_* asks for traces; flushed after the app has closed. */
  tracing?: Tracing;
}

export async function startServer(
  config: Config,
  options: ServerOptions = {},
): Promise<Awaited<ReturnType<typeof buildApp>>> {
  const app = await buildApp(config, {
    logger: loggerOptions(config.logLevel, { pretty: process.stdout.isTTY }),
  });
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    await app.close();
    await options.tracing?.shutdown().catch((error: unknown) => {
      app.log.warn({ err: error }, 'could not send the last spans');
    });
  });
  await app.listen({ host: config.host, port: config.port });
  // /metrics on a port of its own by default (METRICS_PORT), so that the public port never serves it
  try {
    const metricsAddress = await app.listenMetrics();
    if (metricsAddress) app.log.info({ address: metricsAddress }, 'metrics listening');
  } catch (error) {
    await app.close();
    throw Object.assign(error as Error, { listener: 'metrics' });
  }
  return app;
}
