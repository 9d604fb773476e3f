// A client's use per day (SPEC §4 Usage), from Keycloak's login events: CLIENT_LOGIN (client
// credentials) and CODE_TO_TOKEN (authorization code) are tokens issued, CLIENT_LOGIN_ERROR a
// client authentication Keycloak refused (wrong or expired secret, bad assertion), with its reason
// (the event's `error`) and source address. The realm saves the three types for eventsExpiration
// seconds (keycloak/setup/api-clients.json); the longest range asked for is that retention in days.
//
// Cost: Keycloak has no count of events, only pages of them (one client, these types, since the
// range's first day, newest first). A key used every minute writes 20,000 events in two weeks, so:
// - pages of PAGE_SIZE events, at most `maxEvents` events per answer: beyond that the answer says
//   `truncated: true`, `countedUpTo` and `countedFrom` (the oldest event counted; days before it are
//   not complete), and asks once more for the newest refusal if none was among those counted;
// - the answer is kept per replica for `cacheTtlMs` (client and range as the key);
// - the retention is read once per RETENTION_TTL_MS.
// docs/performance.md has the measured calls and times.
import type { ClientsGateway, EventRepresentation, EventType } from '../../keycloak/clients-gateway.js';
import { createTtlCache } from '../../lib/cache.js';
import { TOKEN_EVENT_TYPES } from './last-used.js';

export const REFUSAL_EVENT_TYPE: EventType = 'CLIENT_LOGIN_ERROR';
export const USAGE_EVENT_TYPES: EventType[] = [...TOKEN_EVENT_TYPES, REFUSAL_EVENT_TYPE];
export const DEFAULT_USAGE_DAYS = 14;
export const USAGE_PAGE_SIZE = 1000;
export const USAGE_MAX_EVENTS = 20_000;
export const USAGE_CACHE_TTL_MS = 30_000;
/** The longest range when the realm keeps events forever (no eventsExpiration). */
export const USAGE_DAYS_WITHOUT_RETENTION = 90;
const RETENTION_TTL_MS = 10 * 60_000;
const DAY_MS = 86_400_000;

export interface UsageDay {
  /** A UTC date, YYYY-MM-DD. */
  date: string;
  tokensIssued: number;
  failedAuthentications: number;
}

export interface Usage {
  /** Oldest first, one per day of the range, today (UTC) last. */
  days: UsageDay[];
  lastFailure: { at: string; reason: string; ipAddress: string | null } | null;
  /** More events than `countedUpTo` fell in the range: only the newest were counted. */
  truncated: boolean;
  countedUpTo: number;
  /** When truncated, the time of the oldest event counted: days before it are incomplete. */
  countedFrom: string | null;
}

export interface UsageOptions {
  now: () => Date;
  maxEvents?: number;
  pageSize?: number;
  cacheTtlMs?: number;
}

const dateOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export function createUsage(gateway: ClientsGateway, options: UsageOptions) {
  const maxEvents = options.maxEvents ?? USAGE_MAX_EVENTS;
  const pageSize = Math.min(options.pageSize ?? USAGE_PAGE_SIZE, maxEvents);

  const retention = createTtlCache<'days', { days: number }>({
    ttlMs: RETENTION_TTL_MS,
    max: 1,
    load: async () => {
      const seconds = (await gateway.eventsConfig()).eventsExpiration;
      return { days: seconds ? Math.max(1, Math.floor(seconds / 86_400)) : USAGE_DAYS_WITHOUT_RETENTION };
    },
  });

  async function count(key: string): Promise<Usage> {
    const [clientId, daysText] = key.split('\n') as [string, string];
    const days = Number(daysText);
    const today = Date.parse(`${dateOf(options.now().getTime())}T00:00:00Z`);
    const since = today - (days - 1) * DAY_MS;
    const rows = new Map<string, UsageDay>();
    for (let at = since; at <= today; at += DAY_MS) {
      const date = dateOf(at);
      rows.set(date, { date, tokensIssued: 0, failedAuthentications: 0 });
    }
    let lastFailure: EventRepresentation | undefined;
    let counted = 0;
    let oldest: number | undefined;
    let truncated = false;
    for (;;) {
      const max = Math.min(pageSize, maxEvents - counted);
      const page = await gateway.findEvents({
        clientId,
        types: USAGE_EVENT_TYPES,
        first: counted,
        max,
        sinceMs: since,
      });
      for (const event of page) {
        if (event.time === undefined) continue;
        const row = rows.get(dateOf(event.time));
        if (!row) continue;
        if (event.type === REFUSAL_EVENT_TYPE) {
          row.failedAuthentications++;
          lastFailure ??= event;
        } else row.tokensIssued++;
        oldest = event.time;
      }
      counted += page.length;
      if (page.length < max) break;
      if (counted >= maxEvents) {
        truncated = true;
        break;
      }
    }
    if (truncated && !lastFailure) {
      [lastFailure] = await gateway.findEvents({
        clientId,
        types: [REFUSAL_EVENT_TYPE],
        max: 1,
        sinceMs: since,
      });
    }
    return {
      days: [...rows.values()],
      lastFailure:
        lastFailure?.time === undefined
          ? null
          : {
              at: new Date(lastFailure.time).toISOString(),
              reason: lastFailure.error ?? 'unknown',
              ipAddress: lastFailure.ipAddress ?? null,
            },
      truncated,
      countedUpTo: maxEvents,
      countedFrom: truncated && oldest !== undefined ? new Date(oldest).toISOString() : null,
    };
  }
  const answers = createTtlCache<string, Usage>({
    ttlMs: options.cacheTtlMs ?? USAGE_CACHE_TTL_MS,
    max: 1000,
    load: count,
  });

  return {
    /** The longest range a usage request may ask for, in days: the login events' retention. */
    maxDays: async (): Promise<number> => (await retention.get('days')).days,
    /** The client's use over the last `days` days (UTC), today included. */
    of: (clientId: string, days: number): Promise<Usage> => answers.get(`${clientId}\n${days}`),
  };
}

export type UsageCounter = ReturnType<typeof createUsage>;
