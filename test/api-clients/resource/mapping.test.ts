// SPEC §2, field by field: the API client resource as a Keycloak ClientRepresentation and back.

import { describe, expect, it } from 'vitest';
import { identityProviderAlias } from '../../../src/api-clients/resource/identity-provider.js';
import {
  ACCOUNT_ATTRIBUTE,
  BACKCHANNEL_REVOKE_ATTRIBUTE,
  BACKCHANNEL_SESSION_ATTRIBUTE,
  BACKCHANNEL_URL_ATTRIBUTE,
  type ClientRepresentation,
  CREATED_AT_ATTRIBUTE,
  catalogueScopesOf,
  DEFAULT_FIELDS,
  FIXED_CLIENT_SETTINGS,
  fieldsOf,
  fromClientRepresentation,
  NO_POST_LOGOUT_URIS,
  POST_LOGOUT_ATTRIBUTE,
  rolesOf,
  toClientRepresentation,
  toSummary,
} from '../../../src/api-clients/resource/mapping.js';
import type { ApiClientConfig } from '../../../src/api-clients/resource/schema.js';

const CATALOGUE = ['datahub-api', 'push-data'] as const;
/** The realm's own default scopes, which every client keeps next to its catalogue scopes. */
const REALM_DEFAULTS = ['acr', 'basic', 'email', 'profile', 'roles', 'web-origins'];
const CREATED_AT = '2024-05-06T07:08:09.000Z';
/** RFC 7638 §3.1's example key, with a kid and alg of ours; its thumbprint is the RFC's. */
const RSA_KEY = {
  kty: 'RSA',
  kid: 'k1',
  alg: 'RS256',
  n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
};
const RSA_THUMBPRINT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';

const base: ApiClientConfig = {
  clientId: 'acme_web-app',
  accountId: 'acme',
  ...DEFAULT_FIELDS,
  capabilityTypes: ['WebApp'],
  createdAt: CREATED_AT,
};

/** What the service sends: the resource's fields, plus scopes the way create assigns them. */
function toRep(client: ApiClientConfig): ClientRepresentation {
  return toClientRepresentation(client.clientId, client.accountId, client.createdAt ?? '', fieldsOf(client));
}
function withScopes(rep: ClientRepresentation, scopes: string[]): ClientRepresentation {
  return { ...rep, defaultClientScopes: [...REALM_DEFAULTS, ...scopes] };
}

interface Row {
  /** The SPEC §2 field the row is about. */
  field: string;
  /** What the row sets on the base resource. */
  resource: Partial<ApiClientConfig>;
  /** The part of the ClientRepresentation it must give (a subset, compared with toMatchObject). */
  rep: ClientRepresentation;
  /** Members the representation must not carry. */
  absent?: string[];
  /** What Keycloak adds to the stored client before it is read back (scopes are assigned apart). */
  stored?: Partial<ClientRepresentation>;
  /** How the resource reads back, when it is not exactly `resource`. */
  back?: Partial<ApiClientConfig>;
  /** The client's role scope (realm scope mappings) as Keycloak answers it, read apart from the client. */
  roleScope?: { id: string; name: string }[];
}

