// What is measured: each operation through the service and the same Keycloak admin calls made
// directly, in alternating slices (direct, service, service, direct, ...) so that a change of
// the machine's load during a run weighs on both sides alike.
import { type CallCount, countCalls, delta, scrapeKeycloakCalls } from './calls.js';
import { ACCOUNT_ATTRIBUTE, type AdminApi, serviceLikeRepresentation, type TokenSource } from './keycloak.js';
import {
  type CycleRaw,
  cannon,
  cycleLoop,
  http,
  type LoadControl,
  mergeCycles,
  mergeRaw,
  type Raw,
  summarise,
  summariseCycles,
  type TimeStep,
} from './load.js';
import type { BenchOptions } from './options.js';
import { mergeWindows, type Sampler, type WindowStats } from './proc.js';
import type { CallCountRow, PairedRun, ResourceRun } from './report.js';
import type { RunningService } from './service.js';

/** Accounts the benchmark itself uses (besides the seeded `bs-*` ones). */
export const PROBE = 'bench-probe';
export const CREATE_DELETE = 'bench-cd';
export const DIRECT = 'bench-direct';
export const CALL_COUNT = 'bench-cc';
/** The account of the usage client (bench/lib/activity.ts). */
export const USAGE = 'bench-usage';
export const BENCH_ACCOUNTS = [PROBE, CREATE_DELETE, DIRECT, CALL_COUNT, USAGE];
/** The API's largest per-account limit (LimitUpdate: maximum 10000). */
export const CREATE_DELETE_LIMIT = 10_000;
/** Upper bound of create + delete cycles per slice. */
const MAX_CYCLES = 5000;

/** What a create through the service sends in the create + delete runs (and its direct twin). */
export const CREATE_FIELDS = { capabilityTypes: ['Script' as const], scopes: ['datahub-api'] };

export interface Context {
  options: BenchOptions;
  signal: AbortSignal;
  control: LoadControl;
  service: RunningService;
  admin: AdminApi;
  serviceTokens: TokenSource;
  userTokens: TokenSource;
  serviceSampler: Sampler;
  keycloakSampler?: Sampler;
  /** The thin proxy (bench/anchor.ts) that gets and lists are also measured through, and its sampler. */
  anchor?: { url: string; sampler: Sampler };
  resources: ResourceRun[];
  runTag: string;
  log: (line: string) => void;
}

/** A probe client with every field the resource has. */
export function probeBody(n: number) {
  return {
    clientId: `${PROBE}_${n}`,
    displayName: `Benchmark probe ${n}`,
    description: 'Created by npm run bench through the service: every field set',
    rootUrl: 'https://probe.example.com',
    homeUrl: '/home',
    adminUrl: 'https://probe.example.com/admin',
    redirectUris: ['https://probe.example.com/callback', '/signin/*'],
    postLogoutRedirectUris: ['+'],
    webOrigins: ['+', 'https://other.example.com'],
    capabilityTypes: ['WebApp', 'Script'],
    backchannelLogout: {
      url: 'https://probe.example.com/logout',
      sessionRequired: true,
      revokeOfflineSessions: false,
    },
    scopes: ['datahub-api', 'push-data'],
    enabled: true,
  };
}

/** A request to the service as the platform admin `paula`. */
export async function asUser(ctx: Context, method: string, path: string, body?: unknown) {
  const token = await ctx.userTokens.get();
  return http(method, `${ctx.service.url}${path}`, { authorization: `Bearer ${token}` }, body, ctx.signal);
}

export async function expectStatus(
  answer: Promise<{ status: number; text: string }>,
  status: number,
  what: string,
): Promise<string> {
  const { status: got, text } = await answer;
  if (got !== status) throw new Error(`${what}: expected ${status}, got ${got} ${text.slice(0, 300)}`);
  return text;
}

/** Deletes every client of the benchmark's own accounts (leftovers of an interrupted run). */
export async function purgeBenchAccounts(admin: AdminApi): Promise<number> {
  let removed = 0;
  for (const accountId of BENCH_ACCOUNTS) {
    for (const client of await admin.accountClients(accountId)) {
      await admin.deleteClient(client.id);
      removed += 1;
    }
  }
  return removed;
}

