// The identity provider Keycloak needs for a federated client's issuer
// (FederatedJWTClientAuthenticator finds it by the client's `jwt.credential.issuer` alias).
// Keycloak allows one identity provider per issuer among those that accept client assertions
// (checked on 26.7.3: a second one answers 400 "Issuer must be unique"), so there is one per
// issuer, realm-wide, named for its issuer: every replica names it alike without a lookup.
import { createHash } from 'node:crypto';

/** The alias of the identity provider of an issuer: a digest, so that any issuer URL fits. */
export const identityProviderAlias = (issuer: string): string =>
  `api-clients-${createHash('sha256').update(issuer).digest('hex').slice(0, 32)}`;

/** The config key that marks an identity provider as made by this service: no other is touched. */
export const MANAGED_IDP_MARKER = 'api-clients.managed';
