import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  type FieldError,
  keycloakUnavailable,
  PATTERN_REASON,
  ProblemError,
  toProblem,
} from '../lib/problem.js';
import type { RouteTable } from './route-table.js';

export interface AjvError {
  instancePath: string;
  schemaPath?: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** "#/properties/rootUrl/anyOf/1/type" → the anyOf and the branch whose type did not fit. */
const BRANCH_TYPE = /^(.*\/anyOf)\/(\d+)\/type$/;

/**
 * A nullable field is `anyOf [string with a pattern, null]`: a string that misses the pattern
 * fails both branches, and "must be null" would hide the one failure that matters. A branch's
 * type mismatch is dropped when another branch of the same anyOf accepted the type and failed
 * on something else (its pattern, or a member deeper in an object).
 */
function withoutDeadBranches(validation: AjvError[]): AjvError[] {
  const branchOf = (error: AjvError) => {
    const match = error.keyword === 'type' ? BRANCH_TYPE.exec(error.schemaPath ?? '') : null;
    return match ? { anyOf: match[1], branch: match[2] } : undefined;
  };
  return validation.filter((error) => {
    const own = branchOf(error);
    if (!own) return true;
    return !validation.some(
      (other) =>
        other !== error &&
        other.schemaPath?.startsWith(`${own.anyOf}/`) &&
        !other.schemaPath.startsWith(`${own.anyOf}/${own.branch}/`) &&
        branchOf(other)?.anyOf !== own.anyOf,
    );
  });
}

const escapePointer = (segment: string): string => segment.replace(/~/g, '~0').replace(/\//g, '~1');

/** One field error per failing field, with the JSON pointer of the field itself. */
export function fieldErrors(validation: AjvError[], part: string | undefined): FieldError[] {
  const where = (
    part === 'params' ? 'path' : part === 'querystring' ? 'query' : part === 'headers' ? 'header' : 'body'
  ) as FieldError['in'];
  const reasons = new Map<string, { types: string[]; other: string[] }>();
  for (const error of withoutDeadBranches(validation)) {
    let pointer = error.instancePath;
    // anyOf/oneOf restate their branches' failures, which are listed on their own
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf') continue;
    const entry = () => {
      const found = reasons.get(pointer) ?? { types: [], other: [] };
      reasons.set(pointer, found);
      return found;
    };
    if (error.keyword === 'required') {
      pointer += `/${escapePointer(String(error.params.missingProperty))}`;
      entry().other.push('is required');
    } else if (error.keyword === 'additionalProperties') {
      const name = String(error.params.additionalProperty);
      pointer += `/${escapePointer(name)}`;
      entry().other.push(readOnlyFields.has(name) ? 'is read-only' : 'is not a known field');
    } else if (error.keyword === 'type') {
      entry().types.push(String(error.params.type));
    } else if (error.keyword === 'pattern') {
      entry().other.push(`${PATTERN_REASON} ${String(error.params.pattern)}`);
    } else if (error.keyword === 'enum') {
      entry().other.push(`must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`);
    } else {
      entry().other.push(error.message ?? error.keyword);
    }
  }
  return [...reasons].flatMap(([pointer, { types, other }]) => [
    ...(types.length > 0
      ? [{ pointer, in: where, reason: `must be ${[...new Set(types)].join(' or ')}` }]
      : []),
    ...[...new Set(other)].map((reason) => ({ pointer, in: where, reason })),
  ]);
}

/** Members of the resource a caller sees but cannot set. */
const readOnlyFields = new Set(['accountId', 'createdAt', 'secret', 'lastUsedAt', 'previousSecretExpiresAt']);

export interface ErrorHandlingOptions {
  /** Whether an error says that Keycloak is down, slow or failing (src/keycloak/errors.ts). */
  isUnavailable: (error: unknown) => boolean;
  /** Every route's method and path, for 405 with Allow. */
  routes: RouteTable;
}

function classify(
  error: FastifyError & { validation?: AjvError[]; validationContext?: string },
  isUnavailable: ErrorHandlingOptions['isUnavailable'],
): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error.validation) {
    const errors = fieldErrors(error.validation, error.validationContext);
    return new ProblemError('validation-failed', `${errors.length} field(s) failed validation`, { errors });
  }
  if (isUnavailable(error)) {
    return keycloakUnavailable(
      'Keycloak is down, slow or failing; the request changed nothing. Try again shortly',
      error,
    );
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ProblemError('payload-too-large', 'The request body is larger than the service accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ProblemError('unsupported-media-type', 'Send the body as application/json');
    case 'FST_ERR_BAD_URL':
      return new ProblemError('validation-failed', 'The URL path is not valid percent-encoding', {
        errors: [{ pointer: '', in: 'path', reason: 'is not valid percent-encoding' }],
      });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      // unreachable while the limit is above the request line's (see route-table.ts); no resource has such a name
      return new ProblemError('not-found', 'No resource has so long a name');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ProblemError('validation-failed', error.message, { errors: [] });
  }
  if (error.statusCode === 400 && error instanceof SyntaxError) {
    return new ProblemError('validation-failed', 'The body is not valid JSON', { errors: [] });
  }
  if (error.statusCode === 429) {
    return new ProblemError('rate-limited', error.message);
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new ProblemError('validation-failed', error.message, { errors: [] });
  }
  return new ProblemError('internal-error', 'The service failed to handle the request', { cause: error });
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  problem: ProblemError,
): FastifyReply {
  if (problem.options.headers) reply.headers(problem.options.headers);
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .send(toProblem(problem, String(request.id)));
}

function answerError(request: FastifyRequest, reply: FastifyReply, problem: ProblemError, error: unknown) {
  if (problem.status >= 500) {
    request.log.error(
      { err: problem.options.cause ?? error, problemType: problem.problemType },
      'request failed',
    );
  } else {
    request.log.info({ problemType: problem.problemType, status: problem.status }, 'request refused');
  }
  return sendProblem(request, reply, problem);
}

/**
 * Fastify's `frameworkErrors`: what its router refuses before any route or hook runs (a path
 * parameter that is not valid percent-encoding). No onRequest hook has set the headers every
 * answer carries, so `commonHeaders` does (request id, security headers, CORS).
 */
export function frameworkRefusal(
  commonHeaders: (request: FastifyRequest, reply: FastifyReply) => void,
  isUnavailable: ErrorHandlingOptions['isUnavailable'],
) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-request-id', request.id);
    commonHeaders(request, reply);
    return answerError(request, reply, classify(error, isUnavailable), error);
  };
}