/** The probe account: exactly 5 clients, created through the service. */
export async function createProbe(ctx: Context): Promise<void> {
  for (let n = 1; n <= 5; n++) {
    await expectStatus(
      asUser(ctx, 'POST', `/v1/accounts/${PROBE}/api-clients`, probeBody(n)),
      201,
      `create ${PROBE}_${n}`,
    );
  }
  const list = JSON.parse(
    await expectStatus(asUser(ctx, 'GET', `/v1/accounts/${PROBE}/api-clients`), 200, 'list probe'),
  ) as { total: number };
  if (list.total !== 5) throw new Error(`the probe account lists ${list.total} clients, not 5`);
}

type Who = 'direct' | 'anchor' | 'service';

interface Side<T> {
  result: T;
  service?: WindowStats;
  keycloak?: WindowStats;
  /** Keycloak admin calls the service made during its slices (service side only) */
  calls?: CallCount;
}

function addCalls(a: CallCount | undefined, b: CallCount | undefined): CallCount | undefined {
  if (!a || !b) return a ?? b;
  const byOperation = { ...a.byOperation };
  for (const [op, n] of Object.entries(b.byOperation)) byOperation[op] = (byOperation[op] ?? 0) + n;
  return { total: a.total + b.total, byOperation };
}

/**
 * Warm-up of every side, then `--slices` slices of `--duration / slices` seconds each, the order
 * of the sides reversed every other slice (D A S, S A D, ...), each slice framed by RSS/CPU
 * windows of the process that answered it (the service, or the thin proxy) and of Keycloak.
 */
async function alternate<T>(
  ctx: Context,
  label: string,
  who: Who[],
  run: (who: Who, seconds: number) => Promise<T>,
  merge: (a: T, b: T) => T,
): Promise<Partial<Record<Who, Side<T>>>> {
  const { options } = ctx;
  if (options.warmup > 0) for (const side of who) await run(side, options.warmup);
  ctx.log(`[bench] ${label}`);
  const slice = options.duration / options.slices;
  const sides: Partial<Record<Who, Side<T>>> = {};
  for (let i = 0; i < options.slices; i++) {
    const order = i % 2 === 0 ? who : [...who].reverse();
    for (const side of order) {
      const countersBefore =
        side === 'service' ? await scrapeKeycloakCalls(ctx.service.url, ctx.signal) : undefined;
      const sampler = side === 'anchor' && ctx.anchor ? ctx.anchor.sampler : ctx.serviceSampler;
      const s = sampler.begin();
      const k = ctx.keycloakSampler?.begin();
      const result = await run(side, slice);
      const next: Side<T> = { result, service: s.end(), keycloak: k?.end() };
      if (countersBefore)
        next.calls = delta(countersBefore, await scrapeKeycloakCalls(ctx.service.url, ctx.signal));
      const before = sides[side];
      sides[side] = before
        ? {
            result: merge(before.result, next.result),
            service: mergeWindows(before.service, next.service),
            keycloak: mergeWindows(before.keycloak, next.keycloak),
            calls: addCalls(before.calls, next.calls),
          }
        : next;
    }
  }
  return sides;
}

function recordResources(
  ctx: Context,
  run: string,
  realmSize: number,
  sides: Partial<Record<Who, Side<unknown>>>,
  ops: Partial<Record<Who, number>>,
): void {
  ctx.resources.push({
    run,
    realmSize,
    service: sides.service?.service,
    keycloak: sides.service?.keycloak,
    keycloakDuringDirect: sides.direct?.keycloak,
    serviceOps: ops.service ?? 0,
    directOps: ops.direct ?? 0,
    serviceCalls: sides.service?.calls,
    ...(sides.anchor
      ? {
          anchor: sides.anchor.service,
          keycloakDuringAnchor: sides.anchor.keycloak,
          anchorOps: ops.anchor ?? 0,
        }
      : {}),
  });
}

