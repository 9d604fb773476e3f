// The API Clients service for UI backends: openapi-fetch over the types openapi-typescript
// generates from openapi/openapi.json (src/schema.d.ts; `npm run generate` rewrites it).
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

export type { components, operations, paths };
export type ApiClient = components['schemas']['ApiClient'];
export type ApiClientWithSecret = components['schemas']['ApiClientWithSecret'];
export type Problem = components['schemas']['Problem'];
export type ApiClientsClient = Client<paths>;

/** A bearer token, or a function that gives a current one (called before every request). */
export type TokenSource = string | (() => string | Promise<string>);

/**
 * A client of the service at `baseUrl` (e.g. `https://api-clients.example.com`), sending
 * `Authorization: Bearer <token>` on every request. Calls are typed by path and method:
 * `client.GET('/v1/accounts/{accountId}/api-clients/{clientId}', { params: { path: { accountId, clientId } } })`
 * answers `{ data, error, response }`, `error` being the problem (RFC 9457) of a refusal.
 */
export function createApiClientsClient(
  baseUrl: string,
  token: TokenSource,
  options: Omit<ClientOptions, 'baseUrl'> = {},
): ApiClientsClient {
  const client = createClient<paths>({ ...options, baseUrl });
  client.use({
    async onRequest({ request }) {
      request.headers.set('authorization', `Bearer ${typeof token === 'function' ? await token() : token}`);
      return request;
    },
  });
  return client;
}
