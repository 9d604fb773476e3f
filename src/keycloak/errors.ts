import { NetworkError } from '@keycloak/keycloak-admin-client';

/** Keycloak did not answer in time, could not be reached, or failed on its side (5xx). */
export class KeycloakUnavailableError extends Error {
  override name = 'KeycloakUnavailableError';
}

/** The HTTP status Keycloak answered with, when the error is an answer (not a network failure). */
export function keycloakStatus(error: unknown): number | undefined {
  return error instanceof NetworkError ? error.response.status : undefined;
}

export const isNotFound = (error: unknown): boolean => keycloakStatus(error) === 404;
export const isConflict = (error: unknown): boolean => keycloakStatus(error) === 409;

/** Errors that say "Keycloak is not there right now" rather than "your request is wrong". */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof KeycloakUnavailableError) return true;
  const status = keycloakStatus(error);
  if (status !== undefined) return status >= 500 || status === 429;
  if (error instanceof Error) {
    // fetch() failures (connection refused, reset, DNS) and AbortSignal.timeout() expiries
    return error.name === 'TimeoutError' || error.name === 'AbortError' || error instanceof TypeError;
  }
  return false;
}
