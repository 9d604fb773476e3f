// The one place where the API client resource meets Keycloak's ClientRepresentation, both ways.
// test/api-clients/resource/mapping.test.ts has a table of every field.
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import type { Catalogue, RealmDefaults } from '../access/catalogue.js';
import { ACCOUNT_ATTRIBUTE } from '../access/ownership.js';
import { identityProviderAlias } from './identity-provider.js';
import { keyInfoOf, signingAlgOf, storedJwks } from './jwks.js';
import type {
  ApiClientConfig,
  ApiClientFields,
  ApiClientSummary,
  CapabilityType,
  CredentialFields,
  CredentialView,
  Jwks,
  TokenSettings,
} from './schema.js';
import { expiresAtOf, expiryAttributes } from './secret-expiry.js';

export { ACCOUNT_ATTRIBUTE };
/** Keycloak keeps no creation time; the service writes one on create. */
export const CREATED_AT_ATTRIBUTE = 'api-clients.created-at';
/**
 * Marks a client for the realm's client policy `api-clients-secret-rotation` (Keycloak's
 * client-attributes condition matches this exact key and value): its regenerated-out secret stays
 * accepted for a grace period (src/api-clients/credentials/secrets.ts).
 */
export const SECRET_ROTATION_ATTRIBUTE = 'api-clients.secret-rotation';
/**
 * The catalogue scopes the service gave the client: a scope taken out of the catalogue later
 * still shows on the client (and can be removed) because it is named here.
 */
export const SCOPES_ATTRIBUTE = 'api-clients.scopes';
export const POST_LOGOUT_ATTRIBUTE = 'post.logout.redirect.uris';
export const BACKCHANNEL_URL_ATTRIBUTE = 'backchannel.logout.url';
export const BACKCHANNEL_SESSION_ATTRIBUTE = 'backchannel.logout.session.required';
export const BACKCHANNEL_REVOKE_ATTRIBUTE = 'backchannel.logout.revoke.offline.tokens';
/**
 * Keycloak falls back to the redirect URIs when post.logout.redirect.uris is absent or empty;
 * "-" is its value for "no post-logout redirect at all".
 */
export const NO_POST_LOGOUT_URIS = '-';
const URI_SEPARATOR = '##';
/** Keycloak's client authenticators (clientAuthenticatorType) for each credential type. */
export const AUTHENTICATOR = {
  secret: 'client-secret',
  'private-key-jwt': 'client-jwt',
  federated: 'federated-jwt',
} as const;
/**
 * Keycloak's attributes of federated-jwt (FederatedJWTClientAuthenticator): the identity
 * provider's alias and the exact subject. The issuer URL itself is the service's own attribute:
 * the alias is a digest of it (credentials/federation.ts).
 */
export const FEDERATED_IDP_ATTRIBUTE = 'jwt.credential.issuer';
export const FEDERATED_SUBJECT_ATTRIBUTE = 'jwt.credential.sub';
export const FEDERATED_ISSUER_ATTRIBUTE = 'api-clients.federated-issuer';
/** Keycloak's attributes of client-jwt (OIDCConfigAttributes, OIDCAdvancedConfigWrapper). */
export const USE_JWKS_STRING_ATTRIBUTE = 'use.jwks.string';
export const JWKS_STRING_ATTRIBUTE = 'jwks.string';
export const USE_JWKS_URL_ATTRIBUTE = 'use.jwks.url';
export const JWKS_URL_ATTRIBUTE = 'jwks.url';
export const SIGNING_ALG_ATTRIBUTE = 'token.endpoint.auth.signing.alg';
/** Keycloak's token settings of a client: "" means the realm's lifespan. */
export const ACCESS_TOKEN_LIFESPAN_ATTRIBUTE = 'access.token.lifespan';
export const DPOP_ATTRIBUTE = 'dpop.bound.access.tokens';

export type { ClientRepresentation };

/** The fields Keycloak must have on every client the service manages (the authenticator follows `credential`). */
export const FIXED_CLIENT_SETTINGS = {
  protocol: 'openid-connect',
  publicClient: false,
  implicitFlowEnabled: false,
  directAccessGrantsEnabled: false,
  frontchannelLogout: false,
  bearerOnly: false,
  consentRequired: false,
  // A token issued to or through the client carries only the roles in its own scope.
  fullScopeAllowed: false,
} as const satisfies ClientRepresentation;

/** Keycloak's built-in scope that turns a refresh token into an offline token. */
export const OFFLINE_ACCESS_SCOPE = 'offline_access';

/** A client's default or optional scope list without offline_access, unless configuration allows offline tokens. */
export function withoutOfflineAccess(scopes: readonly string[], allowOfflineAccess = false): string[] {
  return allowOfflineAccess ? [...scopes] : scopes.filter((scope) => scope !== OFFLINE_ACCESS_SCOPE);
}

