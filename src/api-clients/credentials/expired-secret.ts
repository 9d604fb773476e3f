// An admin UPDATE of a client whose secret has expired makes Keycloak's
// ClientSecretRotationExecutor rotate it (on the UPDATED event): a new secret nobody was given,
// living the policy's expiration-period, and the expired one accepted again as the "rotated"
// secret for the policy's rotated-expiration-period (docs/credentials-keys.md). A write that is not
// about the secret (the history's record of an ended grace period, the record written before a
// delete) must not bring an expired secret back: after it, the secret Keycloak made is given an
// expiry a moment away and the rotated one is ended. Two calls more, only for such a client.
// consistency/writes.ts calls endRevivedSecret after an update of the client's fields.
import type { ClientRepresentation, ClientsGateway } from '../../keycloak/clients-gateway.js';
import { expiresAtOf, expiryAttributes } from '../resource/secret-expiry.js';

/** The next whole second and one more: still ahead when Keycloak reads it, on a slow machine too. */
const aMomentAway = (now: Date): string =>
  new Date((Math.floor(now.getTime() / 1000) + 2) * 1000).toISOString();

/**
 * After an update that found the secret expired: the secret Keycloak's executor just made (nobody
 * has it) expires a moment from now, and the expired one, accepted again as "rotated", is ended.
 */
export async function endRevivedSecret(
  gateway: ClientsGateway,
  id: string,
  now: Date = new Date(),
): Promise<void> {
  await gateway.update(id, { attributes: expiryAttributes(aMomentAway(now)) });
  await gateway.endRotatedSecret(id);
}

export async function updateLeavingExpiredSecret(
  gateway: ClientsGateway,
  id: string,
  before: ClientRepresentation,
  rep: ClientRepresentation,
  now: () => Date = () => new Date(),
): Promise<void> {
  await gateway.update(id, rep);
  const expiresAt = expiresAtOf(before.attributes as Record<string, unknown> | undefined);
  if (expiresAt === null || Date.parse(expiresAt) > now().getTime()) return;
  await endRevivedSecret(gateway, id, now());
}
