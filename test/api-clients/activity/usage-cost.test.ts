// What a usage answer costs in Keycloak calls (activity/usage.ts), over a stub of the one port it
// uses (findEvents filters like Keycloak's events query): a quiet client is one call; a busy one is
// read day by day, and a day that is over is not read again; the cap keeps the newest events.
import { describe, expect, it } from 'vitest';
import { createUsage } from '../../../src/api-clients/activity/usage.js';
import type { ClientsGateway, EventRepresentation } from '../../../src/keycloak/clients-gateway.js';

const NOW = Date.parse('2026-12-03T12:00:00Z');
const DAY = 86_400_000;

function stub(events: EventRepresentation[]) {
  const calls: { since?: number; until?: number }[] = [];
  const sorted = [...events].sort((a, b) => (b.time ?? 0) - (a.time ?? 0));
  const gateway = {
    eventsConfig: async () => ({ eventsExpiration: 90 * 86_400 }),
    findEvents: async (q: {
      types: string[];
      max: number;
      first?: number;
      sinceMs?: number;
      untilMs?: number;
    }) => {
      calls.push({ since: q.sinceMs, until: q.untilMs });
      return sorted
        .filter(
          (e) =>
            q.types.includes(e.type as string) &&
            (q.sinceMs === undefined || (e.time ?? 0) >= q.sinceMs) &&
            (q.untilMs === undefined || (e.time ?? 0) <= q.untilMs),
        )
        .slice(q.first ?? 0, (q.first ?? 0) + q.max);
    },
  } as unknown as ClientsGateway;
  return { gateway, calls };
}

/** `perDay` tokens on each of the last `days` days (today included, all before NOW). */
const tokens = (days: number, perDay: number): EventRepresentation[] =>
  Array.from({ length: days * perDay }, (_, n) => ({
    type: 'CLIENT_LOGIN',
    time: NOW - Math.floor(n / perDay) * DAY - 1000 - (n % perDay),
  })) as EventRepresentation[];

describe('usage cost', () => {
  it('a quiet client costs one call', async () => {
    const { gateway, calls } = stub(tokens(3, 2));
    const usage = createUsage(gateway, { now: () => new Date(NOW), cacheTtlMs: 0, pageSize: 100 });
    const answer = await usage.of('acme_x', 14);
    expect(answer.days.at(-1)).toEqual({ date: '2026-12-03', tokensIssued: 2, failedAuthentications: 0 });
    expect(answer.days.reduce((sum, day) => sum + day.tokensIssued, 0)).toBe(6);
    expect(calls).toHaveLength(1);
  });

  it('a busy client is read day by day once; then only today', async () => {
    const { gateway, calls } = stub(tokens(14, 30));
    const usage = createUsage(gateway, { now: () => new Date(NOW), cacheTtlMs: 0, pageSize: 50 });
    const first = await usage.of('acme_x', 14);
    expect(first.days.every((day) => day.tokensIssued === 30)).toBe(true);
    expect(first.truncated).toBe(false);
    expect(calls.length).toBe(1 + 14); // the whole range's page (full), then one page a day
    calls.length = 0;
    const again = await usage.of('acme_x', 14);
    expect(again).toEqual(first);
    // the whole range's page, then today's only: the 13 past days are kept
    const today = Date.parse('2026-12-03T00:00:00Z');
    expect(calls.map((call) => call.since)).toEqual([today - 13 * DAY, today]);
  });

  it('the cap keeps the newest events and says from when', async () => {
    const { gateway } = stub(tokens(5, 30));
    const usage = createUsage(gateway, {
      now: () => new Date(NOW),
      cacheTtlMs: 0,
      pageSize: 50,
      maxEvents: 70,
    });
    const answer = await usage.of('acme_x', 5);
    expect(answer.truncated).toBe(true);
    expect(answer.days.map((day) => day.tokensIssued)).toEqual([0, 0, 10, 30, 30]);
    expect(answer.countedFrom?.slice(0, 10)).toBe('2026-12-01');
  });
});