/**
 * The resource's fields as a ClientRepresentation, for create and for a full update. Cleared
 * text is sent as "" (Keycloak ignores null on update and would keep the old value). Scopes are
 * not part of it: Keycloak ignores scope lists on update, so the service assigns them apart; nor
 * are roles, which are scope mappings and service-account role mappings (writes.ts).
 */
export function toClientRepresentation(
  clientId: string,
  accountId: string,
  createdAt: string,
  fields: ApiClientFields,
): ClientRepresentation {
  const backchannel = fields.backchannelLogout;
  return {
    ...FIXED_CLIENT_SETTINGS,
    clientId,
    name: fields.displayName ?? '',
    description: fields.description ?? '',
    rootUrl: fields.rootUrl ?? '',
    baseUrl: fields.homeUrl ?? '',
    adminUrl: fields.adminUrl ?? '',
    redirectUris: [...fields.redirectUris],
    webOrigins: [...fields.webOrigins],
    standardFlowEnabled: fields.capabilityTypes.includes('WebApp'),
    serviceAccountsEnabled: fields.capabilityTypes.includes('Script'),
    enabled: fields.enabled,
    attributes: {
      [ACCOUNT_ATTRIBUTE]: accountId,
      [CREATED_AT_ATTRIBUTE]: createdAt,
      [SECRET_ROTATION_ATTRIBUTE]: 'true',
      [SCOPES_ATTRIBUTE]: fields.scopes.join(URI_SEPARATOR),
      [POST_LOGOUT_ATTRIBUTE]:
        fields.postLogoutRedirectUris.length === 0
          ? NO_POST_LOGOUT_URIS
          : fields.postLogoutRedirectUris.join(URI_SEPARATOR),
      [BACKCHANNEL_URL_ATTRIBUTE]: backchannel?.url ?? '',
      [BACKCHANNEL_SESSION_ATTRIBUTE]: String(backchannel?.sessionRequired ?? false),
      [BACKCHANNEL_REVOKE_ATTRIBUTE]: String(backchannel?.revokeOfflineSessions ?? false),
      ...credentialAttributes(fields.credential),
      [ACCESS_TOKEN_LIFESPAN_ATTRIBUTE]:
        fields.tokenSettings.accessTokenLifetimeSeconds === null
          ? ''
          : String(fields.tokenSettings.accessTokenLifetimeSeconds),
      [DPOP_ATTRIBUTE]: String(fields.tokenSettings.requireDpop),
    },
    clientAuthenticatorType: AUTHENTICATOR[fields.credential.type],
  };
}

/**
 * Every attribute of both credential types, each time: Keycloak keeps attributes an update does
 * not name, and a key left behind after a switch would still be trusted. A private-key-jwt (or federated)
 * client keeps a secret in Keycloak that JWTClientAuthenticator never asks for (writes.ts replaces it on a
 * switch); its expiry is written as "never" so that no update finds it expired and rotates it.
 */
function credentialAttributes(credential: CredentialFields): Record<string, string> {
  const jwt = credential.type === 'private-key-jwt' ? credential : undefined;
  const federated = credential.type === 'federated' ? credential : undefined;
  return {
    ...expiryAttributes(credential.type === 'secret' ? credential.expiresAt : null),
    [USE_JWKS_STRING_ATTRIBUTE]: String(!!jwt?.jwks),
    [JWKS_STRING_ATTRIBUTE]: jwt?.jwks ? JSON.stringify(storedJwks(jwt.jwks)) : '',
    [USE_JWKS_URL_ATTRIBUTE]: String(!!jwt?.jwksUrl),
    [JWKS_URL_ATTRIBUTE]: jwt?.jwksUrl ?? '',
    [SIGNING_ALG_ATTRIBUTE]: jwt?.jwks ? signingAlgOf(jwt.jwks) : '',
    [FEDERATED_IDP_ATTRIBUTE]: federated?.issuer ? identityProviderAlias(federated.issuer) : '',
    [FEDERATED_SUBJECT_ATTRIBUTE]: federated?.subject ?? '',
    [FEDERATED_ISSUER_ATTRIBUTE]: federated?.issuer ?? '',
  };
}

/** What a create sends to Keycloak: the client, and when Keycloak fills in defaults, the update that takes them out again. */
export interface CreatePlan {
  rep: ClientRepresentation;
  /** The representation to write right after create, when Keycloak would have filled in redirect URIs or web origins. */
  fixUp: ClientRepresentation | undefined;
}

/**
 * The whole representation of a new client. Sent on create, scope lists replace the realm's
 * defaults: it carries the realm's own default scopes (less any catalogue scope, and less
 * offline_access unless configuration allows offline tokens) plus the chosen catalogue scopes, and
 * no optional scope at all (SPEC §5: a token through a managed client carries openid, profile,
 * email, its catalogue scopes and roles, nothing else; asking for address, phone,
 * microprofile-jwt or organization gets nothing). Keycloak's RepresentationToModel.createClient
 * attaches the realm's default optional scopes only when the representation names neither list;
 * an empty list, sent, stays empty. offline_access stays optional when configuration allows it.
 */
