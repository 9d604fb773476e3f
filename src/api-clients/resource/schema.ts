import { type Static, Type } from 'typebox';
import {
  ACCOUNT_ID_PATTERN,
  CLIENT_ID_SUFFIX_PATTERN,
  MANAGED_CLIENT_ID_PATTERN,
} from '../access/ownership.js';

export { ACCOUNT_ID_PATTERN, CLIENT_ID_SUFFIX_PATTERN };
/** Keycloak stores these columns as VARCHAR(255): a longer value would fail, not be kept. */
export const MAX_TEXT = 255;
export const MAX_URIS = 50;

export const AccountId = Type.String({ pattern: ACCOUNT_ID_PATTERN, examples: ['acme'] });
export const ClientId = Type.String({
  minLength: 3,
  maxLength: MAX_TEXT,
  description: '`{accountId}_` followed by one or more of `[A-Za-z0-9._-]`',
  examples: ['acme_reporting-job'],
});

/** A new client's clientId: the shape of every managed one (the account prefix is checked by rules.ts). */
const NewClientId = Type.String({ ...ClientId, pattern: MANAGED_CLIENT_ID_PATTERN.source });

/**
 * The shapes of the URL fields, as JSON Schema patterns that the OpenAPI document shows and a
 * generated client can check: coarse copies of rules.ts, which says precisely why a value fails
 * (its reason replaces the pattern's, see mergeErrors in input.ts). Each accepts everything the
 * rules accept: blank text (stored as null), a lowercase http(s) scheme, no white space.
 */
const URL_PATTERNS = {
  rootUrl: String.raw`^(?:\s*|https?://[^\s/?#\\*]+(?:/[^\s?#*\\]*)?)$`,
  homeUrl: String.raw`^(?:\s*|/(?!/)[\s\S]*|https?://[^\s/?#\\*]+(?:[/?#][^\s\\]*)?)$`,
  adminUrl: String.raw`^(?:\s*|https?://\S+)$`,
  backchannelLogoutUrl: String.raw`^https?://\S+$`,
  jwksUrl: String.raw`^(?:\s*|https?://\S+)$`,
  issuer: String.raw`^(?:\s*|https?://\S+)$`,
  redirectUri: String.raw`^(?:/(?!/)[^\s#]*|https?://[^\s#]+)$`,
  postLogoutRedirectUri: String.raw`^(?:\+|/(?!/)[^\s#]*|https?://[^\s#]+)$`,
  webOrigin: String.raw`^(?:\+|\*|https?://[^\s/?#*\\]+)$`,
};

export const AccountParams = Type.Object({ accountId: AccountId });
export const ClientParams = Type.Object({ accountId: AccountId, clientId: ClientId });

export const CapabilityType = Type.Unsafe<'WebApp' | 'Script'>({
  type: 'string',
  enum: ['WebApp', 'Script'],
  description:
    '`WebApp`: authorization code flow (a browser app). `Script`: client credentials (a script or server).',
});
export type CapabilityType = Static<typeof CapabilityType>;

export const BackchannelLogout = Type.Object(
  {
    url: Type.String({
      maxLength: MAX_TEXT,
      pattern: URL_PATTERNS.backchannelLogoutUrl,
      description: 'absolute https URL Keycloak posts logout tokens to (a public host)',
    }),
    sessionRequired: Type.Boolean({ description: 'include the session id (sid) in the logout token' }),
    revokeOfflineSessions: Type.Boolean({ description: "also revoke the user's offline sessions" }),
  },
  { additionalProperties: false },
);
export type BackchannelLogout = Static<typeof BackchannelLogout>;

/** How many public keys a client may register (a rotation needs two; a few spare). */
export const MAX_JWKS_KEYS = 10;
export const CREDENTIAL_TYPES = ['secret', 'private-key-jwt', 'federated'] as const;
/** How long a federated subject may be (GitHub's carry a repository, an environment or a ref). */
export const MAX_SUBJECT = 1024;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

