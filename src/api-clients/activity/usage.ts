// A client's use per day (SPEC §4 Usage), from Keycloak's login events: CLIENT_LOGIN (client
// credentials) and CODE_TO_TOKEN (authorization code) are tokens issued, CLIENT_LOGIN_ERROR a
// client authentication Keycloak refused (wrong or expired secret, bad assertion), with its reason
// (the event's `error`) and source address. The realm saves the three types for eventsExpiration
// seconds (keycloak/setup/api-clients.json); the longest range asked for is that retention in days.
//
// Cost: Keycloak has no count of events, only pages of them (one client, these types, between two
// times, newest first). A key used every minute writes 1,440 events a day, 20,000 in two weeks, so:
// - one page over the whole range first: a quiet client (fewer than PAGE_SIZE events) costs 1 call;
// - a busier one is read day by day (UTC, dateFrom/dateTo), in pages of PAGE_SIZE events, newest day
//   first, at most `maxEvents` events per answer: beyond that the answer says `truncated: true`,
//   `countedUpTo` and `countedFrom` (the oldest event counted; days before it are incomplete), and
//   asks once more for the newest refusal if none was among those counted;
// - a day that is over never changes: its counts are kept PAST_DAY_TTL_MS by the replica, so after
//   the first answer only today is read again (2 calls a day-full of a minute-key);
// - the whole answer is kept `cacheTtlMs` (client and range as the key); the retention is read once
//   per RETENTION_TTL_MS.
// docs/performance.md has the measured calls and times.
import type { ClientsGateway, EventRepresentation, EventType } from '../../keycloak/clients-gateway.js';
import { createTtlCache } from '../../lib/cache.js';
import { ProblemError } from '../../lib/problem.js';
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
/** How long a replica keeps a past day's counts (they do not change; the bound is memory, and a day expiring). */
export const PAST_DAY_TTL_MS = 6 * 3600_000;
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

interface DayCount {
  tokensIssued: number;
  failedAuthentications: number;
  /** The day's newest refusal. */
  lastFailure?: EventRepresentation;
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
  /** Past days' counts per client: events are written at "now", so a day that is over never changes. */
  const pastDays = createTtlCache<string, DayCount>({ ttlMs: PAST_DAY_TTL_MS, max: 50_000 });

  /** One day's events, newest first, in pages, at most `budget` of them; `complete` when all were read. */
  async function countDay(clientId: string, dayStart: number, budget: number) {
    const day: DayCount = { tokensIssued: 0, failedAuthentications: 0 };
    let read = 0;
    let oldest: number | undefined;
    for (;;) {
      const max = Math.min(pageSize, budget - read);
      const page = await gateway.findEvents({
        clientId,
        types: USAGE_EVENT_TYPES,
        first: read,
        max,
        sinceMs: dayStart,
        untilMs: dayStart + DAY_MS - 1,
      });
      for (const event of page) {
        if (event.type === REFUSAL_EVENT_TYPE) {
          day.failedAuthentications++;
          day.lastFailure ??= event;
        } else day.tokensIssued++;
        oldest = event.time ?? oldest;
      }
      read += page.length;
      if (page.length < max) return { day, read, complete: true, oldest };
      if (read >= budget) return { day, read, complete: false, oldest };
    }
  }

  async function count(key: string): Promise<Usage> {
    const [clientId, daysText] = key.split('\n') as [string, string];
    const now = options.now().getTime();
    const today = Date.parse(`${dateOf(now)}T00:00:00Z`);
    const since = today - (Number(daysText) - 1) * DAY_MS;
    const counts = new Map<string, DayCount>();
    const keep = (dayStart: number, day: DayCount) => {
      // a day is kept once it is over (and a minute more, for events still being written)
      if (dayStart + DAY_MS + 60_000 < now) pastDays.set(`${clientId}\n${dateOf(dayStart)}`, day);
    };
    let budget = maxEvents;
    let countedFrom: number | undefined;
    // A quiet client first: one page over the whole range; when it is not full, it is everything.
    const whole = await gateway.findEvents({
      clientId,
      types: USAGE_EVENT_TYPES,
      max: pageSize,
      sinceMs: since,
    });
    if (whole.length < pageSize) {
      for (let dayStart = since; dayStart <= today; dayStart += DAY_MS)
        counts.set(dateOf(dayStart), { tokensIssued: 0, failedAuthentications: 0 });
      for (const event of whole) {
        const day = event.time === undefined ? undefined : counts.get(dateOf(event.time));
        if (!day) continue;
        if (event.type === REFUSAL_EVENT_TYPE) {
          day.failedAuthentications++;
          day.lastFailure ??= event;
        } else day.tokensIssued++;
      }
      for (let dayStart = since; dayStart < today; dayStart += DAY_MS)
        keep(dayStart, counts.get(dateOf(dayStart)) as DayCount);
    }
    // A busy one: day by day, newest first (the cap keeps the newest events), past days once.
    for (let dayStart = today; dayStart >= since && whole.length >= pageSize; dayStart -= DAY_MS) {
      const date = dateOf(dayStart);
      const kept = pastDays.peek(`${clientId}\n${date}`);
      if (kept) {
        counts.set(date, kept);
        continue;
      }
      if (countedFrom !== undefined) continue; // past the cap: unknown, shown as 0
      const { day, read, complete, oldest } = await countDay(clientId, dayStart, budget);
      budget -= read;
      counts.set(date, day);
      if (!complete) countedFrom = oldest ?? dayStart;
      else keep(dayStart, day);
    }
    const truncated = countedFrom !== undefined;
    let lastFailure = [...counts.values()].find((day) => day.lastFailure)?.lastFailure;
    if (truncated && !lastFailure) {
      [lastFailure] = await gateway.findEvents({
        clientId,
        types: [REFUSAL_EVENT_TYPE],
        max: 1,
        sinceMs: since,
      });
    }
    const days: UsageDay[] = [];
    for (let dayStart = since; dayStart <= today; dayStart += DAY_MS) {
      const date = dateOf(dayStart);
      const day = counts.get(date);
      days.push({
        date,
        tokensIssued: day?.tokensIssued ?? 0,
        failedAuthentications: day?.failedAuthentications ?? 0,
      });
    }
    return {
      days,
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
      countedFrom: countedFrom === undefined ? null : new Date(countedFrom).toISOString(),
    };
  }
  const answers = createTtlCache<string, Usage>({
    ttlMs: options.cacheTtlMs ?? USAGE_CACHE_TTL_MS,
    max: 1000,
    load: count,
  });

  return {
    /** Refuses a range longer than the login events' retention (in days): Keycloak has nothing older. */
    async assertRange(days: number): Promise<void> {
      const { days: maxDays } = await retention.get('days');
      if (days <= maxDays) return;
      throw new ProblemError('validation-failed', `Keycloak keeps login events ${maxDays} days`, {
        errors: [{ pointer: '/days', in: 'query', reason: `must be at most ${maxDays}` }],
      });
    },
    /** The client's use over the last `days` days (UTC), today included. */
    of: (clientId: string, days: number): Promise<Usage> => answers.get(`${clientId}\n${days}`),
  };
}

export type UsageCounter = ReturnType<typeof createUsage>;
