// A client's secret over its lifetime (SPEC §4 Secrets): regenerate with an optional grace period,
// end the grace period early, invalidate. Keycloak keeps and checks both secrets, through its
// client-secret-rotation feature (preview in 26.7; keycloak/keycloak.conf enables it):
//
// - The realm's client policy `api-clients-secret-rotation` (keycloak/setup/api-clients.json) covers
//   every client carrying SECRET_ROTATION_ATTRIBUTE (Keycloak's ClientAttributesCondition matches
//   exact key/value pairs). Its profile runs the `secret-rotation` executor
//   (ClientSecretRotationExecutor): on `POST /clients/{id}/client-secret` it moves the current
//   secret into the attribute `client.secret.rotated` with `client.secret.rotated.expiration.time`
//   = now + `rotated-expiration-period` (ClientSecretConstants), and the token endpoint accepts that
//   secret until then (OIDCClientSecretConfigWrapper.validateRotatedSecret: expired when the time
//   is before now, in epoch seconds).
// - The executor fixes the rotated secret's lifetime per profile, not per call. A per-call grace
//   period is the rotation followed by one write of `client.secret.rotated.expiration.time`
//   (Keycloak's client update keeps the attributes it is not sent); none is the rotation followed
//   by `DELETE /clients/{id}/client-secret/rotated`. The profile's own period (60 s) only bounds
//   how long an old secret lives when that second call fails.
// - The executor also gives the current secret an expiry (`client.secret.expiration.time` = now +
//   `expiration-period`); the profile sets 315360000 s (10 years) so that it never expires by
//   itself in practice.
//
// Invalidate also revokes the tokens issued so far: Keycloak refuses at introspection and refresh
// a token whose `iat` is before the client's `notBefore` (TokenManager), in whole seconds.
//
// Each regenerate resets the new secret's expiry (Keycloak's doing, resource/secret-expiry.ts): the
// service writes the one it wants right after, in the same write as the grace period's end.
// A client whose credential is not a secret has none of these operations (credential-not-secret).
//
// Each operation records who asked for it (activity/history.ts) in a write it makes anyway (the
// new secret's expiry, the grace period's end, notBefore); ending a grace period makes one write
// more, since Keycloak's DELETE of the rotated secret carries no client representation.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientsGateway } from '../../keycloak/clients-gateway.js';
import { ProblemError } from '../../lib/problem.js';
import type { Directory, Loaded } from '../access/directory.js';
import { type Actor, changeRecord, recordAttribute } from '../activity/history.js';
import { AUTHENTICATOR, SECRET_ROTATION_ATTRIBUTE } from '../resource/mapping.js';
import {
  type ExpiryPolicy,
  expiresAtErrors,
  expiresAtOf,
  expiryAttributes,
} from '../resource/secret-expiry.js';
import { updateLeavingExpiredSecret } from './expired-secret.js';

/** Keycloak's attributes of a rotated-out secret (org.keycloak.models.ClientSecretConstants). */
export const ROTATED_SECRET_ATTRIBUTE = 'client.secret.rotated';
export const ROTATED_SECRET_EXPIRATION_ATTRIBUTE = 'client.secret.rotated.expiration.time';

export interface Rotation {
  secret: string;
  /** When Keycloak stops accepting the previous secret; null when it already refuses it. */
  previousSecretExpiresAt: string | null;
  /** When Keycloak stops accepting the new secret; null: never. */
  expiresAt: string | null;
}

export interface SecretsOptions {
  now: () => Date;
  /** The account's maximum secret lifetime in days (null: none). */
  maxLifetimeOf: (accountId: string) => Promise<number | null>;
}

/** 409 credential-not-secret for a client whose credential is a key pair or a federated identity. */
export function assertSecretCredential(loaded: Loaded, clientId: string): void {
  if (loaded.rep.clientAuthenticatorType === AUTHENTICATOR.federated) {
    throw new ProblemError(
      'credential-not-secret',
      `${clientId} is federated: its workloads present their platform's identity token, it has no secret. Change its credential to type "secret" to give it one`,
    );
  }
  if (loaded.rep.clientAuthenticatorType === AUTHENTICATOR['private-key-jwt']) {
    throw new ProblemError(
      'credential-not-secret',
      `${clientId} proves itself with a private key (private-key-jwt): it has no secret. Change its credential to type "secret" to give it one`,
    );
  }
}

const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/** When the rotated-out secret stops being accepted, from the client's attributes; null when none is accepted now. */
export function previousSecretExpiry(
  attributes: Record<string, unknown> | undefined,
  now: Date,
): string | null {
  const first = (value: unknown) => (Array.isArray(value) ? value[0] : value);
  const secret = first(attributes?.[ROTATED_SECRET_ATTRIBUTE]);
  const expiry = Number(first(attributes?.[ROTATED_SECRET_EXPIRATION_ATTRIBUTE]));
  if (typeof secret !== 'string' || secret === '' || !Number.isInteger(expiry)) return null;
  // Keycloak accepts the rotated secret through the whole second its expiry names.
  if (expiry < epochSeconds(now)) return null;
  return new Date((expiry + 1) * 1000).toISOString();
}

const expiresAtOfPolicy = (policy: ExpiryPolicy): string | null =>
  policy.maxSecretLifetimeDays === null
    ? null
    : new Date(policy.now.getTime() + policy.maxSecretLifetimeDays * 86_400_000).toISOString();

