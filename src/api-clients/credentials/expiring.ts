// Which secrets expire soon, across accounts (SPEC §3, `GET /api-clients?expiringWithinDays=N`):
// what a platform's notifier reads to mail or call an account before its key stops working.
//
// Keycloak cannot answer "expires before" (its `q=` attribute search matches values exactly), and
// scanning every client of the realm costs what the realm holds. Each write of an expiry also
// writes the week it falls in (resource/secret-expiry.ts), a searchable attribute: the answer
// reads one indexed query per week of the window, in order, and stops once its page is full.
// The window reaches back EXPIRED_LOOKBACK_DAYS for secrets that have expired already, and says so
// in the answer (`from`, `to`).
import type { ClientRepresentation, ClientsGateway } from '../../keycloak/clients-gateway.js';
import { accountMarkerOf } from '../access/ownership.js';
import {
  EXPIRED_LOOKBACK_DAYS,
  expiresAtOf,
  expiryWeekOf,
  SECRET_EXPIRY_WEEK_ATTRIBUTE,
} from '../resource/secret-expiry.js';

const DAY_MS = 86_400_000;
/** Clients per Keycloak page while reading one week. */
const WEEK_PAGE = 200;

export interface ExpiringSecret {
  accountId: string;
  clientId: string;
  displayName: string | null;
  expiresAt: string;
  expired: boolean;
}

export interface ExpiringPage {
  items: ExpiringSecret[];
  /** Whether rows follow this page (ask again with `first` + `max`). */
  hasMore: boolean;
  /** The window searched: secrets expiring from `from` (expired ones included) to `to`. */
  from: string;
  to: string;
}

export interface ExpiringQuery {
  withinDays: number;
  first: number;
  max: number;
}

const byExpiry = (a: ExpiringSecret, b: ExpiringSecret): number =>
  a.expiresAt.localeCompare(b.expiresAt) || a.clientId.localeCompare(b.clientId);

export function createExpiring(gateway: ClientsGateway, now: () => Date) {
  /** Every managed client whose week attribute names this week, in full (Keycloak pages of WEEK_PAGE). */
  async function week(monday: string): Promise<ClientRepresentation[]> {
    const clients: ClientRepresentation[] = [];
    for (let first = 0; ; first += WEEK_PAGE) {
      const page = await gateway.pageByAttribute(SECRET_EXPIRY_WEEK_ATTRIBUTE, monday, first, WEEK_PAGE);
      clients.push(...page);
      if (page.length < WEEK_PAGE) return clients;
    }
  }

  /** A row for a client the service manages with a secret that expires inside the window. */
  function rowOf(rep: ClientRepresentation, from: number, to: number, at: number): ExpiringSecret[] {
    const accountId = accountMarkerOf(rep);
    const expiresAt = expiresAtOf(rep.attributes as Record<string, unknown> | undefined);
    if (typeof accountId !== 'string' || !rep.clientId || expiresAt === null) return [];
    const expiry = Date.parse(expiresAt);
    if (expiry < from || expiry > to) return [];
    return [
      { accountId, clientId: rep.clientId, displayName: rep.name || null, expiresAt, expired: expiry <= at },
    ];
  }

  return async function expiring({ withinDays, first, max }: ExpiringQuery): Promise<ExpiringPage> {
    const at = now().getTime();
    const from = at - EXPIRED_LOOKBACK_DAYS * DAY_MS;
    const to = at + withinDays * DAY_MS;
    const items: ExpiringSecret[] = [];
    let seen = 0;
    // weeks in order, so rows come in order of expiry: the walk stops one row past the page
    for (let monday = Date.parse(expiryWeekOf(new Date(from))); monday <= to; monday += 7 * DAY_MS) {
      const rows = (await week(new Date(monday).toISOString().slice(0, 10)))
        .flatMap((rep) => rowOf(rep, from, to, at))
        .sort(byExpiry);
      for (const row of rows) {
        if (seen === first + max) {
          return { items, hasMore: true, from: new Date(from).toISOString(), to: new Date(to).toISOString() };
        }
        if (seen >= first) items.push(row);
        seen += 1;
      }
    }
    return { items, hasMore: false, from: new Date(from).toISOString(), to: new Date(to).toISOString() };
  };
}
