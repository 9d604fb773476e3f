// Applies keycloak/setup/api-clients.json to an existing realm through the admin API, as an
// operator's Keycloak admin. Idempotent: it reads first and writes only what differs, so a second
// run changes nothing; it adds to what it finds and never removes (an operator's extra redirect
// URI, mapper or attribute stays). It touches only the objects the setup names, plus the clients
// this service manages (marked with the api-clients.account attribute), which it brings in line
// with token hygiene: fullScopeAllowed false, no optional client scopes (offline_access stays
// optional only with --allow-offline-access) and no browser-flow override that would skip the
// login rule of scripts/lib/realm-setup-login.ts.
import type KeycloakAdminClient from '@keycloak/keycloak-admin-client';
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import type ClientScopeRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientScopeRepresentation.js';
import { applyAdminPermissions } from './admin-permissions.js';
import type { ClientData, RealmSetup } from './realm-files.js';
import { applyLoginFlowSetup } from './realm-setup-login.js';
import { applySecretLifecycleSetup } from './realm-setup-secrets.js';

/** The attribute that marks a client as managed by the service (src/api-clients/resource/mapping.ts). */
const ACCOUNT_ATTRIBUTE = 'api-clients.account';
/** The attribute the secret-rotation policy covers (src/api-clients/resource/mapping.ts). */
const SECRET_ROTATION_ATTRIBUTE = 'api-clients.secret-rotation';
const OFFLINE_ACCESS = 'offline_access';
/** The public client of the service's Swagger UI (DOCS_CLIENT_ID). */
const DOCS_CLIENT_ID = 'api-clients-docs';
/** The public client of the service's reference console (CONSOLE_CLIENT_ID). */
const CONSOLE_CLIENT_ID = 'api-clients-console';

export interface SetupOptions {
  /** The service's public base URL: its Swagger UI and console redirect URIs go onto the docs and console clients. */
  docsUrl?: string;
  /** Leave offline_access on the managed clients. */
  allowOfflineAccess?: boolean;
  /** Report what would change, change nothing. */
  dryRun?: boolean;
}

