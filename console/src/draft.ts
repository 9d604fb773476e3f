// The form's draft of a client: its fields as the inputs hold them (lists as lines), read from
// and written to the resource.
import type { ApiClient } from './api.js';

export interface Draft {
  suffix: string;
  displayName: string;
  description: string;
  enabled: boolean;
  rootUrl: string;
  homeUrl: string;
  adminUrl: string;
  redirectUris: string;
  postLogoutRedirectUris: string;
  webOrigins: string;
  webApp: boolean;
  script: boolean;
  backchannelUrl: string;
  sessionRequired: boolean;
  revokeOfflineSessions: boolean;
  scopes: string[];
  roles: string[];
  credentialType: 'secret' | 'private-key-jwt' | 'federated';
  /** The secret's expiry as the API answered it (ISO), or "" for none; the date input edits its day. */
  secretExpiresAt: string;
  keySource: 'jwks' | 'jwksUrl';
  /** A JWK Set as pasted (JSON text). */
  jwks: string;
  jwksUrl: string;
  /** A workload identity: the token issuer and the exact subject. */
  issuer: string;
  subject: string;
  accessTokenLifetime: string;
  requireDpop: boolean;
}

export const emptyDraft: Draft = {
  suffix: '',
  displayName: '',
  description: '',
  enabled: true,
  rootUrl: '',
  homeUrl: '',
  adminUrl: '',
  redirectUris: '',
  postLogoutRedirectUris: '',
  webOrigins: '',
  webApp: false,
  script: true,
  backchannelUrl: '',
  sessionRequired: true,
  revokeOfflineSessions: false,
  scopes: [],
  roles: [],
  credentialType: 'secret',
  secretExpiresAt: '',
  keySource: 'jwks',
  jwks: '',
  jwksUrl: '',
  issuer: '',
  subject: '',
  accessTokenLifetime: '',
  requireDpop: false,
};

const lines = (text: string): string[] =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
const orNull = (text: string): string | null => (text.trim() === '' ? null : text.trim());

export function fromClient(client: ApiClient): Draft {
  return {
    suffix: '',
    displayName: client.displayName ?? '',
    description: client.description ?? '',
    enabled: client.enabled,
    rootUrl: client.rootUrl ?? '',
    homeUrl: client.homeUrl ?? '',
    adminUrl: client.adminUrl ?? '',
    redirectUris: client.redirectUris.join('\n'),
    postLogoutRedirectUris: client.postLogoutRedirectUris.join('\n'),
    webOrigins: client.webOrigins.join('\n'),
    webApp: client.capabilityTypes.includes('WebApp'),
    script: client.capabilityTypes.includes('Script'),
    backchannelUrl: client.backchannelLogout?.url ?? '',
    sessionRequired: client.backchannelLogout?.sessionRequired ?? true,
    revokeOfflineSessions: client.backchannelLogout?.revokeOfflineSessions ?? false,
    scopes: client.scopes,
    roles: client.roles,
    credentialType: client.credential.type,
    secretExpiresAt: client.credential.expiresAt ?? '',
    keySource: client.credential.jwksUrl ? 'jwksUrl' : 'jwks',
    jwks: client.credential.jwks ? JSON.stringify(client.credential.jwks, null, 2) : '',
    jwksUrl: client.credential.jwksUrl ?? '',
    issuer: client.credential.issuer ?? '',
    subject: client.credential.subject ?? '',
    accessTokenLifetime: client.tokenSettings.accessTokenLifetimeSeconds?.toString() ?? '',
    requireDpop: client.tokenSettings.requireDpop,
  };
}

/** The pasted JWK Set, or undefined when it is not JSON (the form says so before sending). */
export function parsedJwks(text: string): { keys: { kty: string }[] } | null | undefined {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as { keys: { kty: string }[] };
  } catch {
    return undefined;
  }
}

function credentialOf(draft: Draft) {
  if (draft.credentialType === 'secret')
    return { type: 'secret' as const, expiresAt: draft.secretExpiresAt || null };
  if (draft.credentialType === 'federated')
    return { type: 'federated' as const, issuer: orNull(draft.issuer), subject: orNull(draft.subject) };
  return draft.keySource === 'jwksUrl'
    ? { type: 'private-key-jwt' as const, jwks: null, jwksUrl: orNull(draft.jwksUrl) }
    : { type: 'private-key-jwt' as const, jwks: parsedJwks(draft.jwks) ?? null, jwksUrl: null };
}

/** Every editable field, as PUT takes them (create takes the same plus clientId). */
export function toFields(draft: Draft) {
  const capabilityTypes: ('WebApp' | 'Script')[] = [];
  if (draft.webApp) capabilityTypes.push('WebApp');
  if (draft.script) capabilityTypes.push('Script');
  return {
    displayName: orNull(draft.displayName),
    description: orNull(draft.description),
    rootUrl: orNull(draft.rootUrl),
    homeUrl: orNull(draft.homeUrl),
    adminUrl: orNull(draft.adminUrl),
    redirectUris: lines(draft.redirectUris),
    postLogoutRedirectUris: lines(draft.postLogoutRedirectUris),
    webOrigins: lines(draft.webOrigins),
    capabilityTypes,
    backchannelLogout:
      draft.webApp && draft.backchannelUrl.trim()
        ? {
            url: draft.backchannelUrl.trim(),
            sessionRequired: draft.sessionRequired,
            revokeOfflineSessions: draft.revokeOfflineSessions,
          }
        : null,
    scopes: draft.scopes,
    roles: draft.roles,
    enabled: draft.enabled,
    credential: credentialOf(draft),
    tokenSettings: {
      accessTokenLifetimeSeconds:
        draft.accessTokenLifetime.trim() === '' ? null : Number(draft.accessTokenLifetime),
      requireDpop: draft.requireDpop,
    },
  };
}

/** Fields the form has an input for: an error on any other one is listed at the top. */
export const FORM_FIELDS = [
  'clientId',
  'displayName',
  'description',
  'enabled',
  'rootUrl',
  'homeUrl',
  'adminUrl',
  'redirectUris',
  'postLogoutRedirectUris',
  'webOrigins',
  'capabilityTypes',
  'backchannelLogout',
  'backchannelLogout.url',
  'scopes',
  'roles',
  'credential',
  'credential.expiresAt',
  'credential.jwks',
  'credential.jwks.keys',
  'credential.jwksUrl',
  'credential.issuer',
  'credential.subject',
  'tokenSettings.accessTokenLifetimeSeconds',
];
