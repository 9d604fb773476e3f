// The only file that touches the process: configuration from the environment, logger,
// listen, and graceful shutdown on SIGTERM / SIGINT.
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { type Config, loadConfig } from './config.js';

export async function startServer(config: Config): Promise<Awaited<ReturnType<typeof buildApp>>> {
  const app = await buildApp(config);
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    await app.close();
  });
  await app.listen({ host: config.host, port: config.port });
  await app.listenMetrics();
  return app;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/src/server.ts')) {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`Invalid configuration: ${(error as Error).message}\n`);
    process.exit(1);
  }
  await startServer(config);
}
