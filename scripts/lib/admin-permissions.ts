// The least-privilege role mapping of the service's account: Keycloak's fine-grained admin
// permissions v2 (keycloak/setup/api-clients.json, `adminPermissions`). Two uses of one description:
//   applyAdminPermissions      `npm run setup-realm` on an existing realm, through the admin API of
//                              the realm's `admin-permissions` client (its authorization settings)
//   adminPermissionsImport     the demo realm import (`npm run realm`), as realm representation
// What Keycloak 26.7 does, read in its source (org.keycloak.authorization.fgap.AdminPermissionsSchema):
// - switching `adminPermissionsEnabled` on creates the `admin-permissions` client, with one
//   resource per resource type (Users, Roles, ...) that stands for "all of that type";
// - a permission's resources are the objects' ids (a role by id only, never by name);
// - a scope permission saved with NO resources gets the type's resource: it covers every object of
//   the type (`addUResourceTypeResource`; checked on 26.7.3: a Roles permission posted with
//   `resources: []` lists the resource "Roles"). A Roles permission with no catalogue role in it would
//   let the account map every role, admin roles included, so it is never written empty;
// - deleting a role takes it out of the permissions; a permission left with nothing is deleted.
import type KeycloakAdminClient from '@keycloak/keycloak-admin-client';
import type PolicyRepresentation from '@keycloak/keycloak-admin-client/lib/defs/policyRepresentation.js';

/** The setup's description of the permissions (keycloak/setup/api-clients.json). */
export interface AdminPermissionsData {
  /** A user policy naming the service account of this client. */
  policy: { name: string; description: string; serviceAccountClientId: string };
  /** Roles: exactly the realm roles carrying `catalogueAttribute` = "true", by id. */
  roles: { name: string; description: string; catalogueAttribute: string; scopes: string[] };
  /** Users: all users of the realm. */
  users: { name: string; description: string; scopes: string[] };
}

interface RoleLike {
  id?: string;
  name?: string;
  composite?: boolean;
  attributes?: Record<string, string[]>;
}

export interface Steps {
  /** Records a change, and makes it unless this is a dry run. */
  change: (what: string, write: () => Promise<unknown>) => Promise<void>;
  warn: (warning: string) => void;
  dryRun: boolean;
}

const ADMIN_PERMISSIONS_CLIENT_ID = 'admin-permissions';
/** The resource that stands for every user (AdminPermissionsSchema: the type's own resource). */
const ALL_USERS = 'Users';

const isCatalogueRole = (role: RoleLike, attribute: string): boolean =>
  role.attributes?.[attribute]?.includes('true') === true;

const serviceAccountUsername = (clientId: string): string => `service-account-${clientId}`.toLowerCase();

const missingFrom = (have: string[], want: string[]): string[] => want.filter((x) => !have.includes(x));

/**
 * The realm representation members that create the permissions on import (Keycloak's import reads
 * a Roles permission's resources as role ids, so every catalogue role needs its id in the file).
 */
export function adminPermissionsImport(data: AdminPermissionsData, realmRoles: RoleLike[]) {
  const catalogue = realmRoles.filter((role) => isCatalogueRole(role, data.roles.catalogueAttribute));
  const ids = catalogue.map((role) => {
    if (!role.id) throw new Error(`catalogue role ${role.name} needs a fixed id in the realm file`);
    return role.id;
  });
  const permission = (
    { name, description, scopes }: { name: string; description: string; scopes: string[] },
    resourceType: string,
    resources: string[],
  ) => ({
    name,
    description,
    type: 'scope',
    logic: 'POSITIVE',
    decisionStrategy: 'UNANIMOUS',
    config: {
      defaultResourceType: resourceType,
      resources: JSON.stringify(resources),
      scopes: JSON.stringify(scopes),
      applyPolicies: JSON.stringify([data.policy.name]),
    },
  });
  return {
    adminPermissionsEnabled: true,
    client: {
      clientId: ADMIN_PERMISSIONS_CLIENT_ID,
      authorizationSettings: {
        allowRemoteResourceManagement: false,
        policyEnforcementMode: 'ENFORCING',
        decisionStrategy: 'AFFIRMATIVE',
        policies: [
          {
            name: data.policy.name,
            description: data.policy.description,
            type: 'user',
            logic: 'POSITIVE',
            decisionStrategy: 'UNANIMOUS',
            config: { users: JSON.stringify([serviceAccountUsername(data.policy.serviceAccountClientId)]) },
          },
          ...(ids.length > 0 ? [permission(data.roles, 'Roles', ids)] : []),
          permission(data.users, 'Users', [ALL_USERS]),
        ],
      },
    },
  };
}