export function createSecrets(gateway: ClientsGateway, directory: Directory, options: SecretsOptions) {
  /**
   * A secret client the policy covers, loaded: clients created before the marker get it now (one
   * write), so that a grace period asked for is a grace period given and an expiry is enforced.
   */
  async function cover(loaded: Loaded): Promise<Loaded> {
    if (
      (loaded.rep.attributes as Record<string, unknown> | undefined)?.[SECRET_ROTATION_ATTRIBUTE] !== 'true'
    ) {
      await gateway.update(loaded.id, { attributes: { [SECRET_ROTATION_ATTRIBUTE]: 'true' } });
    }
    return loaded;
  }

  /** The change record as the attribute a write carries. */
  const recorded = (...change: Parameters<typeof changeRecord>) => recordAttribute(changeRecord(...change));

  return {
    /**
     * A new secret expiring at `expiresAt` (none given: now + the account's maximum, or never);
     * the previous one accepted `gracePeriodSeconds` longer (0: refused at once). A refused
     * request (an expiry in the past or beyond the maximum, a key-pair client) writes nothing.
     * Recorded as `actor`'s change.
     */
    async regenerate(
      accountId: string,
      clientId: string,
      gracePeriodSeconds: number,
      actor: Actor,
      requestedExpiresAt?: string | null,
    ): Promise<Rotation> {
      const loaded = await directory.load(accountId, clientId);
      assertSecretCredential(loaded, clientId);
      const policy: ExpiryPolicy = {
        now: options.now(),
        maxSecretLifetimeDays: await options.maxLifetimeOf(accountId),
      };
      const errors = expiresAtErrors(requestedExpiresAt, policy, '/expiresAt');
      if (errors.length > 0) {
        throw new ProblemError('validation-failed', `${errors.length} field(s) failed validation`, {
          errors,
        });
      }
      const expiresAt = requestedExpiresAt
        ? new Date(Date.parse(requestedExpiresAt)).toISOString()
        : (expiresAtOfPolicy(policy) ?? null);
      const { id } = await cover(loaded);
      const secret = await gateway.regenerateSecret(id);
      // the write of the new secret's expiry also records who regenerated
      const expiry = {
        ...expiryAttributes(expiresAt),
        ...recorded('secret-regenerated', accountId, clientId, actor),
      };
      if (gracePeriodSeconds === 0) {
        await gateway.endRotatedSecret(id);
        await gateway.update(id, { attributes: expiry });
        return { secret, previousSecretExpiresAt: null, expiresAt };
      }
      const lastAcceptedSecond = epochSeconds(options.now()) + gracePeriodSeconds - 1;
      await gateway.update(id, {
        attributes: { ...expiry, [ROTATED_SECRET_EXPIRATION_ATTRIBUTE]: String(lastAcceptedSecond) },
      });
      return {
        secret,
        previousSecretExpiresAt: new Date((lastAcceptedSecond + 1) * 1000).toISOString(),
        expiresAt,
      };
    },

    /** The current secret (reveal). */
    async reveal(accountId: string, clientId: string): Promise<string> {
      const loaded = await directory.load(accountId, clientId);
      assertSecretCredential(loaded, clientId);
      return gateway.getSecret(loaded.id);
    },

    /** Keycloak refuses the rotated-out secret from now on (also fine when there is none). */
    async endGracePeriod(accountId: string, clientId: string, actor: Actor): Promise<void> {
      const loaded = await directory.load(accountId, clientId);
      assertSecretCredential(loaded, clientId);
      await gateway.endRotatedSecret(loaded.id);
      // the record's write must not revive a secret that has expired
      await updateLeavingExpiredSecret(
        gateway,
        loaded.id,
        loaded.rep,
        { attributes: recorded('grace-period-ended', accountId, clientId, actor) },
        options.now,
      );
    },

    /**
     * A new secret with no grace, and every token issued so far revoked: the client's notBefore
     * is set to the next whole second, and the answer waits for that second to begin, so that a
     * token asked for with the new secret after the answer is valid and none from before is.
     */
    async invalidate(accountId: string, clientId: string, actor: Actor): Promise<string> {
      const loaded = await directory.load(accountId, clientId);
      assertSecretCredential(loaded, clientId);
      // the new secret keeps the expiry the old one had (a new secret is no reason to live longer);
      // one already past gives way to the account's policy, as on a regenerate
      const had = expiresAtOf(loaded.rep.attributes as Record<string, unknown> | undefined);
      const policy: ExpiryPolicy = {
        now: options.now(),
        maxSecretLifetimeDays: await options.maxLifetimeOf(accountId),
      };
      const expiresAt = had && Date.parse(had) > policy.now.getTime() ? had : expiresAtOfPolicy(policy);
      return directory.withId(accountId, clientId, async (id) => {
        const secret = await gateway.regenerateSecret(id);
        await gateway.endRotatedSecret(id);
        await gateway.update(id, {
          attributes: expiryAttributes(expiresAt),
        });
        const notBefore = epochSeconds(options.now()) + 1;
        // the notBefore write also records who invalidated
        await gateway.update(id, {
          notBefore,
          attributes: recorded('invalidated', accountId, clientId, actor),
        });
        const wait = notBefore * 1000 - options.now().getTime();
        if (wait > 0) await sleep(wait);
        return secret;
      });
    },
  };
}

export type Secrets = ReturnType<typeof createSecrets>;