export interface SetupResult {
  /** One line per change made (or, in a dry run, to be made). */
  changes: string[];
  /** Things the operator should look at; nothing was changed for them. */
  warnings: string[];
  /** The secret Keycloak generated for a service client this run created; shown once. */
  createdSecrets: Record<string, string>;
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The members of `want` whose value differs in `have`. */
const differing = (have: Record<string, unknown>, want: Record<string, unknown>): string[] =>
  Object.keys(want).filter((key) => !sameJson(have[key], want[key]));

const union = (have: string[] = [], want: string[] = []): string[] => [
  ...have,
  ...want.filter((item) => !have.includes(item)),
];

export async function applyRealmSetup(
  kc: KeycloakAdminClient,
  realm: string,
  setup: RealmSetup,
  options: SetupOptions = {},
): Promise<SetupResult> {
  const result: SetupResult = { changes: [], warnings: [], createdSecrets: {} };
  const dry = options.dryRun === true;
  const change = async (what: string, write: () => Promise<unknown>) => {
    result.changes.push(what);
    if (!dry) await write();
  };

  if (!(await kc.realms.findOne({ realm }))) {
    throw new Error(`realm ${realm} does not exist: this command sets up an existing realm`);
  }
  kc.setConfig({ realmName: realm });

  // Realm roles and their composites
  for (const role of setup.roles.realm) {
    let found = await kc.roles.findOneByName({ name: role.name });
    if (!found) {
      await change(`create realm role ${role.name}`, () =>
        kc.roles.create({ name: role.name, description: role.description }),
      );
      found = dry ? undefined : await kc.roles.findOneByName({ name: role.name });
    } else if (role.description !== undefined && found.description !== role.description) {
      await change(`update realm role ${role.name}: description`, () =>
        kc.roles.updateByName({ name: role.name }, { ...found, description: role.description }),
      );
    }
    const wanted = role.composites?.realm ?? [];
    if (wanted.length === 0) continue;
    const has = found?.id
      ? (await kc.roles.getCompositeRolesForRealm({ id: found.id })).map((r) => r.name)
      : [];
    for (const name of wanted.filter((n) => !has.includes(n))) {
      await change(`add realm role ${name} to composite role ${role.name}`, async () => {
        const child = await kc.roles.findOneByName({ name });
        await kc.roles.createComposite({ roleId: found?.id as string }, [child as never]);
      });
    }
  }

  // Client scopes and their protocol mappers
  const scopes = await kc.clientScopes.find();
  for (const { protocolMappers = [], ...scope } of setup.clientScopes) {
    let found: ClientScopeRepresentation | undefined = scopes.find((s) => s.name === scope.name);
    if (!found) {
      await change(`create client scope ${scope.name}`, () => kc.clientScopes.create(scope));
      found = dry ? undefined : (await kc.clientScopes.find()).find((s) => s.name === scope.name);
      scopes.push(found ?? scope);
    } else {
      const want = { ...scope, attributes: { ...found.attributes, ...scope.attributes } };
      const fields = differing(found as Record<string, unknown>, want);
      if (fields.length > 0) {
        const current = found;
        await change(`update client scope ${scope.name}: ${fields.join(', ')}`, () =>
          kc.clientScopes.update({ id: current.id as string }, { ...current, ...want }),
        );
      }
    }
    const id = found?.id;
    const mappers = id ? await kc.clientScopes.listProtocolMappers({ id }) : [];
    for (const mapper of protocolMappers) {
      const existing = mappers.find((m) => m.name === mapper.name);
      if (!existing) {
        await change(`add mapper "${mapper.name}" to client scope ${scope.name}`, () =>
          kc.clientScopes.addProtocolMapper({ id: id as string }, mapper),
        );
        continue;
      }
      const want = { ...mapper, config: { ...existing.config, ...mapper.config } };
      const fields = differing(existing as Record<string, unknown>, want);
      if (fields.length > 0) {
        await change(
          `update mapper "${mapper.name}" of client scope ${scope.name}: ${fields.join(', ')}`,
          () =>
            kc.clientScopes.updateProtocolMapper(
              { id: id as string, mapperId: existing.id as string },
              { ...existing, ...want },
            ),
        );
      }
    }
  }

  // Clients: the service's own (Keycloak generates its secret), the docs and the console clients
  for (const wanted of setup.clients) {
    const client = withServiceUrl(wanted, options.docsUrl);
    const { defaultClientScopes = [], ...rep } = client;
    const [found] = await kc.clients.find({ clientId: client.clientId, first: 0, max: 1 });
    if (!found?.id) {
      const missing = defaultClientScopes.filter((name) => !scopes.some((s) => s.name === name));
      for (const name of missing)
        result.warnings.push(`client scope ${name} is not in the realm: ${client.clientId} goes without it`);
      await change(`create client ${client.clientId}`, async () => {
        const { id } = await kc.clients.create({
          ...(rep as ClientRepresentation),
          defaultClientScopes: defaultClientScopes.filter((name) => !missing.includes(name)),
        });
        if (rep.publicClient === false) {
          const secret = await kc.clients.getClientSecret({ id });
          if (secret.value) result.createdSecrets[client.clientId] = secret.value;
        }
      });
      continue;
    }
    const want: Record<string, unknown> = {
      ...rep,
      attributes: { ...found.attributes, ...rep.attributes },
      ...(rep.redirectUris ? { redirectUris: union(found.redirectUris, rep.redirectUris) } : {}),
      ...(rep.webOrigins ? { webOrigins: union(found.webOrigins, rep.webOrigins) } : {}),
    };
    const fields = differing(found as Record<string, unknown>, want);
    if (fields.length > 0) {
      await change(`update client ${client.clientId}: ${fields.join(', ')}`, () =>
        kc.clients.update({ id: found.id as string }, { ...found, ...want }),
      );
    }
    const assigned = (await kc.clients.listDefaultClientScopes({ id: found.id })).map((s) => s.name);
    for (const name of defaultClientScopes.filter((n) => !assigned.includes(n))) {
      const scope = scopes.find((s) => s.name === name);
      if (!scope?.id) {
        result.warnings.push(`client scope ${name} is not in the realm: ${client.clientId} goes without it`);
        continue;
      }
      await change(`add default client scope ${name} to client ${client.clientId}`, () =>
        kc.clients.addDefaultClientScope({ id: found.id as string, clientScopeId: scope.id as string }),
      );
    }
  }

  // The admin roles of the service's account: added when missing, extra ones reported
  const [realmManagement] = await kc.clients.find({ clientId: 'realm-management', first: 0, max: 1 });
  for (const user of setup.users) {
    const [client] = await kc.clients.find({ clientId: user.serviceAccountClientId, first: 0, max: 1 });
    if (!client?.id) continue; // only in a dry run: the client is yet to be created
    const account = await kc.clients.getServiceAccountUser({ id: client.id });
    for (const [roleClientId, roleNames] of Object.entries(user.clientRoles)) {
      const [roleClient] =
        roleClientId === 'realm-management'
          ? [realmManagement]
          : await kc.clients.find({ clientId: roleClientId, first: 0, max: 1 });
      if (!roleClient?.id || !account.id) continue;
      const query = { id: account.id, clientUniqueId: roleClient.id };
      const held = await kc.users.listClientRoleMappings(query);
      const missing = roleNames.filter((name) => !held.some((role) => role.name === name));
      if (missing.length > 0) {
        await change(
          `give ${user.serviceAccountClientId}'s service account ${roleClientId} ${missing.join(', ')}`,
          async () => {
            const available = await kc.clients.listRoles({ id: roleClient.id as string });
            const roles = available.filter((role) => missing.includes(role.name as string));
            await kc.users.addClientRoleMappings({ ...query, roles: roles as never });
          },
        );
      }
      const extra = held.filter((role) => !roleNames.includes(role.name as string)).map((role) => role.name);
      if (extra.length > 0) {
        result.warnings.push(
          `${user.serviceAccountClientId}'s service account also holds ${roleClientId} ${extra.join(', ')}, which it does not need`,
        );
      }
    }
  }

  // Role mapping for the catalogue roles only: fine-grained admin permissions v2
  await applyAdminPermissions(kc, realm, setup.adminPermissions, {
    change,
    warn: (warning) => result.warnings.push(warning),
    dryRun: dry,
  });

  // Secret rotation with a grace period, and the events lastUsedAt reads
  await applySecretLifecycleSetup(kc, realm, setup, change);

  // A managed client admits only its account's users: the login flow, bound as the browser flow
  const { flowId } = await applyLoginFlowSetup(kc, realm, setup, change, (warning) =>
    result.warnings.push(warning),
  );

  // Clients the service manages, made before token hygiene or before secret rotation
  for (let first = 0; ; first += 500) {
    const page = await kc.clients.find({ first, max: 500 });
    for (const client of page) {
      if (!client.id || typeof client.attributes?.[ACCOUNT_ATTRIBUTE] !== 'string') continue;
      const id = client.id;
      if (client.attributes?.[SECRET_ROTATION_ATTRIBUTE] !== 'true') {
        await change(`update managed client ${client.clientId}: covered by secret rotation`, () =>
          kc.clients.update({ id }, { attributes: { [SECRET_ROTATION_ATTRIBUTE]: 'true' } }),
        );
      }
      if (client.fullScopeAllowed !== false) {
        await change(`update managed client ${client.clientId}: fullScopeAllowed false`, () =>
          kc.clients.update({ id }, { ...client, fullScopeAllowed: false }),
        );
      }
      const browserOverride = client.authenticationFlowBindingOverrides?.browser;
      if (browserOverride && browserOverride !== flowId) {
        // an empty value is how Keycloak's RepresentationToModel removes an override
        await change(`update managed client ${client.clientId}: no browser-flow override`, () =>
          kc.clients.update({ id }, { ...client, authenticationFlowBindingOverrides: { browser: '' } }),
        );
      }
      const [defaults, optional] = await Promise.all([
        kc.clients.listDefaultClientScopes({ id }),
        kc.clients.listOptionalClientScopes({ id }),
      ]);
      if (!options.allowOfflineAccess) {
        for (const scope of defaults.filter((s) => s.name === OFFLINE_ACCESS)) {
          await change(`remove default scope offline_access from managed client ${client.clientId}`, () =>
            kc.clients.delDefaultClientScope({ id, clientScopeId: scope.id as string }),
          );
        }
      }
      const keep = (name: string | undefined) => options.allowOfflineAccess && name === OFFLINE_ACCESS;
      for (const scope of optional.filter((s) => !keep(s.name))) {
        await change(`remove optional scope ${scope.name} from managed client ${client.clientId}`, () =>
          kc.clients.delOptionalClientScope({ id, clientScopeId: scope.id as string }),
        );
      }
    }
    if (page.length < 500) break;
  }
  return result;
}

/** The pages of the service's public URL that log in: Swagger UI and the console, per client. */
const loginPages: Record<string, string> = {
  [DOCS_CLIENT_ID]: '/docs/static/oauth2-redirect.html',
  [CONSOLE_CLIENT_ID]: '/console/',
};

/** The docs and console clients get the redirect URI of their page under the service's public URL. */
function withServiceUrl(client: ClientData, serviceUrl: string | undefined): ClientData {
  const page = loginPages[client.clientId];
  if (!serviceUrl || !page) return client;
  const base = serviceUrl.replace(/\/+$/, '');
  return {
    ...client,
    redirectUris: union(client.redirectUris, [`${base}${page}`]),
    webOrigins: union(client.webOrigins, ['+']),
  };
}