/**
 * Sets the permissions up in an existing realm: switches admin permissions on, then adds what is
 * missing and never takes anything away (a role or policy an operator put into a permission stays).
 */
export async function applyAdminPermissions(
  kc: KeycloakAdminClient,
  realm: string,
  data: AdminPermissionsData,
  steps: Steps,
): Promise<void> {
  const realmRep = await kc.realms.findOne({ realm });
  if (realmRep?.adminPermissionsEnabled !== true) {
    await steps.change('switch on admin permissions (fine-grained admin permissions v2)', () =>
      kc.realms.update({ realm }, { adminPermissionsEnabled: true }),
    );
    if (steps.dryRun) {
      await steps.change(
        `create admin permissions "${data.roles.name}" and "${data.users.name}"`,
        async () => {},
      );
      return;
    }
  }
  const [client] = await kc.clients.find({ clientId: ADMIN_PERMISSIONS_CLIENT_ID, first: 0, max: 1 });
  if (!client?.id)
    throw new Error(`realm ${realm} has admin permissions on but no ${ADMIN_PERMISSIONS_CLIENT_ID} client`);
  const id = client.id;

  const policyId = await ensurePolicy(kc, id, data.policy, steps);
  const roles = await kc.roles.find({ briefRepresentation: false });
  const catalogue = roles
    .filter((role) => isCatalogueRole(role as RoleLike, data.roles.catalogueAttribute))
    .map((role) => ({ id: role.id as string, name: role.name as string }));
  const rolesOk = await ensurePermission(kc, id, {
    ...data.roles,
    resourceType: 'Roles',
    resources: catalogue,
    policy: { id: policyId, name: data.policy.name },
    steps,
  });
  if (!rolesOk) {
    steps.warn(
      `no realm role is marked ${data.roles.catalogueAttribute}=true: permission "${data.roles.name}" is not created (an empty Roles permission covers every role); mark the roles and run again`,
    );
  }
  await ensurePermission(kc, id, {
    ...data.users,
    resourceType: 'Users',
    resources: [{ id: ALL_USERS, name: 'all users' }], // the type's own resource
    policy: { id: policyId, name: data.policy.name },
    steps,
  });
}

/** The user policy naming the service's account; its id (undefined in a dry run that creates it). */
async function ensurePolicy(
  kc: KeycloakAdminClient,
  id: string,
  policy: AdminPermissionsData['policy'],
  steps: Steps,
): Promise<string | undefined> {
  const [serviceClient] = await kc.clients.find({
    clientId: policy.serviceAccountClientId,
    first: 0,
    max: 1,
  });
  if (!serviceClient?.id) {
    if (!steps.dryRun) throw new Error(`client ${policy.serviceAccountClientId} is missing`);
    await steps.change(`create user policy "${policy.name}"`, async () => {});
    return undefined;
  }
  const account = await kc.clients.getServiceAccountUser({ id: serviceClient.id });
  const found = (await kc.clients.listPolicies({ id, name: policy.name, type: 'user', max: 100 })) || [];
  const existing = found.find((p) => p.name === policy.name);
  if (!existing?.id) {
    let created: PolicyRepresentation | undefined;
    await steps.change(`create user policy "${policy.name}" for ${account.username}`, async () => {
      created = await kc.clients.createPolicy(
        { id, type: 'user' },
        {
          name: policy.name,
          description: policy.description,
          logic: 'POSITIVE' as never,
          users: [account.id as string],
        },
      );
    });
    return created?.id;
  }
  const users = JSON.parse(String(existing.config?.users ?? '[]')) as string[];
  if (!users.includes(account.id as string)) {
    await steps.change(`add ${account.username} to user policy "${policy.name}"`, () =>
      kc.clients.updatePolicy(
        { id, type: 'user', policyId: existing.id as string },
        { ...existing, users: [...users, account.id as string], config: undefined },
      ),
    );
  }
  return existing.id;
}

