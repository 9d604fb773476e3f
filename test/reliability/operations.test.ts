// SPEC §6 operations: readiness follows Keycloak, Prometheus metrics, graceful shutdown of the
// real server process on SIGTERM, and load shedding when the event loop lags.
import { type ChildProcess, spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, projectRoot } from '../../scripts/lib/keycloak-local.js';
import { clientsUrl, startTestApp, uniqueAccount } from '../support/app.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { scriptClient } from '../support/fixtures.js';
import { keycloakUrl, serviceClient, userToken } from '../support/keycloak.js';
import {
  expectKeycloakUnavailable,
  metricValue,
  type ProxiedApp,
  paths,
  startProxiedApp,
  waitFor,
} from './support.js';

let token: string;
beforeAll(async () => {
  token = await userToken('paula');
});

describe('readiness and metrics', () => {
  let env: ProxiedApp;
  beforeAll(async () => {
    env = await startProxiedApp({ timeoutMs: 1000 });
  });
  afterAll(() => env?.close());

  it('/readyz follows Keycloak: 200, 503 while it is down, 200 again', async () => {
    expect((await env.t.call('GET', '/readyz')).status).toBe(200);
    env.proxy.setDown(true);
    try {
      // a result answers for up to a second: the outage shows within about that
      await waitFor(async () => (await env.t.call('GET', '/readyz')).status === 503, {
        timeoutMs: 5000,
        what: '/readyz 503 while down',
      });
      const down = await env.t.call('GET', '/readyz');
      expectKeycloakUnavailable(down, '/readyz while down');
      // liveness does not depend on Keycloak
      expect((await env.t.call('GET', '/healthz')).status).toBe(200);
    } finally {
      env.proxy.setDown(false);
    }
    await waitFor(async () => (await env.t.call('GET', '/readyz')).status === 200, {
      timeoutMs: 5000,
      what: '/readyz 200 again',
    });
  });

  it('/readyz asked 50 times in a second costs Keycloak at most 2 calls', async () => {
    await sleep(1100); // no result kept from the test before
    env.proxy.requests.length = 0;
    const started = Date.now();
    const answers: number[] = [];
    while (answers.length < 50) {
      // 5 at once, 10 rounds over about a second
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 5 }, async () => (await env.t.call('GET', '/readyz')).status),
        )),
      );
      await sleep(90);
    }
    expect(Date.now() - started).toBeLessThan(2000);
    expect(answers.every((status) => status === 200)).toBe(true);
    // the readiness check is one GET …/clients; nothing else runs meanwhile
    const readinessCalls = env.proxy.requests.filter((r) => r.method === 'GET' && paths.clients.test(r.path));
    expect(readinessCalls.length).toBeGreaterThanOrEqual(1);
    expect(readinessCalls.length).toBeLessThanOrEqual(2);
  });

  it('GET /metrics exposes request, Keycloak-call and token-renewal metrics', async () => {
    const account = uniqueAccount('met');
    const created = await env.t.call('POST', clientsUrl(account), {
      token,
      body: scriptClient(`${account}_m`),
    });
    expect(created.status).toBe(201);
    expect((await env.t.call('GET', clientsUrl(account), { token })).status).toBe(200);
    expect((await env.t.call('GET', `/v1/accounts/${account}/nope`, { token })).status).toBe(404);

    const answer = await env.t.call('GET', '/metrics');
    expect(answer.status).toBe(200);
    expect(String(answer.headers['content-type'])).toMatch(/^text\/plain/);
    const text = String(answer.body);

    const listRoute = { method: 'GET', route: '/v1/accounts/:accountId/api-clients', status: '200' };
    const createRoute = { method: 'POST', route: '/v1/accounts/:accountId/api-clients', status: '201' };
    expect(metricValue(text, 'http_requests_total', listRoute)).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'http_requests_total', createRoute)).toBeGreaterThanOrEqual(1);
    // the route template, never the raw URL (bounded label values)
    expect(text).not.toContain(account);
    expect(metricValue(text, 'http_request_duration_seconds_count', listRoute)).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'http_request_duration_seconds_bucket', { ...listRoute, le: '+Inf' })).toBe(
      metricValue(text, 'http_request_duration_seconds_count', listRoute),
    );

    for (const operation of [
      'clients.list-by-account',
      'clients.create',
      'clients.get-secret',
      'lock.acquire',
    ]) {
      expect(
        metricValue(text, 'keycloak_requests_total', { operation, outcome: 'ok' }),
        operation,
      ).toBeGreaterThanOrEqual(1);
      expect(
        metricValue(text, 'keycloak_request_duration_seconds_count', { operation, outcome: 'ok' }),
        operation,
      ).toBeGreaterThanOrEqual(1);
      expect(text).toMatch(
        new RegExp(
          `keycloak_request_duration_seconds_bucket\\{[^}]*operation="${operation.replace('.', '\\.')}"`,
        ),
      );
    }
    // the readiness calls failed while Keycloak was down, in the test before
    expect(
      metricValue(text, 'keycloak_requests_total', { operation: 'readiness', outcome: 'unavailable' }),
    ).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'keycloak_token_renewals_total', { outcome: 'success' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(text).toMatch(/^# TYPE keycloak_token_renewals_total counter$/m);
  });
});

