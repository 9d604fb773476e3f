// The identity providers behind federated clients (SPEC §2 Credentials: `federated`). Keycloak's
// FederatedJWTClientAuthenticator takes a workload's token as the client assertion when the
// client names an identity provider (`jwt.credential.issuer`, its alias) that accepts client
// assertions, and the token's `sub` equals `jwt.credential.sub`. What Keycloak imposes (checked on
// 26.7.3, docs/workload-identity.md):
// - one identity provider per issuer among those accepting client assertions (a second answers
//   400 "Issuer must be unique"): so one per issuer realm-wide, named for it, shared by accounts;
// - it finds the client by identity provider and subject; two clients bound to the same pair are
//   both refused: so a subject bound once on an issuer cannot be bound again, in any account.
// A client is written, and an identity provider made or removed, under the issuer's lock (a
// role of the service's own client, like the account and client locks): no removal of an
// identity provider can slip between its check and a client's binding to it.
import ipaddr from 'ipaddr.js';
import type { ClientsGateway } from '../../keycloak/clients-gateway.js';
import { isUnavailable, keycloakStatus } from '../../keycloak/errors.js';
import { ProblemError } from '../../lib/problem.js';
import type { Locks } from '../consistency/account-lock.js';
import type { ResolveHost } from '../resource/host-resolution.js';
import { identityProviderAlias, MANAGED_IDP_MARKER } from '../resource/identity-provider.js';
import { FEDERATED_IDP_ATTRIBUTE, FEDERATED_SUBJECT_ATTRIBUTE } from '../resource/mapping.js';
import type { CredentialFields } from '../resource/schema.js';
import {
  internalAddressReason,
  keycloakCalledUrlReason,
  originWithPort,
  type UrlSafetyOptions,
} from '../resource/url-safety.js';

/** Keycloak never calls these for client assertions; an identity provider wants them set. */
const UNUSED_ENDPOINT = 'https://unused.invalid/';

export const issuerLockName = (issuer: string): string => `lock.idp.${identityProviderAlias(issuer)}`;

const issuerRefused = (reason: string): ProblemError =>
  new ProblemError('validation-failed', `credential.issuer: ${reason}`, {
    errors: [{ pointer: '/credential/issuer', in: 'body', reason }],
  });

