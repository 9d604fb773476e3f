// HTTP versioning of the resource: a weak ETag over the client as the caller sees it, and the
// If-Match precondition of PUT, PATCH and DELETE.
import { createHash } from 'node:crypto';
import { ProblemError } from '../../lib/problem.js';
import type { ApiClient, ApiClientConfig, ApiClientUsage } from '../resource/schema.js';

export interface Versioned {
  client: ApiClient;
  etag: string;
}

/**
 * Over the configuration only: lastUsedAt and previousSecretExpiresAt change without any edit (a
 * token issued, a grace period running out), and an If-Match must not fail for that.
 */
export function etagOf(client: ApiClientConfig): string {
  return `W/"${createHash('sha256').update(JSON.stringify(client)).digest('base64url').slice(0, 27)}"`;
}

const NO_USAGE: ApiClientUsage = { lastUsedAt: null, previousSecretExpiresAt: null };

export const versioned = (client: ApiClientConfig, usage: ApiClientUsage = NO_USAGE): Versioned => ({
  client: { ...client, ...usage },
  etag: etagOf(client),
});

/** Throws precondition-failed unless If-Match is absent, `*`, or names the current ETag (weakly compared). */
export function checkPrecondition(current: ApiClientConfig, ifMatch: string | undefined): void {
  if (ifMatch === undefined) return;
  const etag = etagOf(current);
  const accepted = ifMatch.split(',').map((tag) => tag.trim());
  const strip = (tag: string) => tag.replace(/^W\//, '');
  if (!accepted.includes('*') && !accepted.some((tag) => strip(tag) === strip(etag))) {
    throw new ProblemError('precondition-failed', `If-Match does not match the current ETag ${etag}`);
  }
}
