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
  };
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
];
