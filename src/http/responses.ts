// What each answer carries, declared once for the OpenAPI document: the headers of success and
// problem answers, and the problem answers every route can give whatever its own domain says.
import type { RouteOptions } from 'fastify';
import { problemResponses } from '../lib/problem.js';

const header = (description: string, schema: Record<string, unknown> = { type: 'string' }) => ({
  ...schema,
  description,
});

/** Every response header the service sends that a caller may read. */
export const responseHeaders = {
  'x-request-id': header('The request id, also the `instance` of a problem'),
  etag: header('Weak ETag of the resource as answered; send it back in If-Match'),
  location: header('The URL of the created resource', { type: 'string', format: 'uri-reference' }),
  'cache-control': header('`no-store`: the answer carries a secret', { type: 'string', enum: ['no-store'] }),
  'retry-after': header('Seconds to wait before trying again', { type: 'string', pattern: '^[0-9]+$' }),
  'www-authenticate': header('The bearer challenge (RFC 6750)'),
  allow: header('The methods the path has'),
};
export type ResponseHeader = keyof typeof responseHeaders;

const pick = (names: ResponseHeader[]) =>
  Object.fromEntries(['x-request-id' as const, ...names].map((name) => [name, responseHeaders[name]]));

/** A success answer: its schema (or a $ref), what it means, and the headers it carries. */
export const success = <S extends object>(schema: S, description: string, ...headers: ResponseHeader[]) => ({
  ...schema,
  description,
  headers: pick(headers),
});

/** The headers of each problem status: Retry-After on 429 and 503, the challenge on 401. */
export const problemHeaders: Partial<Record<number, ResponseHeader[]>> = {
  401: ['www-authenticate'],
  405: ['allow'],
  429: ['retry-after'],
  503: ['retry-after'],
};

/** Problem answers, each with its headers. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(
    Object.entries(problemResponses(...statuses)).map(([status, response]) => [
      status,
      { ...response, headers: pick(problemHeaders[Number(status)] ?? []) },
    ]),
  );
}

/**
 * Adds to a route's declared answers the problems any route can give: 500 (a bug); for a
 * management route (`config.access`) 401, 403, 429 and 503 (load shedding, Keycloak); 400 for a
 * route with path, query, header or body input, and 413/415 for one with a body. A route declares
 * only its own (404, 409, 412). An onRoute hook: it runs before the route's serializers are built
 * and before the document is generated.
 */
export function declareCommonProblems(route: RouteOptions): void {
  const schema = route.schema as Record<string, unknown> | undefined;
  if (!schema?.response || schema.hide) return;
  const statuses = [500];
  if ((route.config as { access?: string } | undefined)?.access) statuses.push(401, 403, 429, 503);
  if (schema.params || schema.querystring || schema.headers || schema.body) statuses.push(400);
  if (schema.body) statuses.push(413, 415);
  // a new schema object: route options may be shared (the metrics route serves two listeners)
  route.schema = {
    ...schema,
    response: { ...problems(...statuses), ...(schema.response as Record<string, unknown>) },
  };
}
