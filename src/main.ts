// The entry point: `npm start` and the image run `node dist/main.js`, `npm run dev` runs this file
// through tsx. It holds no "am I the entry point?" test (comparing import.meta.url with argv[1]
// breaks for paths with spaces or `%`, on Windows, and for `node dist/main` without `.js`): it is
// only ever run, never imported.
import { loadConfig } from './config.js';
import { startServer } from './server.js';
import { startTracing } from './tracing.js';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  process.stderr.write(`Invalid configuration: ${(error as Error).message}\n`);
  process.exit(1);
}

// before the app is built: Fastify's and fetch's instrumentations hook in as they start
const tracing = await startTracing(process.env);

try {
  await startServer(config, { tracing });
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  if (
    (code === 'EADDRINUSE' || code === 'EACCES') &&
    (error as { listener?: string }).listener === 'metrics'
  ) {
    process.stderr.write(
      `Cannot listen for /metrics on ${config.metrics.host}:${config.metrics.port} (${code}); set METRICS_PORT (and METRICS_HOST) to another one, or METRICS_ON_PUBLIC_PORT=true.\n`,
    );
    process.exit(1);
  }
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    process.stderr.write(
      `Cannot listen on ${config.host}:${config.port} (${code}): ${code === 'EADDRINUSE' ? 'another process uses that port' : 'not allowed'}; set PORT (and HOST) to another one.\n`,
    );
    process.exit(1);
  }
  throw error;
}
