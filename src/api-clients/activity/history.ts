// Who did what to which client, and when (SPEC §4 History), from Keycloak's admin events only: the
// realm keeps every admin write with the representation that was written (adminEventsEnabled,
// adminEventsDetailsEnabled, kept adminEventsExpiration seconds: keycloak/setup/api-clients.json).
//
// Keycloak names the service's own service account as the author of every write it makes, so the
// service carries the caller in what it writes: the attribute CHANGE_ATTRIBUTE, a small JSON record
// { v, id, action, accountId, clientId, actor: { sub, username }, changed }, written with the
// change itself, and read back from the admin event's representation. Nothing else of a
// representation is ever passed on (a written representation may hold secrets).
//
// Which write carries the record (docs/activity.md has the costs):
// - create, update (and credential switch): the CREATE / UPDATE of the client itself: no extra call;
// - regenerate, invalidate: the UPDATE they already make after the regenerate (the new secret's
//   expiry and, with a grace period, the rotated secret's; notBefore): no extra call;
// - end of a grace period: Keycloak's DELETE on clients/{id}/client-secret/rotated carries no
//   client representation: one extra UPDATE after it;
// - delete: one extra UPDATE before the DELETE (nothing can be written after); the row is shown
//   only when Keycloak's DELETE event of that client follows it, at the DELETE's time;
// - limit changes: the CREATE / UPDATE of the account's limit role (consistency/limits.ts).
// An update undone after a failure writes the record again with `undone`: neither is listed. A
// create taken back after a failure is deleted without a record: its CREATE is not listed either.
import { randomUUID } from 'node:crypto';
import type { AdminEventRepresentation, ClientsGateway } from '../../keycloak/clients-gateway.js';

/** The client (and limit role) attribute that carries the last change's record. */
export const CHANGE_ATTRIBUTE = 'api-clients.change';

export const HISTORY_ACTIONS = [
  'created',
  'updated',
  'secret-regenerated',
  'grace-period-ended',
  'invalidated',
  'credential-switched',
  'deleted',
  'limit-changed',
] as const;
export type HistoryAction = (typeof HISTORY_ACTIONS)[number];

export interface Actor {
  sub: string;
  username: string | null;
}

/** What the service writes into Keycloak with a change. */
export interface ChangeRecord {
  v: 1;
  /** One per change: the create's fix-up write repeats it, an undo names it. */
  id: string;
  action: HistoryAction;
  accountId: string;
  clientId: string | null;
  actor: Actor;
  changed: string[];
  undone?: true;
}

export interface HistoryRow {
  at: string;
  action: HistoryAction;
  actor: Actor;
  changed: string[];
  /** null on a limit change. */
  clientId: string | null;
}

export interface HistoryPage {
  items: HistoryRow[];
  first: number;
  max: number;
  /** More rows were found after this page. */
  hasMore: boolean;
  /** The scan stopped at its bound of admin events read: older rows may exist that are not counted. */
  truncated: boolean;
}

export function changeRecord(
  action: HistoryAction,
  accountId: string,
  clientId: string | null,
  actor: Actor,
  changed: string[] = [],
): ChangeRecord {
  return { v: 1, id: randomUUID(), action, accountId, clientId, actor, changed };
}

/** The record as a client attribute (a string; a role's attributes take it as a one-value list). */
export const recordAttribute = (record: ChangeRecord): Record<string, string> => ({
  [CHANGE_ATTRIBUTE]: JSON.stringify(record),
});

/** The record that puts back an update: the update and its undo are both left out of the history. */
export const undoRecord = (record: ChangeRecord): ChangeRecord => ({ ...record, undone: true });

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The names of the fields whose values differ, in the order of `after`. */
export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const names = [...new Set([...Object.keys(after), ...Object.keys(before)])];
  return names.filter((name) => !same(before[name], after[name]));
}

/** An update whose credential changes type is a credential switch; any other is an update. */
export function updateAction(before: Record<string, unknown>, after: Record<string, unknown>): HistoryAction {
  const type = (fields: Record<string, unknown>) =>
    (fields.credential as { type?: unknown } | undefined)?.type;
  return type(before) !== undefined && type(after) !== undefined && type(before) !== type(after)
    ? 'credential-switched'
    : 'updated';
}

const CLIENT_PATH = /^clients\/([0-9a-f-]+)$/;
const isActor = (value: unknown): value is Actor =>
  typeof (value as Actor)?.sub === 'string' &&
  ((value as Actor).username === null || typeof (value as Actor).username === 'string');