/** One error shape for the whole service: every error becomes application/problem+json. */
export const errorHandling = fp(
  async (app: FastifyInstance, { isUnavailable, routes }: ErrorHandlingOptions) => {
    app.setErrorHandler((error: FastifyError, request, reply) =>
      answerError(request, reply, classify(error, isUnavailable), error),
    );
    // Fastify refuses a QUERY without Content-Type (RFC 10008) with 400 before the not-found
    // handler runs; a path or method no route has is 404 or 405 whatever the body (found by the
    // fuzz run). preParsing runs after every onRequest hook, so the answer has all its headers.
    app.addHook('preParsing', async (request, reply) => {
      if (request.is404 ? request.method === 'QUERY' : isShadowed(request)) return unrouted(request, reply);
    });
    app.setNotFoundHandler(unrouted);

    /**
     * A route matched, but the path is another route's literal path: PUT .../bulk-delete is 405,
     * not a clientId. Only a parameter whose value is some route's literal segment can shadow one:
     * any other request skips the route table's search (one find per method, on every request).
     */
    function isShadowed(request: FastifyRequest): boolean {
      const pattern = request.routeOptions.url;
      // '*' is the CORS preflight route, on every path
      if (pattern === undefined || pattern === '*' || !pattern.includes(':')) return false;
      const params = Object.values((request.params ?? {}) as Record<string, unknown>);
      if (!params.some((value) => typeof value === 'string' && routes.isLiteralSegment(value))) return false;
      return !routes.allowed(request.url.split('?')[0] ?? '').includes(request.method);
    }

    function unrouted(request: FastifyRequest, reply: FastifyReply) {
      const path = request.url.split('?')[0] ?? '';
      const allowed = routes.allowed(path);
      if (allowed.length === 0) {
        return sendProblem(
          request,
          reply,
          new ProblemError('not-found', `No route ${request.method} ${path}`),
        );
      }
      return sendProblem(
        request,
        reply,
        new ProblemError('method-not-allowed', `${path} answers ${allowed.join(', ')}`, {
          headers: { allow: allowed.join(', ') },
        }),
      );
    }
  },
  { name: 'error-handling' },
);