const attributeOf = (attributes: unknown, name: string): string | undefined => {
  const value = (attributes as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? String(value[0] ?? '') : undefined;
};

export function createFederation(
  gateway: ClientsGateway,
  locks: Locks,
  options: { urlSafety: UrlSafetyOptions; resolveHost: ResolveHost },
) {
  /** The JWKS URL an issuer's discovery document names is called by Keycloak too: screened alike. */
  async function jwksUrlReason(url: string): Promise<string | undefined> {
    const reason = keycloakCalledUrlReason(url, options.urlSafety);
    if (reason) return reason;
    const parsed = new URL(url);
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.+$/, '');
    if (ipaddr.isValid(host) || (options.urlSafety.allowedOrigins ?? []).includes(originWithPort(parsed)))
      return undefined;
    const internal = (await options.resolveHost(host)).find((address) => internalAddressReason(address));
    return internal ? `names a host that resolves to ${internal}` : undefined;
  }

  /** The issuer's identity provider, made when there is none; only one the service made is used. */
  async function ensureIdentityProvider(issuer: string): Promise<void> {
    const alias = identityProviderAlias(issuer);
    const found = await gateway.findIdentityProvider(alias);
    if (found) {
      if (found.config?.[MANAGED_IDP_MARKER] !== 'true' || found.config?.issuer !== issuer)
        throw issuerRefused(`Keycloak's identity provider ${alias} is not one this service manages`);
      return;
    }
    let discovered: Record<string, string>;
    try {
      // Keycloak itself fetches the discovery document (the issuer was screened as a URL it calls)
      discovered = await gateway.discoverIdentityProvider(
        `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`,
      );
    } catch (error) {
      // Keycloak did not answer: unavailable. It answered: it could not fetch or read the document
      // (the identity provider lookup just before shows Keycloak itself is there).
      if (keycloakStatus(error) === undefined) throw error;
      throw issuerRefused(
        "Keycloak could not read the issuer's discovery document (/.well-known/openid-configuration)",
      );
    }
    if (discovered.issuer !== issuer)
      throw issuerRefused(`the discovery document names another issuer: ${discovered.issuer ?? 'none'}`);
    if (!discovered.jwksUrl) throw issuerRefused('the discovery document names no jwks_uri');
    const reason = await jwksUrlReason(discovered.jwksUrl);
    if (reason) throw issuerRefused(`its jwks_uri ${discovered.jwksUrl} ${reason}`);
    try {
      await gateway.createIdentityProvider({
        alias,
        displayName: `API clients: ${issuer}`,
        providerId: 'oidc',
        enabled: true,
        hideOnLogin: true,
        // nobody signs in through it: it only vouches for workloads' client assertions
        linkOnly: true,
        config: {
          issuer,
          jwksUrl: discovered.jwksUrl,
          useJwksUrl: 'true',
          validateSignature: 'true',
          supportsClientAssertions: 'true',
          clientId: 'api-clients-federation',
          clientSecret: 'unused',
          authorizationUrl: UNUSED_ENDPOINT,
          tokenUrl: UNUSED_ENDPOINT,
          [MANAGED_IDP_MARKER]: 'true',
        },
      });
    } catch (error) {
      if (isUnavailable(error)) throw error;
      // 400 "Issuer must be unique": an identity provider the service did not make has this issuer
      throw issuerRefused(
        'Keycloak already trusts this issuer through an identity provider this service does not manage',
      );
    }
  }

  /** Refuses a subject another client already binds on this issuer (Keycloak would refuse both). */
  async function assertSubjectFree(
    issuer: string,
    subject: string,
    ownId: string | undefined,
  ): Promise<void> {
    const bound = await gateway.listByAttribute(FEDERATED_IDP_ATTRIBUTE, identityProviderAlias(issuer));
    const other = bound.find(
      (client) =>
        client.id !== ownId &&
        client.clientAuthenticatorType === 'federated-jwt' &&
        attributeOf(client.attributes, FEDERATED_SUBJECT_ATTRIBUTE) === subject,
    );
    if (other) {
      throw new ProblemError('validation-failed', 'credential.subject: already bound', {
        errors: [
          {
            pointer: '/credential/subject',
            in: 'body',
            reason:
              'another API client is bound to this subject of this issuer; Keycloak finds the client by issuer and subject, so each pair names one client',
          },
        ],
      });
    }
  }

  return {
    /**
     * Runs a write of a client (`ownId` when it exists) under its federated issuer's lock, once the
     * issuer's identity provider is there and the subject free; any other credential: at once.
     */
    async withBinding<T>(credential: CredentialFields, ownId: string | undefined, work: () => Promise<T>) {
      if (credential.type !== 'federated' || !credential.issuer || !credential.subject) return work();
      const { issuer, subject } = credential;
      return locks.withLock(
        issuerLockName(issuer),
        'API Clients service: held while a client is bound to this issuer or its identity provider removed',
        async (lease) => {
          await ensureIdentityProvider(issuer);
          await assertSubjectFree(issuer, subject, ownId);
          lease.assertLeft('the binding of the client');
          return work();
        },
      );
    },

    /**
     * Removes the issuer's identity provider when no client names it any more (after a delete, a
     * switch away or another issuer). Best effort: the client's own change has happened; an
     * identity provider left behind trusts nobody (no client names it) and goes on the next release.
     */
    async releaseIfUnused(issuer: string | null | undefined): Promise<void> {
      if (!issuer) return;
      const alias = identityProviderAlias(issuer);
      try {
        await locks.withLock(
          issuerLockName(issuer),
          'API Clients service: held while a client is bound to this issuer or its identity provider removed',
          async () => {
            const found = await gateway.findIdentityProvider(alias);
            if (found?.config?.[MANAGED_IDP_MARKER] !== 'true') return;
            const bound = await gateway.listByAttribute(FEDERATED_IDP_ATTRIBUTE, alias);
            if (bound.length === 0) await gateway.removeIdentityProvider(alias);
          },
        );
      } catch {
        // left for the next release (see above)
      }
    },
  };
}

export type Federation = ReturnType<typeof createFederation>;