const rows: Row[] = [
  {
    field: 'credential (a secret that never expires)',
    resource: { credential: { type: 'secret', expiresAt: null } },
    rep: {
      clientAuthenticatorType: 'client-secret',
      attributes: {
        'client.secret.expiration.time': '2145916800',
        'use.jwks.string': 'false',
        'jwks.string': '',
        'use.jwks.url': 'false',
        'jwks.url': '',
      },
    },
  },
  {
    // Keycloak accepts a secret through the second its expiry names: the last second before expiresAt
    field: 'credential (a secret with an expiry)',
    resource: { credential: { type: 'secret', expiresAt: '2027-01-01T00:00:00.000Z' } },
    rep: {
      attributes: { 'client.secret.expiration.time': String(Date.parse('2027-01-01T00:00:00Z') / 1000 - 1) },
    },
  },
  {
    field: 'credential (a key pair, pasted)',
    resource: {
      credential: {
        type: 'private-key-jwt',
        jwks: { keys: [RSA_KEY] },
        jwksUrl: null,
        keys: [{ kid: 'k1', kty: 'RSA', alg: 'RS256', thumbprint: RSA_THUMBPRINT }],
      },
    },
    rep: {
      clientAuthenticatorType: 'client-jwt',
      attributes: {
        'use.jwks.string': 'true',
        'jwks.string': JSON.stringify({ keys: [RSA_KEY] }),
        'use.jwks.url': 'false',
        'jwks.url': '',
        'token.endpoint.auth.signing.alg': 'RS256',
      },
    },
  },
  {
    // FederatedJWTClientAuthenticator: the identity provider's alias (a digest of the issuer) and the
    // exact subject; the issuer URL itself is the service's own attribute
    field: 'credential (federated)',
    resource: {
      credential: {
        type: 'federated',
        issuer: 'https://token.actions.githubusercontent.com',
        subject: 'repo:acme/app:environment:prod',
      },
    },
    rep: {
      clientAuthenticatorType: 'federated-jwt',
      attributes: {
        'jwt.credential.issuer': identityProviderAlias('https://token.actions.githubusercontent.com'),
        'jwt.credential.sub': 'repo:acme/app:environment:prod',
        'api-clients.federated-issuer': 'https://token.actions.githubusercontent.com',
        'use.jwks.string': 'false',
        'use.jwks.url': 'false',
      },
    },
  },
  {
    field: 'credential (a key pair by URL)',
    resource: {
      credential: { type: 'private-key-jwt', jwks: null, jwksUrl: 'https://keys.example.com/jwks', keys: [] },
    },
    rep: {
      clientAuthenticatorType: 'client-jwt',
      attributes: {
        'use.jwks.string': 'false',
        'jwks.string': '',
        'use.jwks.url': 'true',
        'jwks.url': 'https://keys.example.com/jwks',
        'token.endpoint.auth.signing.alg': '',
      },
    },
  },
  {
    field: 'tokenSettings',
    resource: { tokenSettings: { accessTokenLifetimeSeconds: 120, requireDpop: true } },
    rep: { attributes: { 'access.token.lifespan': '120', 'dpop.bound.access.tokens': 'true' } },
  },
  {
    field: "tokenSettings (the realm's lifespan)",
    resource: { tokenSettings: { accessTokenLifetimeSeconds: null, requireDpop: false } },
    rep: { attributes: { 'access.token.lifespan': '', 'dpop.bound.access.tokens': 'false' } },
  },
  {
    field: 'clientId',
    resource: { clientId: 'acme_reporting.job-1' },
    rep: { clientId: 'acme_reporting.job-1' },
  },
  {
    field: 'accountId',
    resource: { accountId: 'acme', clientId: 'acme_x' },
    rep: { attributes: { [ACCOUNT_ATTRIBUTE]: 'acme' } },
  },
  {
    field: 'accountId (another account)',
    resource: { accountId: 'globex-eu', clientId: 'globex-eu_x' },
    rep: { attributes: { [ACCOUNT_ATTRIBUTE]: 'globex-eu' } },
  },
  { field: 'displayName', resource: { displayName: 'Nightly job' }, rep: { name: 'Nightly job' } },
  // null goes out as "" so that Keycloak clears the old value (it ignores null on update)
  { field: 'displayName (null)', resource: { displayName: null }, rep: { name: '' } },
  {
    field: 'description',
    resource: { description: 'Reports, every night' },
    rep: { description: 'Reports, every night' },
  },
  { field: 'description (null)', resource: { description: null }, rep: { description: '' } },
  {
    field: 'rootUrl',
    resource: { rootUrl: 'https://app.example.com' },
    rep: { rootUrl: 'https://app.example.com' },
  },
  { field: 'rootUrl (null)', resource: { rootUrl: null }, rep: { rootUrl: '' } },
  {
    field: 'homeUrl',
    resource: { homeUrl: 'https://app.example.com/home' },
    rep: { baseUrl: 'https://app.example.com/home' },
  },
  {
    field: 'homeUrl (a path)',
    resource: { rootUrl: 'https://app.example.com', homeUrl: '/home' },
    rep: { rootUrl: 'https://app.example.com', baseUrl: '/home' },
  },
  { field: 'homeUrl (null)', resource: { homeUrl: null }, rep: { baseUrl: '' } },
  {
    field: 'adminUrl',
    resource: { adminUrl: 'https://admin.example.com/kc' },
    rep: { adminUrl: 'https://admin.example.com/kc' },
  },
  { field: 'adminUrl (null)', resource: { adminUrl: null }, rep: { adminUrl: '' } },
  {
    field: 'redirectUris',
    resource: {
      rootUrl: 'https://app.example.com',
      redirectUris: ['/callback', 'http://localhost:3000/*', 'https://app.example.com/cb'],
    },
    rep: { redirectUris: ['/callback', 'http://localhost:3000/*', 'https://app.example.com/cb'] },
  },
  { field: 'redirectUris (none)', resource: { redirectUris: [] }, rep: { redirectUris: [] } },
  {
    field: 'postLogoutRedirectUris',
    resource: {
      redirectUris: ['https://app.example.com/cb'],
      postLogoutRedirectUris: ['https://app.example.com/bye', 'https://app.example.com/logged-out/*'],
    },
    rep: {
      attributes: {
        [POST_LOGOUT_ATTRIBUTE]: 'https://app.example.com/bye##https://app.example.com/logged-out/*',
      },
    },
  },
  {
    // "none" is stored explicitly: Keycloak falls back to the redirect URIs when the attribute is absent
    field: 'postLogoutRedirectUris (none)',
    resource: { redirectUris: ['https://app.example.com/cb'], postLogoutRedirectUris: [] },
    rep: { attributes: { [POST_LOGOUT_ATTRIBUTE]: '-' } },
  },
  {
    field: 'postLogoutRedirectUris (+)',
    resource: { redirectUris: ['https://app.example.com/cb'], postLogoutRedirectUris: ['+'] },
    rep: { attributes: { [POST_LOGOUT_ATTRIBUTE]: '+' } },
  },
  {
    field: 'postLogoutRedirectUris (+ and one more)',
    resource: {
      redirectUris: ['https://a.example.com/cb'],
      postLogoutRedirectUris: ['+', 'https://b.example.com/bye'],
    },
    rep: { attributes: { [POST_LOGOUT_ATTRIBUTE]: '+##https://b.example.com/bye' } },
  },
  {
    field: 'webOrigins',
    resource: { webOrigins: ['+', 'http://localhost:3000', 'https://app.example.com'] },
    rep: { webOrigins: ['+', 'http://localhost:3000', 'https://app.example.com'] },
  },
  { field: 'webOrigins (none)', resource: { webOrigins: [] }, rep: { webOrigins: [] } },
  {
    field: 'capabilityTypes (WebApp)',
    resource: { capabilityTypes: ['WebApp'] },
    rep: { standardFlowEnabled: true, serviceAccountsEnabled: false },
  },
  {
    field: 'capabilityTypes (Script)',
    resource: { capabilityTypes: ['Script'] },
    rep: { standardFlowEnabled: false, serviceAccountsEnabled: true },
  },
  {
    field: 'capabilityTypes (both)',
    resource: { capabilityTypes: ['WebApp', 'Script'] },
    rep: { standardFlowEnabled: true, serviceAccountsEnabled: true },
  },
  {
    field: 'backchannelLogout',
    resource: {
      backchannelLogout: {
        url: 'https://app.example.com/backchannel',
        sessionRequired: true,
        revokeOfflineSessions: false,
      },
    },
    rep: {
      frontchannelLogout: false,
      attributes: {
        [BACKCHANNEL_URL_ATTRIBUTE]: 'https://app.example.com/backchannel',
        [BACKCHANNEL_SESSION_ATTRIBUTE]: 'true',
        [BACKCHANNEL_REVOKE_ATTRIBUTE]: 'false',
      },
    },
  },
  {
    field: 'backchannelLogout (revoke offline sessions)',
    resource: {
      backchannelLogout: {
        url: 'http://localhost:8081/logout',
        sessionRequired: false,
        revokeOfflineSessions: true,
      },
    },
    rep: {
      frontchannelLogout: false,
      attributes: {
        [BACKCHANNEL_URL_ATTRIBUTE]: 'http://localhost:8081/logout',
        [BACKCHANNEL_SESSION_ATTRIBUTE]: 'false',
        [BACKCHANNEL_REVOKE_ATTRIBUTE]: 'true',
      },
    },
  },
  {
    // null clears the URL, which switches back-channel logout off in Keycloak
    field: 'backchannelLogout (null)',
    resource: { backchannelLogout: null },
    rep: {
      frontchannelLogout: false,
      attributes: {
        [BACKCHANNEL_URL_ATTRIBUTE]: '',
        [BACKCHANNEL_SESSION_ATTRIBUTE]: 'false',
        [BACKCHANNEL_REVOKE_ATTRIBUTE]: 'false',
      },
    },
  },
  {
    // Keycloak ignores scope lists on update: the mapping leaves them out, the service assigns them apart
    field: 'scopes',
    resource: { scopes: ['datahub-api'] },
    rep: {},
    absent: ['defaultClientScopes', 'optionalClientScopes'],
    stored: { defaultClientScopes: ['basic', 'profile', 'datahub-api', 'web-origins'] },
  },
  {
    field: 'scopes (every catalogue scope)',
    resource: { scopes: ['datahub-api', 'push-data'] },
    rep: {},
    absent: ['defaultClientScopes', 'optionalClientScopes'],
    stored: { defaultClientScopes: [...REALM_DEFAULTS, 'push-data', 'datahub-api'] },
  },
  {
    field: 'scopes (none)',
    resource: { scopes: [] },
    rep: {},
    absent: ['defaultClientScopes', 'optionalClientScopes'],
    stored: { defaultClientScopes: REALM_DEFAULTS },
  },
  {
    // roles are scope mappings (and service-account role mappings), not part of the representation
    field: 'roles',
    resource: { roles: ['insights-viewer'] },
    rep: {},
    absent: ['roles', 'scopeMappings', 'clientScopeMappings'],
    roleScope: [{ id: 'r1', name: 'insights-viewer' }],
  },
  {
    field: 'roles (any role in the role scope, sorted; one out of the catalogue stays visible)',
    resource: { roles: ['insights-editor', 'retired-role'] },
    rep: {},
    absent: ['roles'],
    roleScope: [
      { id: 'r2', name: 'retired-role' },
      { id: 'r1', name: 'insights-editor' },
    ],
  },
  { field: 'roles (none)', resource: { roles: [] }, rep: {}, roleScope: [] },
  { field: 'enabled', resource: { enabled: true }, rep: { enabled: true } },
  { field: 'enabled (false)', resource: { enabled: false }, rep: { enabled: false } },
  {
    field: 'createdAt',
    resource: { createdAt: '2023-12-31T23:59:59.999Z' },
    rep: { attributes: { [CREATED_AT_ATTRIBUTE]: '2023-12-31T23:59:59.999Z' } },
  },
];

