// Traces: the service started as a process (the OpenTelemetry SDK is process-global) with the
// standard OTEL_* variables pointing at a collector in this test (an OTLP/HTTP receiver, JSON), and
// Keycloak reached through a proxy that notes the traceparent header. A create against the real
// Keycloak must give one trace: the request span, one span per Keycloak call below it, the HTTP
// exchanges below those, and no secret or token in any attribute. Then the same against a Keycloak
// of the test's own with its tracing on: Keycloak's spans land in that trace, under the service's.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  checkPrerequisites,
  freePort,
  projectRoot,
  type RunningKeycloak,
  startLocalKeycloak,
} from '../scripts/lib/keycloak-local.js';
import { redactedUrl, tracingRequested } from '../src/tracing.js';
import { killGroup, type Started, startProcess } from './scripts/support.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import { scriptClient } from './support/fixtures.js';
import { keycloakUrl, requestToken, serviceClient, userToken } from './support/keycloak.js';
import { type Collector, drawTree, startCollector } from './support/otlp-collector.js';

/** The service as a process (src/main.ts under tsx), sending its spans to `collector` in JSON. */
async function startService(
  keycloak: { url: string; publicUrl: string },
  collector: Collector,
): Promise<{ started: Started; base: string }> {
  const port = await freePort();
  const started = startProcess(['--import', 'tsx', 'src/main.ts'], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      KEYCLOAK_URL: keycloak.url,
      // callers' tokens carry the real Keycloak's issuer
      KEYCLOAK_PUBLIC_URL: keycloak.publicUrl,
      KEYCLOAK_CLIENT_SECRET: serviceClient.secret,
      API_CLIENTS_DEV_MODE: 'true',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      // a start under tsx on a busy machine lags the event loop: no load shedding here
      LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // export each batch at once instead of after 5 s
      OTEL_BSP_SCHEDULE_DELAY: '50',
    },
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForHealth(`${base}/healthz`, started);
  return { started, base };
}

