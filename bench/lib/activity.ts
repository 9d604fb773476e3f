// What usage and history cost (docs/activity.md, docs/performance.md): one client of the account
// bench-usage gets `--usage-events` real client-credentials tokens (each writes one CLIENT_LOGIN
// event; a key used every minute writes 20,160 in two weeks), at most USAGE_IN_FLIGHT at a time on
// loopback; then a usage request is measured cold (a range no earlier request asked for: the
// replica's cache misses) and warm (the same range again), with the Keycloak calls it made, and one
// page of 1,000 events read straight from Keycloak for comparison. The account's history is
// measured the same way (it reads the realm's client events, bounded).
import { type CallCount, countCalls } from './calls.js';
import { realm } from './keycloak.js';
import { asUser, type Context, expectStatus, USAGE as USAGE_ACCOUNT } from './scenarios.js';

const USAGE_IN_FLIGHT = 4;

export interface ActivityRow {
  operation: string;
  calls: CallCount;
  ms: number;
  note: string;
}

export interface ActivityRun {
  events: number;
  seedSeconds: number;
  rows: ActivityRow[];
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

export async function measureActivity(
  ctx: Context,
  keycloakUrl: string,
  events: number,
): Promise<ActivityRun> {
  const base = `/v1/accounts/${USAGE_ACCOUNT}/api-clients`;
  const clientId = `${USAGE_ACCOUNT}_${ctx.runTag}`;
  const created = JSON.parse(
    await expectStatus(
      asUser(ctx, 'POST', base, { clientId, capabilityTypes: ['Script'] }),
      201,
      'usage client',
    ),
  ) as { secret: string };

  // Seed: real token requests, a bounded number in flight.
  const tokenUrl = `${keycloakUrl}/realms/${realm}/protocol/openid-connect/token`;
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: created.secret,
  });
  let sent = 0;
  const seedStart = performance.now();
  await Promise.all(
    Array.from({ length: USAGE_IN_FLIGHT }, async () => {
      while (sent < events) {
        ctx.signal.throwIfAborted();
        const n = ++sent;
        const answer = await fetch(tokenUrl, { method: 'POST', body: form, signal: ctx.signal });
        await answer.arrayBuffer();
        if (answer.status !== 200) throw new Error(`token request: ${answer.status}`);
        if (n % 5000 === 0) ctx.log(`[bench] usage: ${n} tokens`);
      }
    }),
  );
  const seedSeconds = (performance.now() - seedStart) / 1000;

  const rows: ActivityRow[] = [];
  const measure = async (operation: string, path: string, note: (body: string) => string) => {
    let text = '';
    const { value: calls, ms } = await timed(() =>
      countCalls(ctx.service.url, ctx.signal, async () => {
        text = await expectStatus(asUser(ctx, 'GET', path), 200, operation);
      }),
    );
    rows.push({ operation, calls, ms, note: note(text) });
  };
  const usageNote = (text: string) => {
    const usage = JSON.parse(text) as {
      days: { tokensIssued: number }[];
      truncated: boolean;
      countedUpTo: number;
    };
    const counted = usage.days.reduce((sum, day) => sum + day.tokensIssued, 0);
    return `${counted} tokens counted${usage.truncated ? `, truncated at ${usage.countedUpTo}` : ''}`;
  };
  // cold: three ranges no request asked for before; warm: the first one again
  for (const days of [14, 13, 12])
    await measure(`usage ?days=${days} (cold)`, `${base}/${clientId}/usage?days=${days}`, usageNote);
  await measure('usage ?days=14 (warm)', `${base}/${clientId}/usage?days=14`, usageNote);

  // one page of 1,000 events straight from Keycloak
  const token = await ctx.serviceTokens.get();
  const page = await timed(async () => {
    const answer = await fetch(
      `${keycloakUrl}/admin/realms/${realm}/events?client=${clientId}&type=CLIENT_LOGIN&first=0&max=1000`,
      { headers: { authorization: `Bearer ${token}` }, signal: ctx.signal },
    );
    return ((await answer.json()) as unknown[]).length;
  });
  rows.push({
    operation: 'Keycloak direct: one page of events (max=1000)',
    calls: { total: 1, byOperation: {} },
    ms: page.ms,
    note: `${page.value} events`,
  });

  const historyNote = (text: string) => {
    const page = JSON.parse(text) as { items: unknown[]; truncated: boolean };
    return `${page.items.length} rows${page.truncated ? ', truncated' : ''}`;
  };
  await measure('client history', `${base}/${clientId}/history`, historyNote);
  await measure('account history', `/v1/accounts/${USAGE_ACCOUNT}/history`, historyNote);

  await expectStatus(asUser(ctx, 'DELETE', `${base}/${clientId}`), 204, 'usage client (delete)');
  return { events, seedSeconds, rows };
}

export function activityTable(run: ActivityRun): string {
  const lines = [
    `Seeded ${run.events.toLocaleString('en-US')} client-credentials tokens in ${run.seedSeconds.toFixed(0)} s (${USAGE_IN_FLIGHT} in flight, ${(run.events / run.seedSeconds).toFixed(0)}/s).`,
    '',
    '| operation | Keycloak calls | time | answer |',
    '|---|---:|---:|---|',
    ...run.rows.map(
      (row) =>
        `| ${row.operation} | ${row.calls.total}${
          Object.keys(row.calls.byOperation).length
            ? ` (${Object.entries(row.calls.byOperation)
                .map(([op, n]) => `${op} ${n}`)
                .join(', ')})`
            : ''
        } | ${row.ms.toFixed(0)} ms | ${row.note} |`,
    ),
  ];
  return lines.join('\n');
}