describe('toClientRepresentation and fromClientRepresentation, field by field (SPEC §2)', () => {
  it.each(rows)('$field', ({ resource, rep, absent = [], stored = {}, back = {}, roleScope }) => {
    const client: ApiClientConfig = { ...base, ...resource };
    const out = toRep(client);

    expect(out).toMatchObject(rep);
    expect(out).toMatchObject(FIXED_CLIENT_SETTINGS);
    for (const name of absent) expect(out).not.toHaveProperty(name);

    const read = fromClientRepresentation({ ...out, ...stored }, CATALOGUE, rolesOf(roleScope ?? []));
    expect(read).toEqual({ ...client, ...back });
  });

  it('covers every field of the resource', () => {
    const covered = new Set(rows.map((row) => row.field.split(' ')[0]));
    expect([...covered].sort()).toEqual(Object.keys(base).sort());
  });

  it('sets the fixed settings on every client', () => {
    for (const capabilityTypes of [
      ['WebApp'],
      ['Script'],
      ['WebApp', 'Script'],
    ] as ApiClientConfig['capabilityTypes'][]) {
      expect(toRep({ ...base, capabilityTypes })).toMatchObject({
        protocol: 'openid-connect',
        publicClient: false,
        clientAuthenticatorType: 'client-secret',
        implicitFlowEnabled: false,
        directAccessGrantsEnabled: false,
        frontchannelLogout: false,
      });
    }
  });

  it('reads "" back as null for every text field', () => {
    const read = fromClientRepresentation(
      { clientId: 'acme_x', name: '', description: '', rootUrl: '', baseUrl: '', adminUrl: '' },
      CATALOGUE,
    );
    expect(read).toMatchObject({
      displayName: null,
      description: null,
      rootUrl: null,
      homeUrl: null,
      adminUrl: null,
    });
  });

  it('gives the constants their Keycloak names', () => {
    expect({
      ACCOUNT_ATTRIBUTE,
      CREATED_AT_ATTRIBUTE,
      POST_LOGOUT_ATTRIBUTE,
      BACKCHANNEL_URL_ATTRIBUTE,
      BACKCHANNEL_SESSION_ATTRIBUTE,
      BACKCHANNEL_REVOKE_ATTRIBUTE,
      NO_POST_LOGOUT_URIS,
    }).toEqual({
      ACCOUNT_ATTRIBUTE: 'api-clients.account',
      CREATED_AT_ATTRIBUTE: 'api-clients.created-at',
      POST_LOGOUT_ATTRIBUTE: 'post.logout.redirect.uris',
      BACKCHANNEL_URL_ATTRIBUTE: 'backchannel.logout.url',
      BACKCHANNEL_SESSION_ATTRIBUTE: 'backchannel.logout.session.required',
      BACKCHANNEL_REVOKE_ATTRIBUTE: 'backchannel.logout.revoke.offline.tokens',
      NO_POST_LOGOUT_URIS: '-',
    });
  });
});

