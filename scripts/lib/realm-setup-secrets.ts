// The realm-level part of the setup that the secret lifecycle needs (src/api-clients/credentials/secrets.ts,
// src/api-clients/activity/last-used.ts): the client profile and policy of secret rotation, and the login
// events lastUsedAt reads. Like the rest of the setup it adds and never removes: an operator's own
// profiles and policies stay as they are, the event types are added to the ones the realm saves
// (a realm that saves every type, an empty list with events on, is left alone), and a longer
// retention (or none, i.e. forever) is kept.
import type KeycloakAdminClient from '@keycloak/keycloak-admin-client';
import type ClientPolicyRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientPolicyRepresentation.js';
import type ClientProfileRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientProfileRepresentation.js';
import type { RealmSetup } from './realm-files.js';

type Change = (what: string, write: () => Promise<unknown>) => Promise<void>;

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** `have` with each of `want` put in by name: added when missing, replaced when different. */
function withNamed<T extends { name?: string }>(have: T[], want: T[]): { list: T[]; changed: string[] } {
  const list = [...have];
  const changed: string[] = [];
  for (const item of want) {
    const at = list.findIndex((existing) => existing.name === item.name);
    if (at === -1) list.push(item);
    else if (!sameJson({ ...list[at], ...item }, list[at])) list[at] = { ...list[at], ...item };
    else continue;
    changed.push(item.name as string);
  }
  return { list, changed };
}

export async function applySecretLifecycleSetup(
  kc: KeycloakAdminClient,
  realm: string,
  setup: RealmSetup,
  change: Change,
): Promise<void> {
  // Client profiles first: a policy may name only a profile that exists.
  const profiles = await kc.clientPolicies.listProfiles({ includeGlobalProfiles: false });
  const wantedProfiles = setup.clientProfiles.profiles as ClientProfileRepresentation[];
  const newProfiles = withNamed(profiles.profiles ?? [], wantedProfiles);
  if (newProfiles.changed.length > 0) {
    await change(`set client profile ${newProfiles.changed.join(', ')}`, () =>
      kc.clientPolicies.createProfiles({ profiles: newProfiles.list }),
    );
  }
  const policies = await kc.clientPolicies.listPolicies({ includeGlobalPolicies: false });
  const wantedPolicies = setup.clientPolicies.policies as ClientPolicyRepresentation[];
  const newPolicies = withNamed(policies.policies ?? [], wantedPolicies);
  if (newPolicies.changed.length > 0) {
    await change(`set client policy ${newPolicies.changed.join(', ')}`, () =>
      kc.clientPolicies.updatePolicy({ policies: newPolicies.list }),
    );
  }

  // Login events: on, with the types lastUsedAt reads, kept at least the setup's retention.
  const events = await kc.realms.getConfigEvents({ realm });
  const savesEverything = events.eventsEnabled === true && (events.enabledEventTypes ?? []).length === 0;
  const types = events.enabledEventTypes ?? [];
  const missingTypes = savesEverything ? [] : setup.enabledEventTypes.filter((type) => !types.includes(type));
  const expiration = events.eventsExpiration;
  // On events, none (undefined or 0) keeps them forever: longer than any retention.
  const keepsLonger = events.eventsEnabled
    ? !expiration || expiration >= setup.eventsExpiration
    : !!expiration && expiration >= setup.eventsExpiration;
  const what = [
    ...(events.eventsEnabled ? [] : ['events on']),
    ...(missingTypes.length > 0 ? [`event types ${missingTypes.join(', ')}`] : []),
    ...(keepsLonger ? [] : [`events kept ${setup.eventsExpiration} s`]),
  ];
  // Admin events (a client's history): on, with the representation written, kept at least as long.
  const adminWhat = [
    ...(events.adminEventsEnabled ? [] : ['admin events on']),
    ...(events.adminEventsDetailsEnabled ? [] : ['admin events with representation']),
  ];
  if (what.length > 0 || adminWhat.length > 0) {
    await change(`realm events: ${[...what, ...adminWhat].join(', ')}`, () =>
      kc.realms.updateConfigEvents(
        { realm },
        {
          ...events,
          eventsEnabled: true,
          enabledEventTypes: savesEverything ? types : [...types, ...missingTypes],
          eventsExpiration: keepsLonger ? expiration : setup.eventsExpiration,
          adminEventsEnabled: true,
          adminEventsDetailsEnabled: true,
        },
      ),
    );
  }
  // Keycloak keeps admin events forever unless the realm attribute adminEventsExpiration (seconds)
  // says otherwise: a realm without one gets the setup's, a shorter one is made as long.
  const realmRep = await kc.realms.findOne({ realm });
  const adminExpiration = Number(realmRep?.attributes?.adminEventsExpiration ?? 0);
  const wanted = Number(setup.attributes.adminEventsExpiration);
  if (!(adminExpiration >= wanted)) {
    await change(`admin events kept ${wanted} s`, () =>
      kc.realms.update(
        { realm },
        { attributes: { ...realmRep?.attributes, adminEventsExpiration: String(wanted) } },
      ),
    );
  }
}
