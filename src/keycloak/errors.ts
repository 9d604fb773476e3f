import { NetworkError } from '@keycloak/keycloak-admin-client';

/** Keycloak did not answer in time, could not be reached, or failed on its side (5xx). */
export class KeycloakUnavailableError extends Error {
  override name = 'KeycloakUnavailableError';
}

/** The HTTP status Keycloak answered with, when the error is an answer (not a network failure). */
export function keycloakStatus(error: unknown): number | undefined {
  if (error instanceof NetworkError) return error.response.status;
  // KeycloakAdmin.call() wraps 5xx answers; the status stays readable through the cause
  if (error instanceof Error && error.cause !== undefined) return keycloakStatus(error.cause);
  return undefined;
}

export const isNotFound = (error: unknown): boolean => keycloakStatus(error) === 404;
export const isConflict = (error: unknown): boolean => keycloakStatus(error) === 409;

/** Errors that say "Keycloak is not there right now" rather than "your request is wrong". */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof KeycloakUnavailableError) return true;
  const status = keycloakStatus(error);
  if (status !== undefined) return status >= 500 || status === 429;
  if (error instanceof Error) {
    // fetch() failures (connection refused, reset, DNS: a TypeError "fetch failed" with the
    // socket error as cause) and AbortSignal.timeout() expiries; not programming errors
    return (
      error.name === 'TimeoutError' ||
      error.name === 'AbortError' ||
      (error instanceof TypeError && error.message === 'fetch failed')
    );
  }
  return false;
}