describe('reading what Keycloak answers', () => {
  const minimal: ClientRepresentation = { clientId: 'acme_x', standardFlowEnabled: true };

  it.each<[string, ClientRepresentation, Partial<ApiClientConfig>]>([
    // Keycloak then falls back to the redirect URIs, which is what "+" says
    [
      'an absent post.logout.redirect.uris as ["+"]',
      { ...minimal, redirectUris: ['https://a.example.com/cb'], attributes: {} },
      { postLogoutRedirectUris: ['+'] },
    ],
    ['no attributes at all as ["+"]', minimal, { postLogoutRedirectUris: ['+'] }],
    [
      'an empty post.logout.redirect.uris as ["+"]',
      { ...minimal, attributes: { [POST_LOGOUT_ATTRIBUTE]: '' } },
      { postLogoutRedirectUris: ['+'] },
    ],
    [
      '"-" as no URI at all',
      { ...minimal, attributes: { [POST_LOGOUT_ATTRIBUTE]: '-' } },
      { postLogoutRedirectUris: [] },
    ],
    [
      'attribute values given as arrays',
      {
        ...minimal,
        attributes: {
          [ACCOUNT_ATTRIBUTE]: ['acme'],
          [CREATED_AT_ATTRIBUTE]: [CREATED_AT],
          [POST_LOGOUT_ATTRIBUTE]: ['https://a.example.com/bye##https://b.example.com/bye'],
          [BACKCHANNEL_URL_ATTRIBUTE]: ['https://a.example.com/bc'],
          [BACKCHANNEL_SESSION_ATTRIBUTE]: ['true'],
          [BACKCHANNEL_REVOKE_ATTRIBUTE]: ['true'],
        },
      },
      {
        accountId: 'acme',
        createdAt: CREATED_AT,
        postLogoutRedirectUris: ['https://a.example.com/bye', 'https://b.example.com/bye'],
        backchannelLogout: {
          url: 'https://a.example.com/bc',
          sessionRequired: true,
          revokeOfflineSessions: true,
        },
      },
    ],
    [
      '"-" given as an array',
      { ...minimal, attributes: { [POST_LOGOUT_ATTRIBUTE]: ['-'] } },
      { postLogoutRedirectUris: [] },
    ],
    [
      'an empty array attribute as absent',
      { ...minimal, attributes: { [BACKCHANNEL_URL_ATTRIBUTE]: [], [CREATED_AT_ATTRIBUTE]: [] } },
      { backchannelLogout: null, createdAt: null },
    ],
    [
      'an empty back-channel URL as no back-channel logout',
      {
        ...minimal,
        attributes: {
          [BACKCHANNEL_URL_ATTRIBUTE]: '',
          [BACKCHANNEL_SESSION_ATTRIBUTE]: 'true',
          [BACKCHANNEL_REVOKE_ATTRIBUTE]: 'true',
        },
      },
      { backchannelLogout: null },
    ],
    [
      'back-channel flags that are absent as false',
      { ...minimal, attributes: { [BACKCHANNEL_URL_ATTRIBUTE]: 'https://a.example.com/bc' } },
      {
        backchannelLogout: {
          url: 'https://a.example.com/bc',
          sessionRequired: false,
          revokeOfflineSessions: false,
        },
      },
    ],
    [
      'only the catalogue scopes among the default client scopes',
      { ...minimal, defaultClientScopes: ['basic', 'profile', 'datahub-api', 'web-origins'] },
      { scopes: ['datahub-api'] },
    ],
    [
      'no optional client scope as a scope',
      { ...minimal, defaultClientScopes: ['profile'], optionalClientScopes: ['push-data', 'address'] },
      { scopes: [] },
    ],
    ['no default client scopes as no scopes', minimal, { scopes: [] }],
    ['an absent enabled as true', minimal, { enabled: true }],
    ['no flow at all as no capability type', { clientId: 'acme_x' }, { capabilityTypes: [] }],
    [
      'absent text and lists as null and []',
      { clientId: 'acme_x' },
      {
        accountId: '',
        displayName: null,
        description: null,
        rootUrl: null,
        homeUrl: null,
        adminUrl: null,
        redirectUris: [],
        webOrigins: [],
        createdAt: null,
      },
    ],
  ])('reads %s', (_name, rep, expected) => {
    expect(fromClientRepresentation(rep, CATALOGUE)).toMatchObject(expected);
  });

  it('keeps catalogue scopes apart from the realm defaults', () => {
    const rep = { defaultClientScopes: ['basic', 'profile', 'datahub-api', 'web-origins'] };
    expect(fromClientRepresentation(rep, ['datahub-api', 'push-data']).scopes).toEqual(['datahub-api']);
    expect(catalogueScopesOf(rep, ['datahub-api', 'push-data'])).toEqual(['datahub-api']);
    expect(
      catalogueScopesOf({ defaultClientScopes: [...REALM_DEFAULTS, 'push-data', 'datahub-api'] }, CATALOGUE),
    ).toEqual(['datahub-api', 'push-data']);
    expect(catalogueScopesOf({}, CATALOGUE)).toEqual([]);
    expect(catalogueScopesOf({ defaultClientScopes: ['datahub-api'] }, [])).toEqual([]);
  });
});

