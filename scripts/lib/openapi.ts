import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';

export const openapiFile = new URL('../../openapi/openapi.json', import.meta.url);

/**
 * The OpenAPI document as the code describes it. It is generated with a fixed configuration
 * (the local Keycloak of the quick start) so that the committed file does not depend on the
 * machine; a running service serves the same document with its own Keycloak URLs at /openapi.json.
 */
export async function generateOpenapi(): Promise<string> {
  const config = loadConfig({
    KEYCLOAK_URL: 'http://127.0.0.1:8080',
    KEYCLOAK_CLIENT_SECRET: 'unused',
    LOG_LEVEL: 'silent',
  });
  const app = await buildApp(config);
  await app.ready();
  const document = app.swagger();
  await app.close();
  return `${JSON.stringify(document, null, 2)}\n`;
}
