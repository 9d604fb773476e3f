// The rules of SPEC §2 that a JSON schema cannot say. Each returns every failing field at once,
// with its JSON pointer, so that a caller fixes a form in one round trip. They refuse what
// Keycloak would accept without honouring it (a redirect URI on a client with no browser flow,
// a path with no rootUrl to resolve it against, a fragment, a wildcard in the middle).
import type { FieldError } from '../../lib/problem.js';
import { jwksErrors } from './jwks.js';
import {
  type ApiClientFields,
  CLIENT_ID_SUFFIX_PATTERN,
  type CredentialFields,
  MAX_TEXT,
  MIN_ACCESS_TOKEN_LIFETIME,
} from './schema.js';
import { type ExpiryPolicy, expiresAtErrors } from './secret-expiry.js';
import {
  browserUrlReason,
  keycloakCalledUrlReason,
  originWithPort,
  rootUrlReason,
  STRICT_URL_SAFETY,
  type UrlSafetyOptions,
} from './url-safety.js';

export interface RuleContext {
  accountId: string;
  /** The client's clientId, when known (the service-account user's name derives from it). */
  clientId?: string;
  /** Names of the scope catalogue. */
  catalogue: ReadonlySet<string>;
  /** Scopes the client already has that left the catalogue: they may stay, never be added. */
  kept?: ReadonlySet<string>;
  /** Names of the role catalogue. */
  roleCatalogue: ReadonlySet<string>;
  /**
   * Roles the client holds already: they may stay (and be removed) after leaving the catalogue,
   * but never be added. Empty on create.
   */
  heldRoles?: ReadonlySet<string>;
  allowWildcardWebOrigin: boolean;
  /** For the URLs Keycloak calls; strict (https, public hosts only) when left out. */
  urlSafety?: UrlSafetyOptions;
  /** The clock and the account's maximum secret lifetime; no expiry rule without it. */
  expiry?: ExpiryPolicy;
  /** The client's credential before this change (undefined on create): an unchanged expiry is not judged again. */
  currentCredential?: CredentialFields;
  /** The realm's access-token lifespan in seconds: the longest a client's may be. */
  realmAccessTokenLifespan?: number;
}

const error = (pointer: string, reason: string): FieldError => ({ pointer, in: 'body', reason });

/**
 * Keycloak names a Script client's service-account user `service-account-<clientId>`, and its
 * USERNAME column is VARCHAR(255) (ServiceAccountConstants.SERVICE_ACCOUNT_USER_PREFIX): a longer
 * clientId makes Keycloak's create or update fail with a database error.
 */
export const MAX_SCRIPT_CLIENT_ID = MAX_TEXT - 'service-account-'.length;