/** A public JWK as sent: any members, so that the rules can name a private one (jwks.ts). */
const Jwk = Type.Object(
  { kty: Type.String({ maxLength: 10 }) },
  {
    // A JWK's members are strings, string arrays (key_ops, x5c) and booleans (ext): nothing else,
    // and no nested object. Fastify's JSON parser (secure-json-parse) refuses a body naming
    // `__proto__` or `constructor.prototype` anywhere before any schema runs, so the contract
    // leaves no room for one: no schema-valid body is one the parser refuses.
    additionalProperties: Type.Union([Type.String(), Type.Boolean(), Type.Array(Type.String())]),
    propertyNames: { not: { enum: ['__proto__', 'constructor', 'prototype'] } },
    description:
      'a public JSON Web Key (RFC 7517); private members are refused, and so are members named `__proto__`, `constructor` or `prototype`',
  },
);
export const Jwks = Type.Object(
  { keys: Type.Array(Jwk, { minItems: 1, maxItems: MAX_JWKS_KEYS }) },
  {
    additionalProperties: false,
    description:
      'a JWK Set (RFC 7517) of public keys: RSA of 2048 bits or more, or EC P-256/P-384/P-521; each with a unique `kid`',
  },
);
export type Jwks = Static<typeof Jwks>;

/** What the answers show of each registered key: never key material beyond the public key. */
export const KeyInfo = Type.Object(
  {
    kid: Type.String(),
    kty: Type.String(),
    alg: Type.Union([Type.String(), Type.Null()]),
    thumbprint: Type.String({ description: 'RFC 7638 JWK thumbprint (SHA-256, base64url)' }),
  },
  // closed: a GET body sent back carries exactly these; an open object would let a schema-valid
  // body hold a nested `__proto__`, which Fastify's JSON parser refuses before any schema runs
  { additionalProperties: false },
);
export type KeyInfo = Static<typeof KeyInfo>;

const ExpiresAt = Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
  description:
    "secret only: when Keycloak's token endpoint stops accepting the secret (its own check of `client.secret.expiration.time`); null: never, unless the account has a maximum secret lifetime, which then applies",
});

/**
 * The credential as PUT, PATCH and create take it: one object whose `type` says which members
 * count (rules.ts checks the combination, each failure with its pointer). `keys` is read-only:
 * what a GET answered may be sent back.
 */
export const CredentialInput = Type.Object(
  {
    type: Type.Unsafe<CredentialType>({
      type: 'string',
      enum: [...CREDENTIAL_TYPES],
      description:
        "`secret`: a client secret Keycloak generates. `private-key-jwt`: the client signs a JWT assertion (RFC 7523) with a private key that never leaves it; its public keys are given as `jwks` or `jwksUrl`. `federated`: no credential of its own: a workload presents the identity token its platform gave it (Kubernetes, GitHub Actions, GitLab CI) as the client assertion; Keycloak checks it against the `issuer`'s published keys and requires its `sub` to be `subject`.",
    }),
    expiresAt: Type.Optional(ExpiresAt),
    jwks: Type.Optional(Type.Union([Jwks, Type.Null()])),
    jwksUrl: Type.Optional(
      Type.Union([Type.String({ maxLength: MAX_TEXT, pattern: URL_PATTERNS.jwksUrl }), Type.Null()], {
        description:
          'private-key-jwt: an https URL of a public JWK Set that Keycloak fetches (a public host)',
      }),
    ),
    keys: Type.Optional(Type.Array(KeyInfo, { maxItems: 100, description: 'read-only: ignored' })),
    issuer: Type.Optional(
      Type.Union([Type.String({ maxLength: MAX_TEXT, pattern: URL_PATTERNS.issuer }), Type.Null()], {
        description:
          "federated: the workload's token issuer (its `iss`), an https URL whose discovery document and keys Keycloak fetches (a public host)",
      }),
    ),
    subject: Type.Optional(
      Type.Union([Type.String({ maxLength: MAX_SUBJECT }), Type.Null()], {
        description: "federated: the workload token's `sub`, compared exactly",
      }),
    ),
  },
  { additionalProperties: false, examples: [{ type: 'secret', expiresAt: '2027-06-30T00:00:00Z' }] },
);

/** The credential as the answers show it. */
export const Credential = Type.Object({
  type: Type.Unsafe<CredentialType>({ type: 'string', enum: [...CREDENTIAL_TYPES] }),
  expiresAt: Type.Optional(ExpiresAt),
  jwks: Type.Optional(Type.Union([Jwks, Type.Null()])),
  jwksUrl: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  issuer: Type.Optional(Type.String({ description: "federated: the workload token's issuer" })),
  subject: Type.Optional(Type.String({ description: "federated: the workload token's subject" })),
  keys: Type.Optional(
    Type.Array(KeyInfo, {
      description:
        'private-key-jwt with `jwks`: each key by kid, type, algorithm and thumbprint (empty for `jwksUrl`: Keycloak fetches those keys itself)',
    }),
  ),
});

