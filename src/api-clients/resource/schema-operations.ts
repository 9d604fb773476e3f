// The schemas of the operations around the resource: listing, limits, secrets, bulk delete and
// the catalogues (the resource itself is in schema.ts).
import { type Static, Type } from 'typebox';
import { ClientId, MAX_TEXT, PreviousSecretExpiresAt } from './schema.js';
import { EXPIRED_LOOKBACK_DAYS, MAX_EXPIRING_WITHIN_DAYS } from './secret-expiry.js';

/** The longest maximum secret lifetime an account may be given, in days (about ten years). */
export const MAX_SECRET_LIFETIME_DAYS = 3650;

export const Limit = Type.Object(
  {
    maxApiClients: Type.Integer({ minimum: 0 }),
    used: Type.Integer({ minimum: 0 }),
    maxSecretLifetimeDays: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
      description:
        'the longest a client secret of the account may live, in days: a create or regenerate without expiresAt gets now + this, a later expiresAt is refused; null: no maximum',
    }),
  },
  { $id: 'Limit' },
);
export type Limit = Static<typeof Limit>;

export const ApiClientList = Type.Object({
  items: Type.Array(Type.Ref('ApiClientSummary')),
  total: Type.Integer({ description: 'clients matching the search, before pagination' }),
  limit: Type.Object({ max: Type.Integer(), used: Type.Integer() }),
});

export const ListQuery = Type.Object(
  {
    search: Type.Optional(
      Type.String({
        maxLength: MAX_TEXT,
        description: 'clientId or displayName contains (case-insensitive)',
      }),
    ),
    first: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'rows to skip' })),
    max: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'rows to answer' }),
    ),
  },
  { additionalProperties: false },
);

export const ExpiringQuery = Type.Object(
  {
    expiringWithinDays: Type.Integer({
      minimum: 0,
      maximum: MAX_EXPIRING_WITHIN_DAYS,
      description: `secrets that expire within this many days from now (0 to ${MAX_EXPIRING_WITHIN_DAYS}), and those that expired in the last ${EXPIRED_LOOKBACK_DAYS} days`,
    }),
    first: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 100_000, default: 0, description: 'rows to skip' }),
    ),
    max: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100, default: 50, description: 'rows to answer' }),
    ),
  },
  { additionalProperties: false },
);

export const ExpiringList = Type.Object({
  items: Type.Array(
    Type.Object({
      accountId: Type.String(),
      clientId: ClientId,
      displayName: Type.Union([Type.String(), Type.Null()]),
      expiresAt: Type.String({
        format: 'date-time',
        description: 'when Keycloak stops accepting the secret',
      }),
      expired: Type.Boolean({ description: 'whether it has stopped already' }),
    }),
  ),
  hasMore: Type.Boolean({ description: 'more rows follow: ask again with first + max' }),
  from: Type.String({
    format: 'date-time',
    description: `the window searched starts here: now less ${EXPIRED_LOOKBACK_DAYS} days (secrets expired before are not listed)`,
  }),
  to: Type.String({ format: 'date-time', description: 'and ends here: now plus expiringWithinDays' }),
});

export const Secret = Type.Object({ secret: Type.String() }, { $id: 'Secret' });

/** Regenerate's body: optional; no body means no grace period. */
export const RegenerateRequest = (maxGracePeriodSeconds: number) =>
  Type.Object(
    {
      expiresAt: Type.Optional(
        Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
          description:
            "when Keycloak stops accepting the new secret: in the future, and at most the account's maximum secret lifetime from now; left out or null: now + that maximum, or never when the account has none",
        }),
      ),
      gracePeriodSeconds: Type.Optional(
        Type.Integer({
          minimum: 0,
          maximum: maxGracePeriodSeconds,
          default: 0,
          description: `how long Keycloak keeps accepting the previous secret, in seconds (0 to ${maxGracePeriodSeconds}); 0: refused at once`,
        }),
      ),
    },
    {
      additionalProperties: false,
      examples: [{ gracePeriodSeconds: 86_400 }],
      // the body may be left out: src/http/docs.ts declares it optional in the OpenAPI document
      'x-optional-body': true,
    },
  );

export const RotatedSecret = Type.Object(
  {
    secret: Type.String({ description: 'the new secret' }),
    previousSecretExpiresAt: PreviousSecretExpiresAt,
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'when Keycloak stops accepting the new secret; null: never',
    }),
  },
  {
    $id: 'RotatedSecret',
    examples: [
      {
        secret: 'fT0a9Y3pLq2sVxZk8RbN4cWe6HdJ1uMg',
        previousSecretExpiresAt: '2026-11-23T16:50:00.000Z',
        expiresAt: '2027-02-21T16:50:00.000Z',
      },
    ],
  },
);

export const BulkDeleteRequest = Type.Object(
  {
    clientIds: Type.Array(ClientId, { minItems: 1, maxItems: 100, uniqueItems: true }),
  },
  { additionalProperties: false },
);