/** One HTTP request on a connection of its own; answers status and parsed body. */
function httpCall(
  port: number,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = options.body !== undefined ? JSON.stringify(options.body) : undefined;
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
        timeout: 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Opens a TCP connection and answers 'connected' or the error code (e.g. ECONNREFUSED). */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('graceful shutdown of the server process', () => {
  let child: ChildProcess | undefined;
  const output: string[] = [];

  afterAll(() => {
    // only the process this test started, by its own handle
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('SIGTERM: the in-flight request completes normally, new connections are refused, exit 0', async () => {
    const proxy = await startFaultProxy(keycloakUrl());
    try {
      const port = await freePort();
      child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: projectRoot,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          KEYCLOAK_URL: proxy.url,
          KEYCLOAK_CLIENT_SECRET: serviceClient.secret,
          API_CLIENTS_DEV_MODE: 'true',
          // as in testConfig: on a busy CI machine a compile pause of tsx would shed the held request
          LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
          KEYCLOAK_PUBLIC_URL: keycloakUrl(),
          PORT: String(port),
          // /metrics' own listener on a free port: parallel runs must not meet on 9464
          METRICS_PORT: '0',
          HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const running = child;
      running.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      running.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
        running.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
      );

      const startedAt = performance.now();
      await waitFor(
        async () => (await httpCall(port, 'GET', '/healthz').catch(() => ({ status: 0 }))).status === 200,
        {
          timeoutMs: 30_000,
          everyMs: 100,
          what: `server on port ${port} (output: ${output.join('')})`,
        },
      );
      console.log(`[shutdown] server process ready in ${Math.round(performance.now() - startedAt)} ms`);

      // warm it up (JWKS, own token, catalogue) and give the account one client to list
      const account = uniqueAccount('sig');
      const created = await httpCall(port, 'POST', clientsUrl(account), {
        token,
        body: scriptClient(`${account}_s`),
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);

      // the list's Keycloak call is held 1.5 s by the proxy: the request is in flight meanwhile
      proxy.requests.length = 0;
      const rule = proxy.failNext({ method: 'GET', path: paths.clients, mode: 'delay', delayMs: 1500 });
      let inFlightDone = false;
      const inFlight = httpCall(port, 'GET', clientsUrl(account), { token }).finally(() => {
        inFlightDone = true;
      });
      await waitFor(() => rule.hits === 1, {
        timeoutMs: 5000,
        everyMs: 5,
        what: 'the delayed Keycloak call',
      });

      const sigtermAt = performance.now();
      expect(running.kill('SIGTERM')).toBe(true);
      await sleep(250);
      const newConnection = await tryConnect(port);
      const stillInFlight = !inFlightDone;

      const answer = await inFlight;
      const exit = await Promise.race([exited, sleep(8000).then(() => undefined)]);
      const shutdownMs = exit ? Math.round(exit.at - sigtermAt) : undefined;
      console.log(
        `[shutdown] SIGTERM → exit in ${shutdownMs ?? '> 8000'} ms (code ${exit?.code}, signal ${exit?.signal});`,
        `new connection 250 ms after SIGTERM: ${newConnection}; in-flight answer ${answer.status}`,
      );
      if (output.length > 0) console.log(`[shutdown] server output: ${output.join('').slice(0, 2000)}`);

      expect(stillInFlight, 'the connection check ran while the request was in flight').toBe(true);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        items: [{ clientId: `${account}_s` }],
        total: 1,
        limit: { max: 5, used: 1 },
      });
      expect(newConnection).toBe('ECONNREFUSED');
      expect(exit, 'the process exited within 8 s').toBeDefined();
      expect(exit?.code).toBe(0);
      expect(shutdownMs).toBeLessThan(5000);
    } finally {
      await proxy.close();
    }
  });
});

describe('load shedding', () => {
  it('answers 503 overloaded with Retry-After while the event loop lags, and serves again after', async () => {
    const t = await startTestApp({ loadShedding: { maxEventLoopDelayMs: 50 } });
    const pressure = () =>
      (t.app as unknown as { memoryUsage(): { heapUsed: number; eventLoopDelay: number } }).memoryUsage();
    try {
      await waitFor(async () => (await t.call('GET', '/v1/scopes', { token })).status === 200, {
        timeoutMs: 5000,
        what: 'a first healthy answer',
      });
      // under-pressure samples once a second, as the mean delay since its last sample: start the
      // block right after a sample (the heap figure it keeps changes at each one), so that the
      // block dominates the next sample
      const sampled = pressure().heapUsed;
      await waitFor(() => pressure().heapUsed !== sampled, { timeoutMs: 3000, everyMs: 2, what: 'a sample' });
      const blockedUntil = Date.now() + 1500;
      while (Date.now() < blockedUntil) {
        // busy: the event loop is blocked
      }
      await sleep(30); // let the overdue sample run

      const shed = await t.call<{ type?: string; status?: number }>('GET', '/v1/scopes', { token });
      const health = await t.call('GET', '/healthz');
      console.log(
        `[shedding] measured event-loop delay ${Math.round(pressure().eventLoopDelay)} ms;`,
        `/v1/scopes → ${shed.status}, /healthz → ${health.status}`,
      );
      expect(shed.status).toBe(503);
      expect(String(shed.headers['content-type'])).toMatch(/^application\/problem\+json/);
      expect(shed.headers['retry-after']).toMatch(/^\d+$/);
      expect(shed.body.type).toBe('urn:api-clients:problem:overloaded');
      // only the API is shed: liveness stays observable
      expect(health.status).toBe(200);

      const recoveredIn = await waitFor(
        async () => (await t.call('GET', '/v1/scopes', { token })).status === 200,
        {
          timeoutMs: 5000,
          everyMs: 100,
          what: 'serving again after the lag',
        },
      );
      console.log(`[shedding] serving again ${recoveredIn} ms after the first shed answer`);
    } finally {
      await t.close();
    }
  });
});
