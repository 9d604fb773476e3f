// npm run dev: the quick start. Starts the pinned Keycloak from the local distribution (or uses
// KEYCLOAK_URL), then the service on http://localhost:3000 with Swagger UI at /docs.
// Ctrl-C stops both.
import closeWithGrace from 'close-with-grace';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { freePort, type RunningKeycloak, startLocalKeycloak, waitForRealm } from './lib/keycloak-local.js';

let keycloak: RunningKeycloak | undefined;
let keycloakUrl = process.env.KEYCLOAK_URL;
if (keycloakUrl) {
  await waitForRealm(keycloakUrl);
} else {
  const preferred = 8080;
  const httpPort = (await isFree(preferred)) ? preferred : await freePort();
  keycloak = await startLocalKeycloak({ httpPort });
  keycloakUrl = keycloak.url;
}

const config = loadConfig({
  KEYCLOAK_CLIENT_SECRET: 'api-clients-service-dev-secret',
  API_CLIENTS_DEV_MODE: 'true',
  CORS_ORIGINS: 'http://localhost:3000',
  ...process.env,
  KEYCLOAK_URL: keycloakUrl,
});
const app = await buildApp(config);
closeWithGrace({ delay: 15_000 }, async () => {
  await app.close();
  await keycloak?.stop();
});
await app.listen({ host: config.host, port: config.port });

const base = `http://localhost:${config.port}`;
console.log(`
API Clients service: ${base}   (Swagger UI: ${base}/docs)
Keycloak:            ${keycloakUrl}   (admin console: admin / admin)
Demo users (password = username): alice (admin of acme), victor (viewer of acme),
  gina (admin of globex), mira (viewer of acme and globex), paula (platform admin)
Press Ctrl-C to stop the service${keycloak ? ' and Keycloak' : ''}.
`);

async function isFree(port: number): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
