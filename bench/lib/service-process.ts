// The service as the benchmark runs it in a child process: buildApp(loadConfig(env)) and listen on
// 127.0.0.1 at a free port, which it reports to the parent over IPC. It stops (app.close()) when
// the parent says so, or when the parent is gone.
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';

export type ServiceMessage = { type: 'listening'; port: number } | { type: 'failed'; message: string };

try {
  const config = loadConfig(process.env);
  const app = await buildApp(config);
  let closing = false;
  const close = (code: number) => {
    if (closing) return;
    closing = true;
    void app
      .close()
      .catch(() => undefined)
      .then(() => process.exit(code));
  };
  process.on('message', (message) => {
    if (message === 'stop') close(0);
  });
  process.on('disconnect', () => close(0));
  process.on('SIGTERM', () => close(0));
  process.on('SIGINT', () => close(0));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the service listens on no TCP port');
  process.send?.({ type: 'listening', port: address.port } satisfies ServiceMessage);
} catch (error) {
  const message: ServiceMessage = { type: 'failed', message: (error as Error).message };
  if (process.send) process.send(message, () => process.exit(1));
  else process.exit(1);
}