/** GET through the service, through the thin proxy (when it runs) and straight to Keycloak. */
export async function pairedGets(
  ctx: Context,
  operation: string,
  realmSize: number,
  servicePath: string,
  directPath: string,
  directCalls: string,
): Promise<PairedRun> {
  const validity = ctx.options.duration * 1000 + 60_000;
  const target = async (who: Who) => {
    if (who === 'direct')
      return {
        url: `${ctx.admin.base}${directPath}`,
        headers: { authorization: `Bearer ${await ctx.serviceTokens.get(validity)}` },
      };
    const base = who === 'anchor' && ctx.anchor ? ctx.anchor.url : ctx.service.url;
    return {
      url: `${base}${servicePath}`,
      headers: { authorization: `Bearer ${await ctx.userTokens.get(validity)}` },
    };
  };
  const sides = await alternate<Raw>(
    ctx,
    `${operation} @ ${realmSize}`,
    ctx.anchor ? ['direct', 'anchor', 'service'] : ['direct', 'service'],
    async (who, seconds) => cannon(ctx.control, await target(who), ctx.options.connections, seconds),
    mergeRaw,
  );
  const service = sides.service as Side<Raw>;
  const direct = sides.direct as Side<Raw>;
  recordResources(ctx, operation, realmSize, sides, {
    service: service.result.latencies.length,
    direct: direct.result.latencies.length,
    anchor: sides.anchor?.result.latencies.length,
  });
  return {
    operation,
    realmSize,
    service: summarise(service.result),
    direct: summarise(direct.result),
    ...(sides.anchor ? { anchor: summarise(sides.anchor.result) } : {}),
    directCalls,
  };
}

/** Create + delete through the service: one account with a high limit, unique clientIds. */
function serviceCycle(ctx: Context, seq: () => string) {
  return async (time: TimeStep) => {
    const clientId = `${CREATE_DELETE}_${ctx.runTag}-${seq()}`;
    const auth = { authorization: `Bearer ${await ctx.userTokens.get()}` };
    const base = `${ctx.service.url}/v1/accounts/${CREATE_DELETE}/api-clients`;
    const created = await time('create', 201, async () => {
      const answer = await http('POST', base, auth, { clientId, ...CREATE_FIELDS }, ctx.signal);
      return { status: answer.status, value: undefined };
    });
    if (!created.ok) return;
    await time('delete', 204, async () => {
      const answer = await http(
        'DELETE',
        `${base}/${encodeURIComponent(clientId)}`,
        auth,
        undefined,
        ctx.signal,
      );
      return { status: answer.status, value: undefined };
    });
  };
}

/** The same through Keycloak's admin API: POST the service's representation, GET its secret, DELETE. */
function directCycle(
  ctx: Context,
  seq: () => string,
  scopeLists: { defaults: string[]; optional: string[] },
) {
  return async (time: TimeStep) => {
    const clientId = `${DIRECT}_${ctx.runTag}-${seq()}`;
    const auth = { authorization: `Bearer ${await ctx.serviceTokens.get()}` };
    const rep = serviceLikeRepresentation(clientId, DIRECT, CREATE_FIELDS, scopeLists);
    const created = await time('create', 201, async () => {
      const answer = await http('POST', `${ctx.admin.base}/clients`, auth, rep, ctx.signal);
      const id = answer.headers.get('location')?.split('/').pop() ?? '';
      if (answer.status !== 201) return { status: answer.status, value: id };
      const secret = await http(
        'GET',
        `${ctx.admin.base}/clients/${id}/client-secret`,
        auth,
        undefined,
        ctx.signal,
      );
      return { status: secret.status === 200 ? 201 : secret.status, value: id };
    });
    if (!created.ok) return;
    await time('delete', 204, async () => {
      const answer = await http(
        'DELETE',
        `${ctx.admin.base}/clients/${created.value}`,
        auth,
        undefined,
        ctx.signal,
      );
      return { status: answer.status, value: undefined };
    });
  };
}

/** Create + delete cycles with `connections` workers, through the service and directly. */
export async function createDelete(
  ctx: Context,
  realmSize: number,
  connections: number,
  scopeLists: { defaults: string[]; optional: string[] },
): Promise<PairedRun[]> {
  // clientIds unique within the run: {account}_{runTag}-{size}-{connections}-{n}
  let n = 0;
  const seq = () => {
    n += 1;
    return `${realmSize}-${connections}-${n}`;
  };
  const cycles: Record<'direct' | 'service', (time: TimeStep) => Promise<void>> = {
    service: serviceCycle(ctx, seq),
    direct: directCycle(ctx, seq, scopeLists),
  };
  const label = connections === 1 ? '1 connection' : `${connections} connections, one account`;
  const sides = await alternate<CycleRaw>(
    ctx,
    `create + delete (${label}) @ ${realmSize}`,
    ['direct', 'service'],
    (who, seconds) =>
      cycleLoop(
        ctx.control,
        connections,
        seconds,
        MAX_CYCLES,
        cycles[who === 'direct' ? 'direct' : 'service'],
      ),
    mergeCycles,
  );
  const serviceSide = sides.service as Side<CycleRaw>;
  const directSide = sides.direct as Side<CycleRaw>;
  recordResources(ctx, `create + delete (${label})`, realmSize, sides, {
    service: serviceSide.result.cycles,
    direct: directSide.result.cycles,
  });
  const service = summariseCycles(serviceSide.result);
  const direct = summariseCycles(directSide.result);
  const none = summarise({ latencies: [], seconds: 0, failures: 0, statuses: {} });
  return [
    {
      operation: `create (${label})`,
      realmSize,
      service: service.steps.create ?? none,
      direct: direct.steps.create ?? none,
      directCalls: 'POST /clients + GET client-secret',
    },
    {
      operation: `delete (${label})`,
      realmSize,
      service: service.steps.delete ?? none,
      direct: direct.steps.delete ?? none,
      directCalls: 'DELETE /clients/{id}',
    },
  ];
}