describe('a whole resource, there and back', () => {
  const complete: ApiClientConfig[] = [
    {
      clientId: 'acme_portal',
      accountId: 'acme',
      displayName: 'Customer portal',
      description: 'The portal, with reporting',
      rootUrl: 'https://portal.example.com',
      homeUrl: '/welcome',
      adminUrl: 'https://portal.example.com/admin',
      redirectUris: ['/callback', 'http://localhost:3000/*', 'https://portal.example.com/silent-renew'],
      postLogoutRedirectUris: ['+', 'https://portal.example.com/goodbye'],
      webOrigins: ['+', 'http://localhost:3000'],
      capabilityTypes: ['WebApp', 'Script'],
      backchannelLogout: {
        url: 'https://portal.example.com/backchannel-logout',
        sessionRequired: true,
        revokeOfflineSessions: true,
      },
      scopes: ['datahub-api', 'push-data'],
      roles: ['insights-editor', 'insights-viewer'],
      enabled: true,
      credential: { type: 'secret', expiresAt: '2027-01-02T03:04:05.000Z' },
      tokenSettings: { accessTokenLifetimeSeconds: 120, requireDpop: true },
      createdAt: '2024-01-02T03:04:05.678Z',
    },
    {
      clientId: 'acme_nightly.job_2',
      accountId: 'acme',
      displayName: null,
      description: null,
      rootUrl: null,
      homeUrl: null,
      adminUrl: null,
      redirectUris: [],
      postLogoutRedirectUris: [],
      webOrigins: [],
      capabilityTypes: ['Script'],
      backchannelLogout: null,
      scopes: ['push-data'],
      roles: ['retired-role'],
      enabled: false,
      credential: {
        type: 'private-key-jwt',
        jwks: { keys: [RSA_KEY] },
        jwksUrl: null,
        keys: [{ kid: 'k1', kty: 'RSA', alg: 'RS256', thumbprint: RSA_THUMBPRINT }],
      },
      tokenSettings: { accessTokenLifetimeSeconds: null, requireDpop: false },
      createdAt: CREATED_AT,
    },
    {
      clientId: 'globex-eu_spa',
      accountId: 'globex-eu',
      displayName: 'SPA',
      description: null,
      rootUrl: null,
      homeUrl: 'https://spa.globex.example/',
      adminUrl: null,
      redirectUris: ['https://spa.globex.example/cb'],
      postLogoutRedirectUris: [],
      webOrigins: ['https://spa.globex.example'],
      capabilityTypes: ['WebApp'],
      backchannelLogout: {
        url: 'https://api.globex.example/logout',
        sessionRequired: false,
        revokeOfflineSessions: false,
      },
      scopes: [],
      roles: [],
      enabled: true,
      credential: {
        type: 'private-key-jwt',
        jwks: null,
        jwksUrl: 'https://keys.globex.example/jwks',
        keys: [],
      },
      tokenSettings: { accessTokenLifetimeSeconds: 300, requireDpop: false },
      createdAt: CREATED_AT,
    },
  ];

  it.each(complete)('$clientId', (client) => {
    const rep = withScopes(toRep(client), client.scopes);
    // roles come from the client's role scope (scope mappings), read apart, in any order
    const roleScope = [...client.roles].reverse().map((name) => ({ id: `id-${name}`, name }));
    expect(fromClientRepresentation(rep, CATALOGUE, rolesOf(roleScope))).toEqual(client);
    expect(fieldsOf(fromClientRepresentation(rep, CATALOGUE, rolesOf(roleScope)))).toEqual(fieldsOf(client));
  });

  it('survives a trip through JSON, as Keycloak stores it', () => {
    for (const client of complete) {
      const rep = JSON.parse(
        JSON.stringify(withScopes(toRep(client), client.scopes)),
      ) as ClientRepresentation;
      expect(fromClientRepresentation(rep, CATALOGUE, client.roles)).toEqual(client);
    }
  });
});

