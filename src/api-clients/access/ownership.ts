// One home for "this client is ours": the account prefix of every clientId, the attribute that
// marks a Keycloak client as managed for one account, and the shape of a managed clientId.
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';

const ACCOUNT_ID = '[a-z0-9][a-z0-9-]{0,62}';
const CLIENT_ID_SUFFIX = '[A-Za-z0-9._-]+';

/** An account, as it stands in paths and in client IDs. */
export const ACCOUNT_ID_PATTERN = `^${ACCOUNT_ID}$`;
/** What may follow `{accountId}_` in a clientId. */
export const CLIENT_ID_SUFFIX_PATTERN = new RegExp(`^${CLIENT_ID_SUFFIX}$`);
/** Every clientId this service can manage: `{accountId}_{suffix}`. */
export const MANAGED_CLIENT_ID_PATTERN = new RegExp(`^${ACCOUNT_ID}_${CLIENT_ID_SUFFIX}$`);

/** Marks a Keycloak client as managed by this service, for one account (searchable, see keycloak.conf). */
export const ACCOUNT_ATTRIBUTE = 'api-clients.account';

export const clientIdPrefix = (accountId: string): string => `${accountId}_`;

/** Whether a clientId carries the account's prefix: the first test, before any Keycloak call. */
export const hasAccountPrefix = (clientId: string, accountId: string): boolean =>
  clientId.startsWith(clientIdPrefix(accountId));

export const accountMarkerOf = (rep: ClientRepresentation): unknown =>
  (rep.attributes as Record<string, unknown> | undefined)?.[ACCOUNT_ATTRIBUTE];

/** A Keycloak client is the account's when it has both the account's prefix and its marker. */
export const isManagedBy = (rep: ClientRepresentation, accountId: string): boolean =>
  hasAccountPrefix(rep.clientId ?? '', accountId) && accountMarkerOf(rep) === accountId;