/** The credential as the service holds it between reading a body and writing Keycloak. */
export type CredentialFields =
  | { type: 'secret'; expiresAt: string | null }
  | { type: 'private-key-jwt'; jwks: Jwks | null; jwksUrl: string | null }
  | { type: 'federated'; issuer: string | null; subject: string | null };
/** The credential as the answers show it. */
export type CredentialView =
  | { type: 'secret'; expiresAt: string | null }
  | { type: 'private-key-jwt'; jwks: Jwks | null; jwksUrl: string | null; keys: KeyInfo[] }
  | { type: 'federated'; issuer: string; subject: string };

/** The minimum of `tokenSettings.accessTokenLifetimeSeconds`; the maximum is the realm's own lifespan. */
export const MIN_ACCESS_TOKEN_LIFETIME = 60;
export const TokenSettings = Type.Object(
  {
    accessTokenLifetimeSeconds: Type.Union(
      [Type.Integer({ minimum: MIN_ACCESS_TOKEN_LIFETIME, maximum: 31_536_000 }), Type.Null()],
      {
        description: `seconds an access token issued to the client lives: ${MIN_ACCESS_TOKEN_LIFETIME} up to the realm's own access-token lifespan; null: the realm's`,
      },
    ),
    requireDpop: Type.Boolean({
      description:
        'Keycloak issues only DPoP-bound access tokens (RFC 9449): a token request without a DPoP proof is refused',
    }),
  },
  { additionalProperties: false },
);
export type TokenSettings = Static<typeof TokenSettings>;
const TokenSettingsPatch = Type.Object(
  {
    accessTokenLifetimeSeconds: Type.Optional(TokenSettings.properties.accessTokenLifetimeSeconds),
    requireDpop: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  },
  { additionalProperties: false },
);

/** Members a GET answers that a caller cannot set: PUT and PATCH ignore them (AIP-203), so that a GET body can be sent back. */
export const READ_ONLY_MEMBERS = ['accountId', 'createdAt', 'lastUsedAt', 'previousSecretExpiresAt'] as const;
const ReadOnlyMember = Type.Optional(
  Type.Union([Type.String(), Type.Null()], { description: 'read-only: ignored' }),
);
const readOnly = {
  accountId: ReadOnlyMember,
  createdAt: ReadOnlyMember,
  lastUsedAt: ReadOnlyMember,
  previousSecretExpiresAt: ReadOnlyMember,
} satisfies Record<(typeof READ_ONLY_MEMBERS)[number], unknown>;

const NullableText = (description: string, pattern?: string) =>
  Type.Union([Type.String({ maxLength: MAX_TEXT, ...(pattern && { pattern }) }), Type.Null()], {
    description,
  });
const UriList = (description: string, pattern: string) =>
  Type.Array(Type.String({ maxLength: MAX_TEXT, pattern }), { maxItems: MAX_URIS, description });

/** Every field a caller may set, as PUT takes them (all present). */
const editable = {
  displayName: NullableText('shown instead of clientId; blank means none'),
  description: NullableText('free text'),
  rootUrl: NullableText(
    'absolute http(s) URL without query, fragment or `*`; relative homeUrl and redirect URIs resolve against it',
    URL_PATTERNS.rootUrl,
  ),
  homeUrl: NullableText('absolute http(s) URL, or a /path resolved against rootUrl', URL_PATTERNS.homeUrl),
  adminUrl: NullableText('absolute https URL Keycloak calls (a public host)', URL_PATTERNS.adminUrl),
  redirectUris: UriList(
    'absolute http(s) URLs or /paths, no fragment; `*` only as the last character, after a `/` and not after `?`',
    URL_PATTERNS.redirectUri,
  ),
  postLogoutRedirectUris: UriList(
    'like redirectUris, or `+` for every redirect URI; empty means none',
    URL_PATTERNS.postLogoutRedirectUri,
  ),
  webOrigins: UriList(
    'origins `scheme://host[:port]` as browsers send them, or `+` for the origins of the redirect URIs',
    URL_PATTERNS.webOrigin,
  ),
  capabilityTypes: Type.Array(CapabilityType, { minItems: 1, maxItems: 2, uniqueItems: true }),
  backchannelLogout: Type.Union([BackchannelLogout, Type.Null()], { description: 'only with WebApp' }),
  scopes: Type.Array(Type.String({ maxLength: MAX_TEXT }), {
    uniqueItems: true,
    maxItems: 100,
    description: 'names from the scope catalogue (GET /v1/scopes)',
  }),
  roles: Type.Array(Type.String({ maxLength: MAX_TEXT }), {
    uniqueItems: true,
    maxItems: 100,
    description:
      'names from the role catalogue (GET /v1/roles): what the client may view or change; a role taken out of the catalogue may stay but not be added',
  }),
  enabled: Type.Boolean({ description: 'a disabled client gets no tokens' }),
  credential: CredentialInput,
  tokenSettings: TokenSettings,
};