describe('fieldsOf, DEFAULT_FIELDS and toSummary', () => {
  const client: ApiClientConfig = {
    ...base,
    displayName: 'Portal',
    description: 'd',
    redirectUris: ['https://a.example.com/cb'],
    scopes: ['datahub-api'],
  };

  it('fieldsOf keeps the editable fields only', () => {
    const fields = fieldsOf(client);
    expect(Object.keys(fields).sort()).toEqual(
      [
        'adminUrl',
        'backchannelLogout',
        'capabilityTypes',
        'credential',
        'description',
        'displayName',
        'enabled',
        'homeUrl',
        'postLogoutRedirectUris',
        'redirectUris',
        'rootUrl',
        'roles',
        'scopes',
        'tokenSettings',
        'webOrigins',
      ].sort(),
    );
    expect(fields).not.toHaveProperty('clientId');
    expect(fields).not.toHaveProperty('accountId');
    expect(fields).not.toHaveProperty('createdAt');
  });

  it('DEFAULT_FIELDS: nothing set, enabled, no post-logout URI', () => {
    expect(DEFAULT_FIELDS).toEqual({
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
    });
  });

  it('toSummary keeps exactly the list fields (SPEC §3)', () => {
    const summary = toSummary(client);
    expect(Object.keys(summary).sort()).toEqual(
      [
        'clientId',
        'displayName',
        'description',
        'capabilityTypes',
        'scopes',
        'roles',
        'enabled',
        'createdAt',
        'lastUsedAt',
        'credential',
      ].sort(),
    );
    expect(summary).toEqual({
      clientId: client.clientId,
      displayName: 'Portal',
      description: 'd',
      capabilityTypes: ['WebApp'],
      scopes: ['datahub-api'],
      roles: [],
      enabled: true,
      createdAt: CREATED_AT,
      lastUsedAt: null,
      credential: { type: 'secret', expiresAt: null },
    });
    expect(toSummary(client, '2026-01-02T03:04:05.000Z').lastUsedAt).toBe('2026-01-02T03:04:05.000Z');
  });

  it('toSummary never carries a secret, even when the client has one', () => {
    const summary = toSummary({ ...client, secret: 's3cret' } as ApiClientConfig);
    expect(summary).not.toHaveProperty('secret');
    expect(summary).not.toHaveProperty('redirectUris');
  });
});
