// When a client secret stops working (SPEC §4 Expiry). Keycloak enforces it: the token endpoint
// refuses a secret whose `client.secret.expiration.time` (epoch seconds) has passed, for a client
// that the realm's secret-rotation policy covers (every managed client carries
// SECRET_ROTATION_ATTRIBUTE). Three of Keycloak's habits shape this file:
//
// - Regenerating resets the attribute: inside the policy ClientSecretRotationExecutor sets it to
//   now + the profile's `expiration-period`; outside, ClientResource.regenerateSecret removes it
//   (removeClientSecretRotationInfo). The service writes the expiry it wants after every regenerate.
// - An admin update of a client whose secret has expired makes the executor rotate it (a new secret
//   nobody knows, the expired one accepted again as the "rotated" secret for the profile's
//   `rotated-expiration-period`): writes.ts ends that rotated secret at once.
// - Keycloak reads the attribute as a Java int: "never" is written as NEVER_EPOCH, early in 2038.
//
// Beside it the service writes the week the secret expires in (SECRET_EXPIRY_WEEK_ATTRIBUTE), a
// searchable attribute (keycloak.conf): Keycloak's `q=` search matches values exactly, so "which
// secrets expire soon" is one indexed query per week (credentials/expiring.ts), not a realm scan.
import type { FieldError } from '../../lib/problem.js';
import type { CredentialFields } from './schema.js';

export const SECRET_EXPIRATION_ATTRIBUTE = 'client.secret.expiration.time';
/** 2038-01-01T00:00:00Z: the last whole year a Java int of epoch seconds holds. Read back as "never". */
export const NEVER_EPOCH = 2_145_916_800;
const DAY_MS = 86_400_000;

/** How far back the expiring-keys answer looks for secrets that have already expired. */
export const EXPIRED_LOOKBACK_DAYS = 90;
/** The furthest ahead a caller of the expiring-keys route may look, in days. */
export const MAX_EXPIRING_WITHIN_DAYS = 366;

/** The Monday (UTC) of the week a secret expires in, as 2026-11-30; '' when it never expires. */
export const SECRET_EXPIRY_WEEK_ATTRIBUTE = 'api-clients.secret-expiry-week';

/** The Monday (UTC, YYYY-MM-DD) of the week an instant falls in. */
export function expiryWeekOf(at: Date): string {
  const day = Math.floor(at.getTime() / DAY_MS);
  // 1970-01-01, day 0, was a Thursday: three days after its week's Monday
  const monday = day - ((((day + 3) % 7) + 7) % 7);
  return new Date(monday * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The attributes that say when a secret expires, for every write of an expiry: Keycloak's own
 * (the token endpoint's check) and the week it falls in (the expiring-keys search).
 */
export function expiryAttributes(expiresAt: string | null): Record<string, string> {
  return {
    [SECRET_EXPIRATION_ATTRIBUTE]: expiryAttributeOf(expiresAt),
    [SECRET_EXPIRY_WEEK_ATTRIBUTE]: expiresAt === null ? '' : expiryWeekOf(new Date(expiresAt)),
  };
}

/** Keycloak accepts a secret through the whole second its expiry names: the last second before `expiresAt`. */
export function expiryAttributeOf(expiresAt: string | null): string {
  if (expiresAt === null) return String(NEVER_EPOCH);
  return String(Math.min(NEVER_EPOCH, Math.ceil(Date.parse(expiresAt) / 1000) - 1));
}

/** The secret's expiry as Keycloak holds it; null when it has none (or "never"). */
export function expiresAtOf(attributes: Record<string, unknown> | undefined): string | null {
  const raw = attributes?.[SECRET_EXPIRATION_ATTRIBUTE];
  const value = Number(Array.isArray(raw) ? raw[0] : raw);
  if (raw === undefined || raw === '' || !Number.isInteger(value) || value >= NEVER_EPOCH) return null;
  return new Date((value + 1) * 1000).toISOString();
}

const sameInstant = (a: string | null | undefined, b: string | null | undefined): boolean =>
  a === b || (typeof a === 'string' && typeof b === 'string' && Date.parse(a) === Date.parse(b));

export interface ExpiryPolicy {
  now: Date;
  /** The account's maximum secret lifetime in days; null: none. */
  maxSecretLifetimeDays: number | null;
}

/** The latest expiry the account allows from now, or null when it has no maximum. */
export const latestExpiry = ({ now, maxSecretLifetimeDays }: ExpiryPolicy): Date | null =>
  maxSecretLifetimeDays === null ? null : new Date(now.getTime() + maxSecretLifetimeDays * DAY_MS);

/**
 * The expiry a new or changed secret gets: the one asked for, or (none asked for, or null under a
 * maximum) now + the account's maximum. `current` is the client's expiry before the change: an
 * expiry sent back unchanged stays as it is (a GET body may be sent back as a PUT).
 */
export function effectiveExpiresAt(
  requested: string | null | undefined,
  policy: ExpiryPolicy,
  current?: string | null,
): string | null {
  if (current !== undefined && sameInstant(requested, current)) return current;
  if (requested) return new Date(Date.parse(requested)).toISOString();
  return latestExpiry(policy)?.toISOString() ?? null;
}

/**
 * Why an expiry cannot be set, at `pointer`: one in the past, or later than the account's maximum
 * allows. An expiry equal to the client's current one is not judged again.
 */
export function expiresAtErrors(
  requested: string | null | undefined,
  policy: ExpiryPolicy,
  pointer: string,
  current?: string | null,
): FieldError[] {
  if (!requested || (current !== undefined && sameInstant(requested, current))) return [];
  const at = Date.parse(requested);
  if (Number.isNaN(at)) return [];
  if (at <= policy.now.getTime()) return [{ pointer, in: 'body', reason: 'must be in the future' }];
  const latest = latestExpiry(policy);
  if (latest && at > latest.getTime()) {
    return [
      {
        pointer,
        in: 'body',
        reason: `must be at most ${policy.maxSecretLifetimeDays} days from now (${latest.toISOString()}): the account's maximum secret lifetime`,
      },
    ];
  }
  if (at >= NEVER_EPOCH * 1000)
    return [{ pointer, in: 'body', reason: 'must be before 2038-01-01T00:00:00Z' }];
  return [];
}

/** The credential with its expiry as it will be stored (secrets only). */
export function withEffectiveExpiry(
  credential: CredentialFields,
  policy: ExpiryPolicy,
  current?: CredentialFields,
): CredentialFields {
  if (credential.type !== 'secret') return credential;
  const before = current?.type === 'secret' ? current.expiresAt : undefined;
  return { type: 'secret', expiresAt: effectiveExpiresAt(credential.expiresAt, policy, before) };
}