export const ApiClientCreate = Type.Object(
  {
    clientId: NewClientId,
    displayName: Type.Optional(editable.displayName),
    description: Type.Optional(editable.description),
    rootUrl: Type.Optional(editable.rootUrl),
    homeUrl: Type.Optional(editable.homeUrl),
    adminUrl: Type.Optional(editable.adminUrl),
    redirectUris: Type.Optional(editable.redirectUris),
    postLogoutRedirectUris: Type.Optional(editable.postLogoutRedirectUris),
    webOrigins: Type.Optional(editable.webOrigins),
    capabilityTypes: editable.capabilityTypes,
    backchannelLogout: Type.Optional(editable.backchannelLogout),
    scopes: Type.Optional(editable.scopes),
    roles: Type.Optional(editable.roles),
    enabled: Type.Optional(editable.enabled),
    credential: Type.Optional(editable.credential),
    tokenSettings: Type.Optional(editable.tokenSettings),
  },
  {
    additionalProperties: false,
    examples: [
      {
        clientId: 'acme_reporting-job',
        displayName: 'Nightly reporting job',
        capabilityTypes: ['Script'],
        scopes: ['datahub-api'],
        roles: ['insights-viewer'],
      },
    ],
  },
);
export type ApiClientCreate = Static<typeof ApiClientCreate>;

/** PUT: every editable field; clientId may be repeated but not changed. */
export const ApiClientReplace = Type.Object(
  {
    clientId: Type.Optional(ClientId),
    displayName: editable.displayName,
    description: editable.description,
    rootUrl: editable.rootUrl,
    homeUrl: editable.homeUrl,
    adminUrl: editable.adminUrl,
    redirectUris: editable.redirectUris,
    postLogoutRedirectUris: editable.postLogoutRedirectUris,
    webOrigins: editable.webOrigins,
    capabilityTypes: editable.capabilityTypes,
    backchannelLogout: editable.backchannelLogout,
    scopes: editable.scopes,
    roles: editable.roles,
    enabled: editable.enabled,
    // Optional for callers written before these fields: absent keeps what the client has.
    credential: Type.Optional(editable.credential),
    tokenSettings: Type.Optional(editable.tokenSettings),
    ...readOnly,
  },
  { additionalProperties: false },
);
export type ApiClientReplace = Static<typeof ApiClientReplace>;