export function toCreatePlan(
  clientId: string,
  accountId: string,
  createdAt: string,
  fields: ApiClientFields,
  catalogue: Catalogue,
  realmDefaults: RealmDefaults,
  { allowOfflineAccess }: { allowOfflineAccess: boolean },
): CreatePlan {
  const inCatalogue = new Set(catalogue.names);
  const realmOwn = (scopes: string[]) =>
    withoutOfflineAccess(scopes, allowOfflineAccess).filter((scope) => !inCatalogue.has(scope));
  const rep: ClientRepresentation = {
    ...toClientRepresentation(clientId, accountId, createdAt, fields),
    defaultClientScopes: [...realmOwn(realmDefaults.defaults), ...fields.scopes],
    optionalClientScopes: realmOwn(realmDefaults.optional).filter((scope) => scope === OFFLINE_ACCESS_SCOPE),
  };
  // On create, an OIDC client with any rootUrl (even "") and no redirect URIs or web origins
  // gets "/*" for them from Keycloak. Leave rootUrl out when there is none, and put the lists
  // back right after create when there is one.
  if (fields.rootUrl === null) {
    const { rootUrl: _none, ...withoutRootUrl } = rep;
    return { rep: withoutRootUrl, fixUp: undefined };
  }
  const keycloakFillsDefaults = fields.redirectUris.length === 0 || fields.webOrigins.length === 0;
  return { rep, fixUp: keycloakFillsDefaults ? rep : undefined };
}

