// The domain's own refusals, as problem types (src/lib/problem.ts turns them into answers).
import { ProblemError } from '../lib/problem.js';

export const notFound = (accountId: string, clientId: string): ProblemError =>
  new ProblemError('not-found', `Account ${accountId} has no API client ${clientId}`);

export const limitReached = (accountId: string, count: number, max: number): ProblemError =>
  new ProblemError('limit-reached', `Account ${accountId} already has ${count} of its ${max} API clients`);

export const clientIdTaken = (clientId: string): ProblemError =>
  new ProblemError('client-id-taken', `${clientId} is already in use`);

export function assertClientIdUnchanged(sent: string | undefined, clientId: string): void {
  if (sent !== undefined && sent !== clientId) {
    throw new ProblemError('client-id-immutable', `clientId is ${clientId} and cannot be changed`, {
      errors: [{ pointer: '/clientId', in: 'body', reason: `must be ${clientId} or left out` }],
    });
  }
}