/** The change record of an admin event's representation, checked member by member; nothing else of it. */
export function recordOf(event: AdminEventRepresentation): ChangeRecord | undefined {
  if (!event.representation?.includes(CHANGE_ATTRIBUTE)) return undefined;
  try {
    const rep = JSON.parse(event.representation) as { attributes?: Record<string, unknown> };
    const raw = rep.attributes?.[CHANGE_ATTRIBUTE];
    const text = Array.isArray(raw) ? raw[0] : raw;
    if (typeof text !== 'string') return undefined;
    const record = JSON.parse(text) as Partial<ChangeRecord>;
    if (
      record.v !== 1 ||
      typeof record.id !== 'string' ||
      !HISTORY_ACTIONS.includes(record.action as HistoryAction) ||
      typeof record.accountId !== 'string' ||
      !(record.clientId === null || typeof record.clientId === 'string') ||
      !isActor(record.actor) ||
      !Array.isArray(record.changed) ||
      !record.changed.every((name) => typeof name === 'string')
    ) {
      return undefined;
    }
    return {
      v: 1,
      id: record.id,
      action: record.action as HistoryAction,
      accountId: record.accountId,
      clientId: record.clientId,
      actor: { sub: record.actor.sub, username: record.actor.username },
      changed: [...record.changed],
      ...(record.undone ? { undone: true as const } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * The account's rows among admin events read newest first: one per change (a repeated record once),
 * without undone updates, a delete only when Keycloak's DELETE of that client is among the events.
 */
export function rowsOf(events: readonly AdminEventRepresentation[], accountId: string): HistoryRow[] {
  const deletedAt = new Map<string, number>();
  const undone = new Set<string>();
  const seen = new Set<string>();
  const rows: HistoryRow[] = [];
  for (const event of events) {
    const path = event.resourcePath ?? '';
    if (event.operationType === 'DELETE') {
      if (CLIENT_PATH.test(path) && event.time !== undefined) deletedAt.set(path, event.time);
      continue;
    }
    const record = recordOf(event);
    if (!record || record.accountId !== accountId || event.time === undefined) continue;
    if (record.undone) {
      undone.add(record.id);
      continue;
    }
    if (seen.has(record.id) || undone.has(record.id)) continue;
    // a create whose client Keycloak deleted with no delete of the service's after it: the create
    // failed half way and was taken back (consistency/create-outcome.ts), or the client was deleted
    // outside the service; either way it is not "created" for the account
    if (record.action === 'created' && deletedAt.has(path)) {
      undone.add(record.id);
      continue;
    }
    seen.add(record.id);
    const at = record.action === 'deleted' ? deletedAt.get(path) : event.time;
    // a delete that Keycloak did not do (a failed one, retried: only the last one before the DELETE counts)
    if (at === undefined) continue;
    if (record.action === 'deleted') deletedAt.delete(path);
    rows.push({
      at: new Date(at).toISOString(),
      action: record.action,
      actor: record.actor,
      changed: record.changed,
      clientId: record.clientId,
    });
  }
  return rows;
}

export interface HistoryOptions {
  /** Admin events read per Keycloak call. */
  pageSize?: number;
  /** The most admin events one history request reads (a realm-wide scan for the account's history). */
  maxEvents?: number;
}

export const HISTORY_PAGE_SIZE = 200;
export const HISTORY_MAX_EVENTS = 2000;

type EventQuery = Omit<Parameters<ClientsGateway['findAdminEvents']>[0], 'first' | 'max'>;

export function createHistory(gateway: ClientsGateway, options: HistoryOptions = {}) {
  const pageSize = options.pageSize ?? HISTORY_PAGE_SIZE;
  const maxEvents = options.maxEvents ?? HISTORY_MAX_EVENTS;

  /** Reads pages newest first until `wanted` rows are found, the events end, or the bound is reached. */
  async function scan(query: EventQuery, accountId: string, wanted: number) {
    const events: AdminEventRepresentation[] = [];
    for (;;) {
      const max = Math.min(pageSize, maxEvents - events.length);
      const page = await gateway.findAdminEvents({ ...query, first: events.length, max });
      events.push(...page);
      const rows = rowsOf(events, accountId);
      if (rows.length >= wanted || page.length < max) return { rows, truncated: false };
      if (events.length >= maxEvents) return { rows, truncated: true };
    }
  }

  const pageOf = (rows: HistoryRow[], first: number, max: number, truncated: boolean): HistoryPage => ({
    items: rows.slice(first, first + max),
    first,
    max,
    hasMore: rows.length > first + max,
    truncated: truncated && rows.length <= first + max,
  });

  return {
    /** A client's rows: the admin events of its own path (clients/{id}), its CREATE and UPDATEs. */
    async ofClient(accountId: string, id: string, first: number, max: number): Promise<HistoryPage> {
      const { rows, truncated } = await scan(
        { resourcePath: `clients/${id}`, operationTypes: ['CREATE', 'UPDATE'] },
        accountId,
        first + max + 1,
      );
      return pageOf(rows, first, max, truncated);
    },

    /**
     * The account's rows, deleted clients included: Keycloak cannot filter admin events by account,
     * so the realm's client events are read newest first (CREATE, UPDATE, DELETE of resource type
     * CLIENT) and kept by the account in their records, at most `maxEvents` of them; the limit's
     * changes are one query of the limit role's own path.
     */
    async ofAccount(
      accountId: string,
      limitRolePath: string,
      first: number,
      max: number,
    ): Promise<HistoryPage> {
      const wanted = first + max + 1;
      const [clients, limit] = await Promise.all([
        scan(
          { resourceTypes: ['CLIENT'], operationTypes: ['CREATE', 'UPDATE', 'DELETE'] },
          accountId,
          wanted,
        ),
        scan({ resourcePath: limitRolePath, operationTypes: ['CREATE', 'UPDATE'] }, accountId, wanted),
      ]);
      const rows = [...clients.rows, ...limit.rows].sort((a, b) => b.at.localeCompare(a.at));
      return pageOf(rows, first, max, clients.truncated || limit.truncated);
    },
  };
}

export type History = ReturnType<typeof createHistory>;
