// When Keycloak last issued a token to a client (SPEC §4 Last used), from Keycloak's own event
// store: the realm saves CLIENT_LOGIN (client credentials) and CODE_TO_TOKEN (authorization code)
// events for a retention period (keycloak/setup/api-clients.json), and the service's account reads
// them with realm-management's view-events. Keycloak's events query filters by one client at most,
// newest first.
//
// Cost: gets and list pages share one realm-wide query of the last RECENT_WINDOW_MS's events (kept
// RECENT_TTL_MS by the replica): a client found there has its answer. A client not found there was
// last used before the window, or never: its own query is kept RECENT_WINDOW_MS, since any newer
// use shows in the window's query. So a get or a list costs 1 call at most every RECENT_TTL_MS
// plus, cold, 1 per client not used in the window; lastUsedAt is at most RECENT_TTL_MS late. When
// the window's query comes back full (a busy realm), the clients it misses are asked for one by one
// and kept only RECENT_TTL_MS. (A get used to ask Keycloak each time: 1 events query per get cost
// Keycloak as much CPU as the client's own read, bench/README.md.)
import type { ClientsGateway, EventRepresentation, EventType } from '../../keycloak/clients-gateway.js';
import { createTtlCache } from '../../lib/cache.js';
import { mapLimited } from '../../lib/map-limited.js';

/** The events that say Keycloak issued a token to the client. */
export const TOKEN_EVENT_TYPES: EventType[] = ['CLIENT_LOGIN', 'CODE_TO_TOKEN'];
export const RECENT_WINDOW_MS = 15 * 60_000;
export const RECENT_TTL_MS = 10_000;
/** The most events one realm-wide query reads. */
export const RECENT_MAX_EVENTS = 2000;
/** How many per-client queries a list page sends at once. */
const CONCURRENCY = 5;

interface Recent {
  lastUsed: Map<string, number>;
  /** The query came back full: a client missing from it may still have been used in the window. */
  truncated: boolean;
}

export interface LastUsedOptions {
  now: () => Date;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function createLastUsed(gateway: ClientsGateway, options: LastUsedOptions) {
  const newestOf = async (clientId: string): Promise<{ at?: number }> => {
    const [event]: EventRepresentation[] = await gateway.findEvents({
      clientId,
      types: TOKEN_EVENT_TYPES,
      max: 1,
    });
    return { at: event?.time };
  };
  const recent = createTtlCache<'recent', Recent>({
    ttlMs: RECENT_TTL_MS,
    max: 1,
    load: async () => {
      const events = await gateway.findEvents({
        types: TOKEN_EVENT_TYPES,
        max: RECENT_MAX_EVENTS,
        sinceMs: options.now().getTime() - RECENT_WINDOW_MS,
      });
      const lastUsed = new Map<string, number>();
      for (const { clientId, time } of events) {
        if (clientId && time !== undefined && time > (lastUsed.get(clientId) ?? 0))
          lastUsed.set(clientId, time);
      }
      return { lastUsed, truncated: events.length >= RECENT_MAX_EVENTS };
    },
  });
  /** Clients last used before the window (or never), kept as long as the window covers. */
  const older = createTtlCache<string, { at?: number }>({ ttlMs: RECENT_WINDOW_MS, load: newestOf });
  /** The same, for a realm too busy for the window's query to be complete. */
  const busy = createTtlCache<string, { at?: number }>({ ttlMs: RECENT_TTL_MS, load: newestOf });

  return {
    /** One client (a get), at the cost described above. */
    of: async (clientId: string): Promise<string | null> => (await ofMany([clientId])).get(clientId) ?? null,
    /** Several clients (a list page), at the cost described above. */
    ofMany,
  };

  async function ofMany(clientIds: readonly string[]): Promise<Map<string, string | null>> {
    const window = await recent.get('recent');
    const answers = new Map<string, string | null>();
    const missing = clientIds.filter((clientId) => {
      const at = window.lastUsed.get(clientId);
      if (at !== undefined) answers.set(clientId, iso(at));
      return at === undefined;
    });
    const cache = window.truncated ? busy : older;
    const found = await mapLimited(missing, CONCURRENCY, async (clientId) =>
      iso((await cache.get(clientId)).at),
    );
    for (const [index, clientId] of missing.entries()) answers.set(clientId, found[index] ?? null);
    return answers;
  }
}

export type LastUsed = ReturnType<typeof createLastUsed>;