/** get, list, create, regenerate, delete through the service, one at a time. */
export function readScenarios(ctx: Context, realmSize: number) {
  return {
    get: () =>
      pairedGets(
        ctx,
        'get one client',
        realmSize,
        `/v1/accounts/${PROBE}/api-clients/${PROBE}_1`,
        `/clients?clientId=${encodeURIComponent(`${PROBE}_1`)}&first=0&max=1`,
        'GET /clients?clientId=',
      ),
    list: () =>
      pairedGets(
        ctx,
        'list account (5 clients)',
        realmSize,
        `/v1/accounts/${PROBE}/api-clients`,
        `/clients?q=${encodeURIComponent(`${ACCOUNT_ATTRIBUTE}:${PROBE}`)}`,
        'GET /clients?q=',
      ),
  };
}

/** Keycloak admin calls of one service operation of each kind, on a warm service. */
export async function callCounts(ctx: Context): Promise<CallCountRow[]> {
  const base = `/v1/accounts/${CALL_COUNT}/api-clients`;
  const warmId = `${CALL_COUNT}_${ctx.runTag}-warm`;
  const clientId = `${CALL_COUNT}_${ctx.runTag}-count`;
  const body = (id: string) => ({ clientId: id, ...CREATE_FIELDS });
  // warm the service's caches (catalogue, realm default scopes, its own client's id) first
  await expectStatus(asUser(ctx, 'POST', base, body(warmId)), 201, 'create (warm-up)');
  const count = (run: () => Promise<unknown>) =>
    countCalls(ctx.service.url, ctx.signal, async () => {
      await run();
    });
  const created = await count(() => expectStatus(asUser(ctx, 'POST', base, body(clientId)), 201, 'create'));
  // a get and a list each once before they are counted: warm means the replica read them within
  // the role scope's TTL (10 s), as under load
  await expectStatus(asUser(ctx, 'GET', `${base}/${clientId}`), 200, 'get (warm-up)');
  const got = await count(() => expectStatus(asUser(ctx, 'GET', `${base}/${clientId}`), 200, 'get'));
  await expectStatus(asUser(ctx, 'GET', `/v1/accounts/${PROBE}/api-clients`), 200, 'list (warm-up)');
  let listed = 0;
  const list = await count(async () => {
    const text = await expectStatus(asUser(ctx, 'GET', `/v1/accounts/${PROBE}/api-clients`), 200, 'list');
    listed = (JSON.parse(text) as { items: unknown[] }).items.length;
  });
  const regenerated = await count(() =>
    expectStatus(asUser(ctx, 'POST', `${base}/${clientId}/secret`), 200, 'regenerate secret'),
  );
  const deleted = await count(() =>
    expectStatus(asUser(ctx, 'DELETE', `${base}/${clientId}`), 204, 'delete'),
  );
  await expectStatus(asUser(ctx, 'DELETE', `${base}/${warmId}`), 204, 'delete (warm-up)');
  const row = (operation: string, c: CallCount, target: number, targetText: string): CallCountRow => ({
    operation,
    count: c,
    target,
    targetText,
  });
  return [
    row('get', got, 1, '≤ 1 (as direct)'),
    row(`list (${listed} clients)`, list, 1, '≤ 1 (as direct)'),
    row('create', created, 3, '≤ 3'),
    // regenerate's record of who did it rides on the write of the new secret's expiry; a delete
    // makes one more write for it (src/api-clients/activity/history.ts)
    row('regenerate secret', regenerated, 2, '≤ 2'),
    row('delete', deleted, 3, '≤ 3'),
  ];
}