const textOrNull = (value: string | undefined): string | null => (value ? value : null);
const attribute = (rep: ClientRepresentation, name: string): string | undefined => {
  const value = (rep.attributes as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? String(value[0] ?? '') : undefined;
};

function capabilityTypesOf(rep: ClientRepresentation): CapabilityType[] {
  const types: CapabilityType[] = [];
  if (rep.standardFlowEnabled) types.push('WebApp');
  if (rep.serviceAccountsEnabled) types.push('Script');
  return types;
}

/**
 * The client's catalogue scopes among its default scopes: those in the catalogue, in catalogue
 * order, then those the service gave it that have left the catalogue since. The realm's own are
 * left out.
 */
export function catalogueScopesOf(rep: ClientRepresentation, catalogue: readonly string[]): string[] {
  const assigned = new Set(rep.defaultClientScopes ?? []);
  const inCatalogue = new Set(catalogue);
  const given = (attribute(rep, SCOPES_ATTRIBUTE) ?? '').split(URI_SEPARATOR).filter(Boolean);
  const retired = given.filter((name) => assigned.has(name) && !inCatalogue.has(name)).sort();
  return [...catalogue.filter((name) => assigned.has(name)), ...new Set(retired)];
}

function postLogoutUrisOf(rep: ClientRepresentation): string[] {
  const value = attribute(rep, POST_LOGOUT_ATTRIBUTE);
  // absent: Keycloak falls back to the redirect URIs, which is what "+" says
  if (value === undefined || value === '') return ['+'];
  if (value === NO_POST_LOGOUT_URIS) return [];
  return value.split(URI_SEPARATOR).filter(Boolean);
}

/**
 * The client's `roles`: the realm roles in its role scope (scope mappings), which the client
 * representation does not carry (one more call to read). Every one of them, catalogue or not, so
 * that a role taken out of the catalogue stays visible and can be removed.
 */
export const rolesOf = (roleScope: readonly { name?: string }[]): string[] =>
  roleScope
    .map((role) => role.name)
    .filter((name): name is string => !!name)
    .sort();

function jwksOf(rep: ClientRepresentation): Jwks | null {
  if (attribute(rep, USE_JWKS_STRING_ATTRIBUTE) !== 'true') return null;
  try {
    const parsed = JSON.parse(attribute(rep, JWKS_STRING_ATTRIBUTE) ?? '') as Jwks;
    return Array.isArray(parsed?.keys) ? parsed : null;
  } catch {
    return null;
  }
}

export function credentialOf(rep: ClientRepresentation): CredentialView {
  if (rep.clientAuthenticatorType === AUTHENTICATOR.federated) {
    return {
      type: 'federated',
      issuer: attribute(rep, FEDERATED_ISSUER_ATTRIBUTE) ?? '',
      subject: attribute(rep, FEDERATED_SUBJECT_ATTRIBUTE) ?? '',
    };
  }
  if (rep.clientAuthenticatorType === AUTHENTICATOR['private-key-jwt']) {
    const jwks = jwksOf(rep);
    const jwksUrl =
      attribute(rep, USE_JWKS_URL_ATTRIBUTE) === 'true'
        ? textOrNull(attribute(rep, JWKS_URL_ATTRIBUTE))
        : null;
    return { type: 'private-key-jwt', jwks, jwksUrl, keys: keyInfoOf(jwks) };
  }
  return { type: 'secret', expiresAt: expiresAtOf(rep.attributes as Record<string, unknown> | undefined) };
}

function tokenSettingsOf(rep: ClientRepresentation): TokenSettings {
  const lifespan = Number(attribute(rep, ACCESS_TOKEN_LIFESPAN_ATTRIBUTE) || Number.NaN);
  return {
    accessTokenLifetimeSeconds: Number.isInteger(lifespan) && lifespan > 0 ? lifespan : null,
    requireDpop: attribute(rep, DPOP_ATTRIBUTE) === 'true',
  };
}

/** The credential as a body gives it back (`keys` is what answers add). */
export function credentialFieldsOf(view: CredentialView): CredentialFields {
  if (view.type === 'secret') return { type: 'secret', expiresAt: view.expiresAt };
  if (view.type === 'federated') return { type: 'federated', issuer: view.issuer, subject: view.subject };
  return { type: 'private-key-jwt', jwks: view.jwks, jwksUrl: view.jwksUrl };
}

/**
 * The client's configuration. Keycloak's attributes are read one by one, never passed through:
 * they hold the rotated-out secret in plain text (client.secret.rotated).
 */
export function fromClientRepresentation(
  rep: ClientRepresentation,
  catalogue: readonly string[],
  roles: readonly string[] = [],
): ApiClientConfig {
  const backchannelUrl = attribute(rep, BACKCHANNEL_URL_ATTRIBUTE);
  return {
    clientId: rep.clientId ?? '',
    accountId: attribute(rep, ACCOUNT_ATTRIBUTE) ?? '',
    displayName: textOrNull(rep.name),
    description: textOrNull(rep.description),
    rootUrl: textOrNull(rep.rootUrl),
    homeUrl: textOrNull(rep.baseUrl),
    adminUrl: textOrNull(rep.adminUrl),
    redirectUris: [...(rep.redirectUris ?? [])].sort(),
    postLogoutRedirectUris: postLogoutUrisOf(rep),
    webOrigins: [...(rep.webOrigins ?? [])].sort(),
    capabilityTypes: capabilityTypesOf(rep),
    backchannelLogout: backchannelUrl
      ? {
          url: backchannelUrl,
          sessionRequired: attribute(rep, BACKCHANNEL_SESSION_ATTRIBUTE) === 'true',
          revokeOfflineSessions: attribute(rep, BACKCHANNEL_REVOKE_ATTRIBUTE) === 'true',
        }
      : null,
    scopes: catalogueScopesOf(rep, catalogue),
    roles: [...roles].sort(),
    enabled: rep.enabled ?? true,
    credential: credentialOf(rep),
    tokenSettings: tokenSettingsOf(rep),
    createdAt: textOrNull(attribute(rep, CREATED_AT_ATTRIBUTE)),
  };
}

export function toSummary(client: ApiClientConfig, lastUsedAt: string | null = null): ApiClientSummary {
  const { clientId, displayName, description, capabilityTypes, scopes, roles, enabled, createdAt } = client;
  const { credential } = client;
  return {
    clientId,
    displayName,
    description,
    capabilityTypes,
    scopes,
    roles,
    enabled,
    createdAt,
    lastUsedAt,
    credential: {
      type: credential.type,
      expiresAt: credential.type === 'secret' ? credential.expiresAt : null,
    },
  };
}

/** The editable fields of a resource (what PUT replaces). */
export function fieldsOf(client: ApiClientConfig): ApiClientFields {
  const {
    clientId: _c,
    accountId: _a,
    createdAt: _t,
    ...fields
  } = client as ApiClientConfig & Partial<Record<'lastUsedAt' | 'previousSecretExpiresAt', unknown>>;
  const { lastUsedAt: _u, previousSecretExpiresAt: _p, credential, ...editable } = fields;
  return { ...editable, credential: credentialFieldsOf(credential) };
}

/** Defaults for fields a create leaves out. */
export const DEFAULT_FIELDS: Omit<ApiClientFields, 'capabilityTypes' | 'credential'> & {
  credential: { type: 'secret'; expiresAt: string | null };
} = {
  displayName: null,
  description: null,
  rootUrl: null,
  homeUrl: null,
  adminUrl: null,
  redirectUris: [],
  postLogoutRedirectUris: [],
  webOrigins: [],
  backchannelLogout: null,
  scopes: [],
  roles: [],
  enabled: true,
  credential: { type: 'secret', expiresAt: null },
  tokenSettings: { accessTokenLifetimeSeconds: null, requireDpop: false },
};
