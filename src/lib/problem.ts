import { type Static, Type } from 'typebox';

/**
 * The problem types the service answers with (RFC 9457). The `type` member of an answer is
 * `urn:api-clients:problem:<name>`; names never change once published.
 */
export const problemTypes = {
  'validation-failed': { status: 400, title: 'The request is not valid' },
  unauthorized: { status: 401, title: 'A valid bearer token is required' },
  forbidden: { status: 403, title: 'The caller may not do this' },
  'role-not-held': { status: 403, title: 'The caller does not hold this role' },
  'not-found': { status: 404, title: 'No such resource' },
  'method-not-allowed': { status: 405, title: 'The resource does not answer this method' },
  'client-id-taken': { status: 409, title: 'The client ID is already in use' },
  'client-id-immutable': { status: 400, title: 'The client ID cannot be changed' },
  'limit-reached': { status: 409, title: "The account's API client limit is reached" },
  'precondition-failed': { status: 412, title: 'The resource has changed since it was read' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The request body must be application/json' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'keycloak-unavailable': { status: 503, title: 'Keycloak is unavailable' },
  overloaded: { status: 503, title: 'The service is overloaded' },
  'internal-error': { status: 500, title: 'Internal error' },
} as const;

export type ProblemTypeName = keyof typeof problemTypes;

export const problemTypeUri = (name: ProblemTypeName): string => `urn:api-clients:problem:${name}`;

export const FieldError = Type.Object({
  pointer: Type.String({ description: 'JSON pointer (RFC 6901) into the request part named by `in`' }),
  in: Type.Union([Type.Literal('body'), Type.Literal('path'), Type.Literal('query'), Type.Literal('header')]),
  reason: Type.String(),
});
export type FieldError = Static<typeof FieldError>;

/** How a schema pattern's failure reads; a domain rule on the same field says it better (api-clients/resource/input.ts). */
export const PATTERN_REASON = 'must match the pattern';

export const Problem = Type.Object(
  {
    type: Type.String({ examples: [problemTypeUri('validation-failed')] }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String({ description: 'The request id' })),
    errors: Type.Optional(
      Type.Array(FieldError, { description: 'Every failing field, for validation-failed' }),
    ),
  },
  { $id: 'Problem', description: 'An RFC 9457 problem details object (application/problem+json)' },
);
export type Problem = Static<typeof Problem>;

/** A domain or HTTP error that the error handler turns into a problem+json answer. */
export class ProblemError extends Error {
  readonly status: number;
  constructor(
    readonly problemType: ProblemTypeName,
    readonly detail: string,
    readonly options: { errors?: FieldError[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'ProblemError';
    this.status = problemTypes[problemType].status;
  }
}

/** Seconds a caller is told to wait (Retry-After) before trying again after a 503. */
export const RETRY_AFTER_SECONDS = 5;

/** Keycloak is down, slow or failing: 503 with Retry-After. The one factory of this answer. */
export const keycloakUnavailable = (detail: string, cause?: unknown): ProblemError =>
  new ProblemError('keycloak-unavailable', detail, {
    headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
    cause,
  });

export function toProblem(error: ProblemError, requestId: string): Problem {
  return {
    type: problemTypeUri(error.problemType),
    title: problemTypes[error.problemType].title,
    status: error.status,
    detail: error.detail,
    instance: requestId,
    ...(error.options.errors ? { errors: error.options.errors } : {}),
  };
}

/** The reference of the shared schema, for route response declarations. */
export const ProblemRef = Type.Ref('Problem');

const statusDescriptions: Record<number, string> = {
  400: 'Bad request: validation-failed or client-id-immutable',
  401: 'unauthorized: no bearer token, or not a valid one',
  403: 'forbidden: the token may not act on this account or route',
  404: 'not-found',
  405: 'method-not-allowed, with Allow',
  409: 'client-id-taken or limit-reached',
  412: 'precondition-failed: If-Match does not match the current ETag',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  429: 'rate-limited, with Retry-After',
  500: 'internal-error',
  503: 'keycloak-unavailable (with Retry-After) or overloaded',
};

/** Response declarations for the given statuses, each answered with application/problem+json. */
export function problemResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: statusDescriptions[status] ?? 'problem',
        content: { 'application/problem+json': { schema: ProblemRef } },
      },
    ]),
  );
}
