import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ApiClient, ApiClientSummary, ApiClientWithSecret } from '../api-clients/resource/schema.js';
import {
  HistoryRow,
  Limit,
  RotatedSecret,
  Secret,
  Usage,
} from '../api-clients/resource/schema-operations.js';
import type { Config } from '../config.js';
import { Problem } from '../lib/problem.js';

export const apiInfo = {
  title: 'API Clients service',
  version: '1.0.0',
  description:
    'Manage the OAuth 2.0 / OpenID Connect API clients of a customer account, on top of Keycloak. ' +
    'Every answer that is not a success is an RFC 9457 problem (application/problem+json) whose ' +
    '`type` is `urn:api-clients:problem:<name>`.',
};

/** The extension a route's body schema carries when the body may be left out. */
export const OPTIONAL_BODY = 'x-optional-body';

type Operation = { requestBody?: { required?: boolean; content?: Record<string, { schema?: object }> } };

function optionalBodies<T extends { paths?: object }>(document: T): T {
  for (const path of Object.values(document.paths ?? {}) as Record<string, Operation>[]) {
    for (const operation of Object.values(path)) {
      const schemas = Object.values(operation.requestBody?.content ?? {}).map((media) => media.schema);
      if (operation.requestBody && schemas.some((schema) => schema && OPTIONAL_BODY in schema)) {
        operation.requestBody.required = false;
      }
    }
  }
  return document;
}

/** The OpenAPI 3.1 document (/openapi.json) and Swagger UI (/docs). */
export const docsPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    for (const schema of [
      Problem,
      ApiClient,
      ApiClientWithSecret,
      ApiClientSummary,
      Limit,
      Secret,
      RotatedSecret,
      HistoryRow,
      Usage,
    ])
      app.addSchema(schema);
    const realmUrl = `${config.keycloak.publicUrl}/realms/${encodeURIComponent(config.keycloak.realm)}`;
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: apiInfo,
        tags: [
          { name: 'api-clients', description: "An account's OAuth 2.0 / OIDC clients" },
          { name: 'secrets', description: 'Reveal and regenerate client secrets' },
          { name: 'limits', description: 'Per-account limit of API clients' },
          { name: 'activity', description: 'Who changed what (history) and how much a client is used' },
          { name: 'scopes', description: 'The catalogue of scopes a client may get' },
          { name: 'operations', description: 'Health, readiness, metrics' },
        ],
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
            keycloak: {
              type: 'oauth2',
              description: 'Log in through Keycloak (authorization code with PKCE)',
              flows: {
                authorizationCode: {
                  authorizationUrl: `${realmUrl}/protocol/openid-connect/auth`,
                  tokenUrl: `${realmUrl}/protocol/openid-connect/token`,
                  scopes: {},
                },
              },
            },
          },
        },
      },
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) =>
          typeof json.$id === 'string' ? json.$id : `def-${i}`,
      },
      // @fastify/swagger marks every body required; a body schema with OPTIONAL_BODY is not.
      transformObject: (documents) =>
        'openapiObject' in documents ? optionalBodies(documents.openapiObject) : documents.swaggerObject,
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      initOAuth: {
        clientId: config.auth.docsClientId,
        usePkceWithAuthorizationCodeGrant: true,
        scopes: ['openid'],
      },
      uiConfig: { persistAuthorization: false, displayRequestDuration: true, tryItOutEnabled: true },
    });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'docs' },
);

/** Every management route: a bearer token, or a login through Keycloak from Swagger UI. */
export const callerSecurity: { [scheme: string]: string[] }[] = [{ bearer: [] }, { keycloak: [] }];