export const BulkDeleteStatus = Type.Union([
  Type.Literal('deleted'),
  Type.Literal('not-found'),
  Type.Literal('failed'),
]);
export type BulkDeleteStatus = Static<typeof BulkDeleteStatus>;

export const BulkDeleteResult = Type.Object({
  results: Type.Array(Type.Object({ clientId: Type.String(), status: BulkDeleteStatus })),
});

export const LimitUpdate = Type.Object(
  {
    maxApiClients: Type.Union([Type.Integer({ minimum: 0, maximum: 10_000 }), Type.Null()], {
      description: 'the account’s own limit; null returns the account to the configured default',
    }),
    maxSecretLifetimeDays: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: MAX_SECRET_LIFETIME_DAYS }), Type.Null()], {
        description:
          "the account's own maximum secret lifetime in days; null returns it to the configured default (DEFAULT_MAX_SECRET_LIFETIME_DAYS); left out: unchanged. Secrets that exist keep their expiry",
      }),
    ),
  },
  { additionalProperties: false },
);
export type LimitChange = Static<typeof LimitUpdate>;

export const Scope = Type.Object({ name: Type.String(), description: Type.String() });
export const ScopeList = Type.Object({ items: Type.Array(Scope) });
export type Scope = Static<typeof Scope>;

export const Role = Type.Object({
  name: Type.String(),
  description: Type.String(),
  grantable: Type.Boolean({
    description:
      'Whether the caller may give this role to a client: it holds the role itself, or is a platform admin. ' +
      'A role a client already has may be kept or removed by anyone who may edit the client.',
  }),
});
export const RoleList = Type.Object({ items: Type.Array(Role) });
export type Role = Static<typeof Role>;

/** History (activity/history.ts): one row per change, newest first. */
export const HistoryRow = Type.Object(
  {
    at: Type.String({
      format: 'date-time',
      description: "When Keycloak recorded the change (its admin event's time)",
    }),
    action: Type.Union(
      [
        Type.Literal('created'),
        Type.Literal('updated'),
        Type.Literal('secret-regenerated'),
        Type.Literal('grace-period-ended'),
        Type.Literal('invalidated'),
        Type.Literal('credential-switched'),
        Type.Literal('deleted'),
        Type.Literal('limit-changed'),
      ],
      { description: 'What was done' },
    ),
    actor: Type.Object(
      {
        sub: Type.String({ description: "The caller's token subject" }),
        username: Type.Union([Type.String(), Type.Null()], {
          description: "The caller's preferred_username, when its token has one",
        }),
      },
      { description: "Who called the service (not the service's own Keycloak account)" },
    ),
    changed: Type.Array(Type.String(), {
      description:
        'For updated and credential-switched: the names of the resource fields that changed (never a value)',
    }),
    clientId: Type.Union([Type.String(), Type.Null()], { description: 'The client; null on limit-changed' }),
  },
  { $id: 'HistoryRow' },
);

export const HistoryPage = Type.Object({
  items: Type.Array(Type.Ref('HistoryRow')),
  first: Type.Integer({ minimum: 0 }),
  max: Type.Integer({ minimum: 1 }),
  hasMore: Type.Boolean({ description: 'Rows follow this page' }),
  truncated: Type.Boolean({
    description:
      'The service stopped at its bound of Keycloak admin events read per request: older rows may exist that this page does not reach',
  }),
});

export const HistoryQuery = Type.Object(
  {
    first: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 10_000, default: 0, description: 'rows to skip' }),
    ),
    max: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'rows to answer' }),
    ),
  },
  { additionalProperties: false },
);

/** Usage (activity/usage.ts): tokens issued and refusals per day, from Keycloak's login events. */
export const Usage = Type.Object(
  {
    days: Type.Array(
      Type.Object({
        date: Type.String({ format: 'date', description: 'A UTC day' }),
        tokensIssued: Type.Integer({ minimum: 0 }),
        failedAuthentications: Type.Integer({ minimum: 0 }),
      }),
      { description: 'One per day of the range, oldest first, today (UTC) last' },
    ),
    lastFailure: Type.Union([
      Type.Object({
        at: Type.String({ format: 'date-time' }),
        reason: Type.String({ description: "Keycloak's error, e.g. invalid_client_credentials" }),
        ipAddress: Type.Union([Type.String(), Type.Null()]),
      }),
      Type.Null(),
    ]),
    truncated: Type.Boolean({
      description:
        'More login events fell in the range than the service counts per answer: only the newest were',
    }),
    countedUpTo: Type.Integer({ minimum: 1, description: 'The most login events one answer counts' }),
    countedFrom: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'When truncated: the oldest event counted; the days before it are incomplete',
    }),
  },
  { $id: 'Usage' },
);

export const UsageQuery = Type.Object(
  {
    days: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 3650,
        default: 14,
        description: "How many days back, today included; at most the realm's login-event retention in days",
      }),
    ),
  },
  { additionalProperties: false },
);