/** A scope permission; false when it does not exist and there is nothing to put in it. */
async function ensurePermission(
  kc: KeycloakAdminClient,
  id: string,
  want: {
    name: string;
    description: string;
    scopes: string[];
    resourceType: string;
    resources: { id: string; name: string }[];
    policy: { id: string | undefined; name: string };
    steps: Steps;
  },
): Promise<boolean> {
  const { steps } = want;
  const found = (await kc.clients.findPermissions({ id, name: want.name, max: 100 })).find(
    (p) => p.name === want.name,
  );
  if (!found?.id) {
    if (want.resources.length === 0) return false;
    await steps.change(
      `create ${want.resourceType} permission "${want.name}" (${want.scopes.join(', ')}) over ${want.resources.map((r) => r.name).join(', ')}`,
      () =>
        kc.clients.createPermission(
          { id, type: 'scope' },
          {
            name: want.name,
            description: want.description,
            resourceType: want.resourceType,
            resources: want.resources.map((r) => r.id),
            scopes: want.scopes,
            policies: [want.policy.id as string],
            logic: 'POSITIVE' as never,
            decisionStrategy: 'UNANIMOUS' as never,
          },
        ),
    );
    return true;
  }
  const permissionId = found.id;
  const [resources, scopes, policies] = await Promise.all([
    kc.clients.getAssociatedResources({ id, permissionId }),
    kc.clients.getAssociatedScopes({ id, permissionId }),
    kc.clients.getAssociatedPolicies({ id, permissionId }),
  ]);
  const has = {
    resources: resources.map((r) => r.name),
    scopes: scopes.map((s) => s.name),
    policies: policies.map((p) => p.id as string),
  };
  // Keycloak drops the type's own resource from a permission that lists others: one that an
  // operator narrowed to some users stays as it is (and the service can map roles for those only).
  const narrowed =
    want.resources.some((r) => r.id === want.resourceType) && !has.resources.includes(want.resourceType);
  if (narrowed) {
    steps.warn(
      `${want.resourceType} permission "${want.name}" covers only some ${want.resourceType.toLowerCase()}: left as it is`,
    );
  }
  // the other way round: a permission over every role, where the setup wants some (left alone:
  // adding one would make Keycloak drop "every role" and narrow what an operator chose)
  const widened =
    !want.resources.some((r) => r.id === want.resourceType) && has.resources.includes(want.resourceType);
  if (widened) {
    steps.warn(
      `${want.resourceType} permission "${want.name}" covers every ${want.resourceType.toLowerCase().replace(/s$/, '')}: the service's account may map any of them; narrow it by hand`,
    );
  }
  const add = {
    resources: narrowed || widened ? [] : want.resources.filter((r) => !has.resources.includes(r.id)),
    scopes: missingFrom(has.scopes, want.scopes),
    policies: want.policy.id ? missingFrom(has.policies, [want.policy.id]) : [],
  };
  const what = [
    ...(add.resources.length > 0 ? [`add ${add.resources.map((r) => r.name).join(', ')}`] : []),
    ...(add.scopes.length > 0 ? [`add scope ${add.scopes.join(', ')}`] : []),
    ...(add.policies.length > 0 ? [`add policy "${want.policy.name}"`] : []),
  ];
  if (what.length === 0) return true;
  await steps.change(`update ${want.resourceType} permission "${want.name}": ${what.join('; ')}`, () =>
    kc.clients.updatePermission(
      { id, type: 'scope', permissionId },
      {
        ...found,
        resourceType: found.resourceType ?? want.resourceType,
        resources: [...has.resources, ...add.resources.map((r) => r.id)],
        scopes: [...has.scopes, ...add.scopes],
        policies: [...has.policies, ...add.policies],
      },
    ),
  );
  return true;
}