/** PATCH: a JSON merge patch (RFC 7396); `null` resets a field to its default. */
export const ApiClientPatch = Type.Object(
  {
    clientId: Type.Optional(ClientId),
    displayName: Type.Optional(editable.displayName),
    description: Type.Optional(editable.description),
    rootUrl: Type.Optional(editable.rootUrl),
    homeUrl: Type.Optional(editable.homeUrl),
    adminUrl: Type.Optional(editable.adminUrl),
    redirectUris: Type.Optional(Type.Union([editable.redirectUris, Type.Null()])),
    postLogoutRedirectUris: Type.Optional(Type.Union([editable.postLogoutRedirectUris, Type.Null()])),
    webOrigins: Type.Optional(Type.Union([editable.webOrigins, Type.Null()])),
    capabilityTypes: Type.Optional(editable.capabilityTypes),
    backchannelLogout: Type.Optional(
      Type.Union([
        Type.Object(
          {
            url: Type.Optional(BackchannelLogout.properties.url),
            sessionRequired: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
            revokeOfflineSessions: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ]),
    ),
    scopes: Type.Optional(Type.Union([editable.scopes, Type.Null()])),
    roles: Type.Optional(Type.Union([editable.roles, Type.Null()])),
    enabled: Type.Optional(Type.Union([editable.enabled, Type.Null()])),
    credential: Type.Optional(Type.Union([editable.credential, Type.Null()])),
    tokenSettings: Type.Optional(Type.Union([TokenSettingsPatch, Type.Null()])),
    ...readOnly,
  },
  { additionalProperties: false, examples: [{ displayName: 'Reporting', scopes: ['push-data'] }] },
);
export type ApiClientPatch = Static<typeof ApiClientPatch>;

const LastUsedAt = Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
  description:
    "read-only: when Keycloak last issued a token to the client (its CLIENT_LOGIN and CODE_TO_TOKEN events), as far as Keycloak's event store remembers; null when none is recorded",
});
export const PreviousSecretExpiresAt = Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
  description:
    'read-only: while a regenerated-out secret is still accepted (a grace period), when Keycloak stops accepting it; null when only the current secret works',
});

/** The whole resource, as GET answers it. */
export const ApiClient = Type.Object(
  {
    clientId: Type.String(),
    accountId: Type.String(),
    displayName: Type.Union([Type.String(), Type.Null()]),
    description: Type.Union([Type.String(), Type.Null()]),
    rootUrl: Type.Union([Type.String(), Type.Null()]),
    homeUrl: Type.Union([Type.String(), Type.Null()]),
    adminUrl: Type.Union([Type.String(), Type.Null()]),
    redirectUris: Type.Array(Type.String()),
    postLogoutRedirectUris: Type.Array(Type.String()),
    webOrigins: Type.Array(Type.String()),
    capabilityTypes: Type.Array(CapabilityType),
    backchannelLogout: Type.Union([BackchannelLogout, Type.Null()]),
    scopes: Type.Array(Type.String()),
    roles: Type.Array(Type.String()),
    enabled: Type.Boolean(),
    credential: Credential,
    tokenSettings: TokenSettings,
    createdAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    lastUsedAt: LastUsedAt,
    previousSecretExpiresAt: PreviousSecretExpiresAt,
  },
  { $id: 'ApiClient' },
);
export type ApiClient = Omit<Static<typeof ApiClient>, 'credential'> & { credential: CredentialView };

/** What the client's usage and secret lifecycle add to its configuration: read-only, outside the ETag. */
export type ApiClientUsage = Pick<ApiClient, 'lastUsedAt' | 'previousSecretExpiresAt'>;
/** The client's configuration, as the mapping reads it from Keycloak (the ETag covers exactly this). */
export type ApiClientConfig = Omit<ApiClient, keyof ApiClientUsage>;
/** The editable part of the resource: what PUT takes and what the mapping writes. */
export type ApiClientFields = Omit<ApiClientConfig, 'clientId' | 'accountId' | 'createdAt' | 'credential'> & {
  credential: CredentialFields;
};

export const ApiClientWithSecret = Type.Intersect(
  [
    ApiClient,
    Type.Object({
      secret: Type.Optional(
        Type.String({
          description: 'the client secret: shown here once; absent for a private-key-jwt client',
        }),
      ),
    }),
  ],
  { $id: 'ApiClientWithSecret' },
);

export const ApiClientSummary = Type.Object(
  {
    clientId: Type.String(),
    displayName: Type.Union([Type.String(), Type.Null()]),
    description: Type.Union([Type.String(), Type.Null()]),
    capabilityTypes: Type.Array(CapabilityType),
    scopes: Type.Array(Type.String()),
    roles: Type.Array(Type.String()),
    enabled: Type.Boolean(),
    createdAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    lastUsedAt: LastUsedAt,
    credential: Type.Object(
      {
        type: Credential.properties.type,
        expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
          description: 'secret only: when Keycloak stops accepting it; null for none (and for other types)',
        }),
      },
      {
        description:
          "the credential's type and, for a secret, its expiry: a UI can flag keys that expire soon",
      },
    ),
  },
  { $id: 'ApiClientSummary' },
);
export type ApiClientSummary = Static<typeof ApiClientSummary>;
