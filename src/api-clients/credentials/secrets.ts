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
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientsGateway } from '../../keycloak/clients-gateway.js';
import type { Directory } from '../access/directory.js';
import { type Actor, changeRecord, recordAttribute } from '../activity/history.js';
import { SECRET_ROTATION_ATTRIBUTE } from '../resource/mapping.js';

/** Keycloak's attributes of a rotated-out secret (org.keycloak.models.ClientSecretConstants). */
export const ROTATED_SECRET_ATTRIBUTE = 'client.secret.rotated';
export const ROTATED_SECRET_EXPIRATION_ATTRIBUTE = 'client.secret.rotated.expiration.time';

export interface Rotation {
  secret: string;
  /** When Keycloak stops accepting the previous secret; null when it already refuses it. */
  previousSecretExpiresAt: string | null;
}

export interface SecretsOptions {
  now: () => Date;
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

export function createSecrets(gateway: ClientsGateway, directory: Directory, options: SecretsOptions) {
  /**
   * A client the policy must cover before it rotates: clients created before the marker get it now
   * (one write), so that a grace period asked for is a grace period given.
   */
  async function coveredClientId(accountId: string, clientId: string): Promise<string> {
    const { id, rep } = await directory.load(accountId, clientId);
    if ((rep.attributes as Record<string, unknown> | undefined)?.[SECRET_ROTATION_ATTRIBUTE] !== 'true') {
      await gateway.update(id, { attributes: { [SECRET_ROTATION_ATTRIBUTE]: 'true' } });
    }
    return id;
  }

  /** One more write that records a change whose own admin event carries no representation. */
  const record = (id: string, ...change: Parameters<typeof changeRecord>) =>
    gateway.update(id, { attributes: recordAttribute(changeRecord(...change)) });

  return {
    /** A new secret; the previous one accepted `gracePeriodSeconds` longer (0: refused at once). */
    async regenerate(
      accountId: string,
      clientId: string,
      gracePeriodSeconds: number,
      actor: Actor,
    ): Promise<Rotation> {
      if (gracePeriodSeconds === 0) {
        return directory.withId(accountId, clientId, async (id) => {
          const secret = await gateway.regenerateSecret(id);
          await gateway.endRotatedSecret(id);
          await record(id, 'secret-regenerated', accountId, clientId, actor);
          return { secret, previousSecretExpiresAt: null };
        });
      }
      const id = await coveredClientId(accountId, clientId);
      const secret = await gateway.regenerateSecret(id);
      const lastAcceptedSecond = epochSeconds(options.now()) + gracePeriodSeconds - 1;
      // the write that moves the grace period's end also records who regenerated
      await gateway.update(id, {
        attributes: {
          [ROTATED_SECRET_EXPIRATION_ATTRIBUTE]: String(lastAcceptedSecond),
          ...recordAttribute(changeRecord('secret-regenerated', accountId, clientId, actor)),
        },
      });
      return { secret, previousSecretExpiresAt: new Date((lastAcceptedSecond + 1) * 1000).toISOString() };
    },

    /** Keycloak refuses the rotated-out secret from now on (also fine when there is none). */
    endGracePeriod: (accountId: string, clientId: string, actor: Actor): Promise<void> =>
      directory.withId(accountId, clientId, async (id) => {
        await gateway.endRotatedSecret(id);
        await record(id, 'grace-period-ended', accountId, clientId, actor);
      }),

    /**
     * A new secret with no grace, and every token issued so far revoked: the client's notBefore
     * is set to the next whole second, and the answer waits for that second to begin, so that a
     * token asked for with the new secret after the answer is valid and none from before is.
     */
    async invalidate(accountId: string, clientId: string, actor: Actor): Promise<string> {
      return directory.withId(accountId, clientId, async (id) => {
        const secret = await gateway.regenerateSecret(id);
        await gateway.endRotatedSecret(id);
        const notBefore = epochSeconds(options.now()) + 1;
        // the notBefore write also records who invalidated
        await gateway.update(id, {
          notBefore,
          attributes: recordAttribute(changeRecord('invalidated', accountId, clientId, actor)),
        });
        const wait = notBefore * 1000 - options.now().getTime();
        if (wait > 0) await sleep(wait);
        return secret;
      });
    },
  };
}

export type Secrets = ReturnType<typeof createSecrets>;