export function clientIdErrors(clientId: string, accountId: string): FieldError[] {
  const prefix = `${accountId}_`;
  if (!clientId.startsWith(prefix)) return [error('/clientId', `must start with "${prefix}"`)];
  const suffix = clientId.slice(prefix.length);
  if (!CLIENT_ID_SUFFIX_PATTERN.test(suffix)) {
    return [error('/clientId', `after "${prefix}" only letters, digits, ".", "_" and "-" are allowed`)];
  }
  if (clientId.length > MAX_TEXT) return [error('/clientId', `must be at most ${MAX_TEXT} characters`)];
  return [];
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

const isHttpUrl = (url: URL | undefined): url is URL =>
  url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';

/**
 * `new URL()` repairs what it parses ("https:host" gains its "//", spaces are trimmed, "\\" reads
 * as "/"), but Keycloak compares the string as stored: check the text itself first.
 */
const ABSOLUTE_HTTP = /^https?:\/\/[^\s/?#\\*]+(?:[/?#][^\s\\]*)?$/i;

const isAbsoluteHttp = (value: string): boolean => ABSOLUTE_HTTP.test(value) && isHttpUrl(parseUrl(value));

function httpUrlReason(value: string): string | undefined {
  return isAbsoluteHttp(value) ? undefined : 'must be an absolute http(s) URL';
}

/** A redirect URI: absolute http(s) URL or /path, wildcard only at the end and never in the query. */
function redirectUriReason(value: string, hasRootUrl: boolean): string | undefined {
  if (value === '*') return 'a bare "*" would allow any redirect: list the URLs';
  if (value.includes('#')) return 'must not contain a fragment (#)';
  const star = value.indexOf('*');
  if (star !== -1 && star !== value.length - 1) return '"*" is allowed only as the last character';
  const query = value.indexOf('?');
  if (star !== -1 && query !== -1 && query < star) return '"*" is not allowed after "?"';
  if (/\s/.test(value)) return 'must not contain white space';
  if (value.startsWith('/')) {
    if (value.startsWith('//')) return 'must be an absolute URL or a path starting with a single "/"';
    return hasRootUrl ? undefined : 'a path needs rootUrl to resolve against';
  }
  const withoutStar = value.replace(/\*$/, '');
  if (!isAbsoluteHttp(withoutStar)) return 'must be an absolute http(s) URL or a /path';
  const written = browserUrlReason(withoutStar);
  if (written) return written;
  // "https://app.example.com*" would also match "https://app.example.com.evil.test/..."
  if (star !== -1 && !/^https?:\/\/[^/]+\//i.test(withoutStar)) return '"*" must follow a "/" after the host';
  return undefined;
}

function webOriginReason(value: string, allowWildcard: boolean): string | undefined {
  if (value === '+') return undefined;
  if (value === '*') return allowWildcard ? undefined : '"*" would allow every origin and is switched off';
  if (value.includes('*')) return '"*" is not allowed in an origin';
  const url = parseUrl(value);
  if (!isAbsoluteHttp(value) || !isHttpUrl(url)) return 'must be an origin scheme://host[:port]';
  if (url.origin !== value) {
    // Keycloak compares with the browser's Origin header, which is always written url.origin's way
    return url.origin.toLowerCase() === value.replace(/\/$/, '').toLowerCase() || url.pathname === '/'
      ? `must be written as browsers send it: ${url.origin}`
      : 'must be an origin scheme://host[:port], without path, query or trailing "/"';
  }
  return undefined;
}

function duplicates(values: string[], pointer: string): FieldError[] {
  const seen = new Set<string>();
  return values.flatMap((value, i) => {
    if (seen.has(value)) return [error(`${pointer}/${i}`, 'is listed twice')];
    seen.add(value);
    return [];
  });
}

/** Every rule of the resource, on the fields as they would be stored. */
export function apiClientErrors(fields: ApiClientFields, context: RuleContext): FieldError[] {
  const errors: FieldError[] = [];
  const webApp = fields.capabilityTypes.includes('WebApp');
  if (fields.capabilityTypes.includes('Script') && (context.clientId?.length ?? 0) > MAX_SCRIPT_CLIENT_ID) {
    errors.push(
      error('/capabilityTypes', `Script needs a clientId of at most ${MAX_SCRIPT_CLIENT_ID} characters`),
    );
  }
  const hasRootUrl = fields.rootUrl !== null;

  const urlSafety = context.urlSafety ?? STRICT_URL_SAFETY;
  if (fields.rootUrl !== null) {
    const reason = httpUrlReason(fields.rootUrl) ?? rootUrlReason(fields.rootUrl);
    if (reason) errors.push(error('/rootUrl', reason));
  }
  if (fields.adminUrl !== null) {
    const reason = keycloakCalledUrlReason(fields.adminUrl, urlSafety);
    if (reason) errors.push(error('/adminUrl', reason));
  }
  if (fields.homeUrl !== null) {
    const home = fields.homeUrl;
    if (home.startsWith('/') && !home.startsWith('//')) {
      if (!hasRootUrl) errors.push(error('/homeUrl', 'a path needs rootUrl to resolve against'));
    } else if (!isAbsoluteHttp(home)) {
      errors.push(error('/homeUrl', 'must be an absolute http(s) URL or a /path'));
    } else {
      const reason = browserUrlReason(home);
      if (reason) errors.push(error('/homeUrl', reason));
    }
  }

  fields.redirectUris.forEach((uri, i) => {
    const reason = redirectUriReason(uri, hasRootUrl);
    if (reason) errors.push(error(`/redirectUris/${i}`, reason));
  });
  errors.push(...duplicates(fields.redirectUris, '/redirectUris'));

  fields.postLogoutRedirectUris.forEach((uri, i) => {
    if (uri === '+') return;
    const reason = redirectUriReason(uri, hasRootUrl);
    if (reason) errors.push(error(`/postLogoutRedirectUris/${i}`, reason));
  });
  errors.push(...duplicates(fields.postLogoutRedirectUris, '/postLogoutRedirectUris'));
  if (fields.postLogoutRedirectUris.includes('+') && fields.redirectUris.length === 0) {
    errors.push(error('/postLogoutRedirectUris', '"+" stands for the redirect URIs, and there are none'));
  }

  fields.webOrigins.forEach((origin, i) => {
    const reason = webOriginReason(origin, context.allowWildcardWebOrigin);
    if (reason) errors.push(error(`/webOrigins/${i}`, reason));
  });
  errors.push(...duplicates(fields.webOrigins, '/webOrigins'));

  if (!webApp) {
    // Keycloak keeps these on a client without the browser flow but never uses them.
    for (const name of ['redirectUris', 'postLogoutRedirectUris', 'webOrigins'] as const) {
      if (fields[name].length > 0) errors.push(error(`/${name}`, 'only a WebApp client uses these'));
    }
  }
  if (fields.backchannelLogout !== null) {
    if (!webApp) errors.push(error('/backchannelLogout', 'only a WebApp client has back-channel logout'));
    const reason = keycloakCalledUrlReason(fields.backchannelLogout.url, urlSafety);
    if (reason) errors.push(error('/backchannelLogout/url', reason));
  }

  fields.scopes.forEach((scope, i) => {
    if (!context.catalogue.has(scope) && !context.kept?.has(scope)) {
      errors.push(
        error(`/scopes/${i}`, `is not in the scope catalogue (${[...context.catalogue].join(', ')})`),
      );
    }
  });
  errors.push(...duplicates(fields.scopes, '/scopes'));

  const held = context.heldRoles ?? new Set<string>();
  fields.roles.forEach((role, i) => {
    if (!context.roleCatalogue.has(role) && !held.has(role)) {
      errors.push(
        error(`/roles/${i}`, `is not in the role catalogue (${[...context.roleCatalogue].join(', ')})`),
      );
    }
  });
  errors.push(...duplicates(fields.roles, '/roles'));
  errors.push(...credentialErrors(fields.credential, context, urlSafety));

  const lifetime = fields.tokenSettings.accessTokenLifetimeSeconds;
  const realmLifespan = context.realmAccessTokenLifespan;
  if (lifetime !== null && lifetime < MIN_ACCESS_TOKEN_LIFETIME) {
    errors.push(
      error('/tokenSettings/accessTokenLifetimeSeconds', `must be at least ${MIN_ACCESS_TOKEN_LIFETIME}`),
    );
  } else if (lifetime !== null && realmLifespan !== undefined && lifetime > realmLifespan) {
    errors.push(
      error(
        '/tokenSettings/accessTokenLifetimeSeconds',
        `must be at most ${realmLifespan}, the realm's own access-token lifespan`,
      ),
    );
  }
  return errors;
}

/** The credential's rules: a secret's expiry; a key pair's keys, or the URL Keycloak fetches them from. */
function credentialErrors(
  credential: CredentialFields,
  context: RuleContext,
  urlSafety: UrlSafetyOptions,
): FieldError[] {
  if (credential.type === 'secret') {
    if (!context.expiry) return [];
    const current =
      context.currentCredential?.type === 'secret' ? context.currentCredential.expiresAt : undefined;
    return expiresAtErrors(credential.expiresAt, context.expiry, '/credential/expiresAt', current);
  }
  if (credential.type === 'federated') return federatedErrors(credential, urlSafety);
  if (credential.jwks && credential.jwksUrl)
    return [error('/credential', 'give the public keys as jwks or as jwksUrl, not both')];
  if (credential.jwks) return jwksErrors(credential.jwks);
  if (credential.jwksUrl) {
    const reason = keycloakCalledUrlReason(credential.jwksUrl, urlSafety);
    return reason ? [error('/credential/jwksUrl', reason)] : [];
  }
  return [error('/credential', 'a private-key-jwt credential needs its public keys: jwks or jwksUrl')];
}

const isKeycloakItself = (issuer: string, { keycloakOrigins = [] }: UrlSafetyOptions): boolean =>
  URL.canParse(issuer) && keycloakOrigins.includes(originWithPort(new URL(issuer)));
/** Whether the operator's list of issuer origins (if any) leaves this issuer out. */
const isIssuerNotAccepted = (issuer: string, { federatedIssuerOrigins = [] }: UrlSafetyOptions): boolean =>
  federatedIssuerOrigins.length > 0 &&
  URL.canParse(issuer) &&
  !federatedIssuerOrigins.includes(originWithPort(new URL(issuer)));

/** A federated credential: an issuer Keycloak may call, and a subject compared exactly. */
function federatedErrors(
  credential: { issuer: string | null; subject: string | null },
  urlSafety: UrlSafetyOptions,
): FieldError[] {
  const errors: FieldError[] = [];
  if (!credential.issuer) errors.push(error('/credential/issuer', 'a federated credential needs its issuer'));
  else {
    const reason = isKeycloakItself(credential.issuer, urlSafety)
      ? "is the platform's own Keycloak: a workload's issuer is another party"
      : isIssuerNotAccepted(credential.issuer, urlSafety)
        ? 'is not among the workload identity issuers this platform accepts'
        : keycloakCalledUrlReason(credential.issuer, urlSafety);
    if (reason) errors.push(error('/credential/issuer', reason));
    else if (/[?#]/.test(credential.issuer))
      errors.push(error('/credential/issuer', 'an issuer has no query or fragment'));
  }
  if (!credential.subject) {
    errors.push(error('/credential/subject', "a federated credential needs the workload token's subject"));
  } else if (credential.subject !== credential.subject.trim()) {
    errors.push(error('/credential/subject', 'is compared exactly: no leading or trailing white space'));
  }
  return errors;
}

/** Normalises what a caller sent: blank text becomes null. */
export function normaliseFields(fields: ApiClientFields): ApiClientFields {
  const blankToNull = (value: string | null): string | null =>
    value === null || value.trim() === '' ? null : value;
  return {
    ...fields,
    displayName: blankToNull(fields.displayName),
    description: blankToNull(fields.description),
    rootUrl: blankToNull(fields.rootUrl),
    homeUrl: blankToNull(fields.homeUrl),
    adminUrl: blankToNull(fields.adminUrl),
    credential:
      fields.credential.type === 'private-key-jwt'
        ? { ...fields.credential, jwksUrl: blankToNull(fields.credential.jwksUrl) }
        : fields.credential.type === 'federated'
          ? { ...fields.credential, issuer: blankToNull(fields.credential.issuer) }
          : fields.credential,
  };
}
