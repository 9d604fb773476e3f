// The realm data, in two parts kept apart (SPEC §5):
//   keycloak/setup/api-clients.json  what the service needs in any realm, production included:
//                                    its roles, catalogue scopes, the api-clients-caller scope, its
//                                    own client (no secret: Keycloak generates one), the docs
//                                    client, and the login flow of the account-membership rule. `npm run setup-realm` applies it to an existing realm.
//   keycloak/demo/realm.json         the demo realm itself (settings, Keycloak's built-in scopes, and
//                                    its built-in flows: an import that names a flow must name them all)
//   keycloak/demo/demo-data.json     demo users and groups, the catalogue roles (with the fixed
//                                    ids the import needs), the password-grant client, the
//                                    insights-api resource server, fixed development secrets.
// The setup's `adminPermissions` is no realm member: demoRealm() writes it as the import wants it
// (scripts/lib/admin-permissions.ts), catalogue role names resolved to their ids in the file.
// keycloak/realm-platform.json, which the local distribution, docker compose and testcontainers
// import, is all three merged (`npm run realm` writes it; a test fails when it is stale).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AdminPermissionsData, adminPermissionsImport } from './admin-permissions.js';
import { projectRoot } from './keycloak-local.js';

export const setupFile = join(projectRoot, 'keycloak', 'setup', 'api-clients.json');
export const demoRealmFile = join(projectRoot, 'keycloak', 'demo', 'realm.json');
export const demoDataFile = join(projectRoot, 'keycloak', 'demo', 'demo-data.json');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** What the setup command applies: a fragment of a realm representation. */
export interface RealmSetup {
  roles: { realm: RoleData[] };
  clientScopes: ClientScopeData[];
  clients: ClientData[];
  /** Service-account users only: the admin roles each client's service account holds. */
  users: { username: string; serviceAccountClientId: string; clientRoles: Record<string, string[]> }[];
  /** Not a realm representation member: turned into one by demoRealm(), applied by setup-realm. */
  adminPermissions: AdminPermissionsData;
  /** The client profile and policy of secret rotation with a grace period (src/api-clients/credentials/secrets.ts). */
  clientProfiles: { profiles: ClientProfileData[] };
  clientPolicies: { policies: ClientPolicyData[] };
  /** The login events lastUsedAt reads (src/api-clients/activity/last-used.ts), kept eventsExpiration seconds. */
  eventsEnabled: boolean;
  eventsExpiration: number;
  enabledEventTypes: string[];
  /** The admin events a client's history reads (src/api-clients/activity/history.ts), with the representation written. */
  adminEventsEnabled: boolean;
  adminEventsDetailsEnabled: boolean;
  /** Realm attributes; `adminEventsExpiration` (seconds, a string) is how long Keycloak keeps admin events. */
  attributes: { adminEventsExpiration: string };
  /**
   * The login flow that makes a managed client admit only its account's users: Keycloak's browser
   * flow as a sub-flow, then the provider keycloak/providers/account-membership (in the realm
   * import's export format; scripts/lib/realm-setup-login.ts installs it through the admin API).
   */
  authenticationFlows: AuthenticationFlowData[];
  authenticatorConfig: { alias: string; config: Record<string, string> }[];
  /** The realm's browser flow: the first of authenticationFlows. */
  browserFlow: string;
}

export interface AuthenticationFlowData {
  alias: string;
  description?: string;
  providerId: string;
  topLevel: boolean;
  builtIn: boolean;
  authenticationExecutions: AuthenticationExecutionData[];
}

/** One step of a flow: an authenticator, or a sub-flow named by flowAlias. */
export interface AuthenticationExecutionData {
  authenticator?: string;
  authenticatorFlow: boolean;
  flowAlias?: string;
  authenticatorConfig?: string;
  requirement: string;
  priority: number;
  userSetupAllowed: boolean;
}

export interface ClientProfileData {
  name: string;
  description?: string;
  executors: { executor: string; configuration: Record<string, unknown> }[];
}

export interface ClientPolicyData {
  name: string;
  description?: string;
  enabled: boolean;
  conditions: { condition: string; configuration: Record<string, unknown> }[];
  profiles: string[];
}

export interface RoleData {
  id?: string;
  name: string;
  attributes?: Record<string, string[]>;
  description?: string;
  composite?: boolean;
  composites?: { realm?: string[] };
}

export interface MapperData {
  name: string;
  protocol: string;
  protocolMapper: string;
  consentRequired?: boolean;
  config: Record<string, string>;
}

export interface ClientScopeData {
  name: string;
  description?: string;
  protocol: string;
  attributes?: Record<string, string>;
  protocolMappers?: MapperData[];
}

export interface ClientData {
  clientId: string;
  defaultClientScopes?: string[];
  attributes?: Record<string, string>;
  redirectUris?: string[];
  webOrigins?: string[];
  [field: string]: unknown;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

export const readSetup = (): RealmSetup => readJson<RealmSetup>(setupFile);

// alias: authentication flows and authenticator configurations
const IDENTITY_KEYS = ['clientId', 'username', 'name', 'alias'];

const identityOf = (value: Json): string | undefined => {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const key = IDENTITY_KEYS.find((k) => typeof value[k] === 'string');
  return key ? `${key}:${value[key] as string}` : undefined;
};

/**
 * b over a: objects member by member, lists of named objects (clients, scopes, roles, users,
 * mappers) item by item by their name, other lists as a union in order, anything else replaced.
 */
export function mergeRealm(a: Json, b: Json): Json {
  if (Array.isArray(a) && Array.isArray(b)) {
    const merged = [...a];
    for (const item of b) {
      const id = identityOf(item);
      const at = id === undefined ? -1 : merged.findIndex((existing) => identityOf(existing) === id);
      if (at !== -1) merged[at] = mergeRealm(merged[at] as Json, item);
      else if (
        id !== undefined ||
        !merged.some((existing) => JSON.stringify(existing) === JSON.stringify(item))
      )
        merged.push(item);
    }
    return merged;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const merged: JsonObject = { ...a };
    for (const [key, value] of Object.entries(b))
      merged[key] = key in a ? mergeRealm(a[key] as Json, value) : value;
    return merged;
  }
  return b;
}

/** The demo realm as imported for `npm run dev` and the tests: realm, then setup, then demo data. */
export function demoRealm(): JsonObject {
  const { adminPermissions, ...setup } = readSetup();
  const realm = [setup as unknown as Json, readJson<Json>(demoDataFile)].reduce<Json>(
    (merged, part) => mergeRealm(merged, part),
    readJson<Json>(demoRealmFile),
  ) as JsonObject;
  return withAdminPermissions(realm, adminPermissions);
}

/** The setup's admin permissions as the import wants them, role names resolved to the file's ids. */
function withAdminPermissions(realm: JsonObject, data: AdminPermissionsData): JsonObject {
  const realmRoles = ((realm.roles as JsonObject | undefined)?.realm ?? []) as unknown as RoleData[];
  const { adminPermissionsEnabled, client } = adminPermissionsImport(data, realmRoles);
  return mergeRealm(realm, { adminPermissionsEnabled, clients: [client] } as unknown as Json) as JsonObject;
}

export const demoRealmJson = (): string => `${JSON.stringify(demoRealm(), null, 2)}\n`;