async function create(base: string, token: string, clientId: string): Promise<{ secret: string }> {
  const response = await fetch(`${base}/v1/accounts/acme/api-clients?note=abc`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(scriptClient(clientId)),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as { secret: string };
}

describe('tracingRequested', () => {
  it.each([
    [{}, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }, true],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
    [{ OTEL_TRACES_EXPORTER: 'console' }, true],
    [{ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, false],
    [{ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, false],
    [{ OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }, false],
  ] as Array<[NodeJS.ProcessEnv, boolean]>)('%o → %s', (env, wanted) => {
    expect(tracingRequested(env)).toBe(wanted);
  });
});

describe('redactedUrl', () => {
  it('keeps the query names, not their values, and drops credentials', () => {
    expect(redactedUrl(new URL('http://u:p@kc:8080/admin/clients?q=a:b&max=1'))).toEqual({
      full: 'http://kc:8080/admin/clients?q=REDACTED&max=REDACTED',
      query: '?q=REDACTED&max=REDACTED',
    });
    expect(redactedUrl(new URL('http://kc/realms/x')).full).toBe('http://kc/realms/x');
  });
});

describe('traces of the service (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  let collector: Collector;
  let proxy: FaultProxy;
  let service: Started | undefined;
  let base: string;
  const createdIds: string[] = [];

  beforeAll(async () => {
    collector = await startCollector();
    proxy = await startFaultProxy(keycloakUrl(), { recordHeaders: ['traceparent', 'authorization'] });
    ({ started: service, base } = await startService(
      { url: proxy.url, publicUrl: keycloakUrl() },
      collector,
    ));
  }, 60_000);

  afterAll(async () => {
    const token = await userToken('alice');
    for (const clientId of createdIds) {
      await fetch(`${base}/v1/accounts/acme/api-clients/${clientId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
    }
    killGroup(service?.pid);
    await proxy?.close();
    await collector?.close();
  });

  it('gives a create one trace: the request, one span per Keycloak call, no secret anywhere', async () => {
    const token = await userToken('alice');
    const clientId = `acme_trace-${Date.now().toString(36)}`;
    proxy.reset();
    const { secret } = await create(base, token, clientId);
    createdIds.push(clientId);
    expect(secret).toBeTruthy();

    const root = await waitFor(() => collector.spans.find((span) => span.name === 'createApiClient'));
    const trace = collector.spans.filter((span) => span.traceId === root.traceId);
    console.log(`[tracing] one create, ${trace.length} spans:\n${drawTree(trace, root).join('\n')}`);

    expect(root.parentSpanId).toBe('');
    expect(root.service).toBe('api-clients-service');
    expect(root.attributes).toMatchObject({
      'api_clients.account_id': 'acme',
      'api_clients.client_id': clientId,
      'http.request.method': 'POST',
      'http.route': '/v1/accounts/:accountId/api-clients',
      'url.path': '/v1/accounts/acme/api-clients',
      'http.response.status_code': 201,
    });

    // one span per Keycloak call, each with the HTTP exchange(s) it made below it
    const keycloakSpans = trace.filter((span) => span.name.startsWith('keycloak '));
    const names = keycloakSpans.map((span) => span.name);
    expect(names).toContain('keycloak clients.create');
    for (const span of keycloakSpans) {
      expect(span.attributes['keycloak.operation']).toBe(span.name.slice('keycloak '.length));
      const exchanges = trace.filter((child) => child.parentSpanId === span.spanId);
      expect(exchanges.length, span.name).toBeGreaterThanOrEqual(1);
      for (const exchange of exchanges)
        expect(exchange.attributes['server.port']).toBe(Number(new URL(proxy.url).port));
    }
    // every admin call Keycloak received is an exchange below a Keycloak call's span of this trace
    const calls = proxy.requests.filter((request) => request.path.startsWith('/admin/'));
    const adminExchanges = trace.filter(
      (span) =>
        keycloakSpans.some((call) => call.spanId === span.parentSpanId) &&
        String(span.attributes['url.path']).startsWith('/admin/'),
    );
    expect(adminExchanges.length).toBe(calls.length);
    const orphans = collector.spans.filter(
      (span) => span.name.startsWith('keycloak ') && span.traceId !== root.traceId,
    );
    expect(orphans.map((span) => span.name)).toEqual([]);

    // Keycloak got the trace's context: every admin call carried a traceparent of this trace
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls)
      expect(call.headers?.traceparent, call.path).toMatch(
        new RegExp(`^00-${root.traceId}-[0-9a-f]{16}-0[01]$`),
      );

    // no secret and no token in any attribute, nor anywhere in what was exported
    const bearerTokens = proxy.requests
      .map((request) => request.headers?.authorization?.replace(/^Bearer /, ''))
      .filter((value): value is string => Boolean(value));
    expect(bearerTokens.length).toBeGreaterThan(0);
    const exported = collector.bodies.join('\n');
    for (const [what, value] of [
      ['the created client secret', secret],
      ["the caller's bearer token", token],
      ["the service's client secret", serviceClient.secret],
      ...bearerTokens.map((value) => ["the service's own access token", value]),
    ] as Array<[string, string]>) {
      expect(exported.includes(value), `${what} in an exported span`).toBe(false);
    }
    for (const span of trace) {
      for (const [key, value] of Object.entries(span.attributes)) {
        expect(String(value), `${span.name} ${key}`).not.toMatch(
          /client_secret|bearer|eyJ[A-Za-z0-9_-]{10,}/i,
        );
      }
    }
    // the query string's values are not recorded
    expect(exported).not.toContain('note=abc');
  });
});

// Keycloak's tracing is a build-time option: this starts a Keycloak of its own, from a distribution
// built with tracing-enabled=true (prepared once, cached beside the others), sending its spans
// (protobuf) to the same collector. Not on PostgreSQL: the same Keycloak code, twice the wait.
describe.skipIf(inject('keycloakDb') === 'postgres' || !canRunLocalKeycloak())(
  "Keycloak's own spans join the service's trace",
  () => {
    let collector: Collector;
    let keycloak: RunningKeycloak | undefined;
    let service: Started | undefined;
    let base: string;

    beforeAll(async () => {
      collector = await startCollector();
      keycloak = await startLocalKeycloak({ tracingEndpoint: collector.url, timeoutMs: 480_000 });
      ({ started: service, base } = await startService(
        { url: keycloak.url, publicUrl: keycloak.url },
        collector,
      ));
    }, 600_000);

    afterAll(async () => {
      killGroup(service?.pid);
      await keycloak?.stop();
      await collector?.close();
    });

    it("has Keycloak spans under the service's calls to it, in the same trace", async () => {
      const answer = await requestToken(
        { grant_type: 'password', client_id: 'api-clients-cli', username: 'alice', password: 'alice' },
        keycloak?.url,
      );
      const token = answer.body.access_token ?? '';
      const { secret } = await create(base, token, `acme_trace-kc-${Date.now().toString(36)}`);

      const root = await waitFor(() => collector.spans.find((span) => span.name === 'createApiClient'));
      const serviceSpanIds = new Set(
        collector.spans
          .filter((span) => span.traceId === root.traceId && span.service === 'api-clients-service')
          .map((span) => span.spanId),
      );
      // Keycloak exports in batches of its own: wait until its spans of this trace are in
      const keycloakSpans = await waitFor(() => {
        const found = collector.spans.filter(
          (span) => span.traceId === root.traceId && span.service === 'keycloak',
        );
        return found.some((span) => serviceSpanIds.has(span.parentSpanId)) ? found : undefined;
      }, 60_000);
      // Keycloak exports a span when it ends, in batches: a child can arrive a batch before its
      // parent (the HTTP server span ends last). Wait (bounded) until the parents of the spans
      // found are in too, then judge: a span whose parent never comes fails below.
      const traceNow = () => collector.spans.filter((span) => span.traceId === root.traceId);
      await waitFor(() => {
        const ids = new Set(traceNow().map((span) => span.spanId));
        return keycloakSpans.every((span) => ids.has(span.parentSpanId)) ? true : undefined;
      }, 30_000).catch(() => undefined);
      const trace = traceNow();
      console.log(
        `[tracing] one create with Keycloak's tracing on, ${trace.length} spans:\n${drawTree(trace, root).join('\n')}`,
      );

      // every Keycloak span of the trace hangs under a service span or another Keycloak span
      const ids = new Set(trace.map((span) => span.spanId));
      for (const span of keycloakSpans) expect(ids.has(span.parentSpanId), span.name).toBe(true);
      // the created client's secret and the caller's token are in none of Keycloak's spans either
      const exported = collector.bodies.join('\n');
      expect(exported.includes(secret), 'the created secret in an exported span').toBe(false);
      expect(exported.includes(token), "the caller's token in an exported span").toBe(false);
    });
  },
);

/** Java (and Maven while the distribution is missing) are here: a Keycloak of the test's own can start. */
function canRunLocalKeycloak(): boolean {
  try {
    checkPrerequisites();
    return true;
  } catch {
    return false;
  }
}

async function waitForHealth(url: string, started: Started): Promise<void> {
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (started.child.exitCode !== null) break;
    await sleep(200);
  }
  throw new Error(`the service did not answer ${url}:\n${started.output()}`);
}

async function waitFor<T>(find: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('not collected in time');
    await sleep(50);
  }
}
