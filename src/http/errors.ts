import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isUnavailable } from '../keycloak/errors.js';
import { type FieldError, ProblemError, toProblem } from './problem.js';

const RETRY_AFTER_SECONDS = '5';

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

const escapePointer = (segment: string): string => segment.replace(/~/g, '~0').replace(/\//g, '~1');

/** One field error per failing field, with the JSON pointer of the field itself. */
export function fieldErrors(validation: AjvError[], part: string | undefined): FieldError[] {
  const where = (
    part === 'params' ? 'path' : part === 'querystring' ? 'query' : part === 'headers' ? 'header' : 'body'
  ) as FieldError['in'];
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  for (const error of validation) {
    let pointer = error.instancePath;
    let reason = error.message ?? error.keyword;
    if (error.keyword === 'required') {
      pointer += `/${escapePointer(String(error.params.missingProperty))}`;
      reason = 'is required';
    } else if (error.keyword === 'additionalProperties') {
      pointer += `/${escapePointer(String(error.params.additionalProperty))}`;
      reason = 'is not a known field';
    }
    // anyOf/oneOf restate their branches' failures; keep the most specific message per field
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf') continue;
    const key = `${pointer}\u0000${reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    errors.push({ pointer, in: where, reason });
  }
  return errors;
}

function classify(
  error: FastifyError & { validation?: AjvError[]; validationContext?: string },
): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error.validation) {
    const errors = fieldErrors(error.validation, error.validationContext);
    return new ProblemError('validation-failed', `${errors.length} field(s) failed validation`, { errors });
  }
  if (isUnavailable(error)) {
    return new ProblemError('keycloak-unavailable', 'Keycloak did not answer in time; try again shortly', {
      headers: { 'retry-after': RETRY_AFTER_SECONDS },
      cause: error,
    });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ProblemError('payload-too-large', 'The request body is larger than the service accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ProblemError('unsupported-media-type', 'Send the body as application/json');
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

/** One error shape for the whole service: every error becomes application/problem+json. */
export const errorHandling = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const problem = classify(error);
      if (problem.status >= 500) {
        request.log.error(
          { err: problem.options.cause ?? error, problemType: problem.problemType },
          'request failed',
        );
      } else {
        request.log.info({ problemType: problem.problemType, status: problem.status }, 'request refused');
      }
      return sendProblem(request, reply, problem);
    });
    app.setNotFoundHandler((request, reply) =>
      sendProblem(
        request,
        reply,
        new ProblemError('not-found', `No route ${request.method} ${request.url.split('?')[0]}`),
      ),
    );
  },
  { name: 'error-handling' },
);
