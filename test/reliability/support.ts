// Helpers shared by the reliability tests: the service built against a fault proxy in front of
// the run's real Keycloak, direct looks at Keycloak (never through the proxy), problem checks.

import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import {
  createServiceClientRoles,
  type ServiceClientRoles,
} from '../../src/api-clients/consistency/service-client.js';
import type { AppDeps } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { createKeycloakAdmin } from '../../src/keycloak/admin.js';
import { createClientsGateway } from '../../src/keycloak/clients-gateway.js';
import { type Answer, startTestApp, type TestApp } from '../support/app.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { keycloakClient, keycloakUrl, realm, serviceClientRole, testConfig } from '../support/keycloak.js';

/** The service client's roles port on the test Keycloak: the locks' own, without an app. */
export function serviceClientRoles(): ServiceClientRoles {
  return createServiceClientRoles(
    createClientsGateway(createKeycloakAdmin(testConfig().keycloak)),
    testConfig().keycloak.clientId,
  );
}

/** A promise and the function that resolves it: one test step waits for another. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

export const adminBase = `/admin/realms/${realm}`;

/** Paths of the admin API calls the service makes, as the fault proxy sees them (no query string). */
export const paths = {
  /** GET ?q= (list by account), GET ?clientId= (find one), POST (create): all the same path. */
  clients: /^\/admin\/realms\/platform\/clients\/?$/,
  client: /^\/admin\/realms\/platform\/clients\/[0-9a-f-]{36}$/,
  roles: /^\/admin\/realms\/platform\/clients\/[0-9a-f-]{36}\/roles$/,
  lockRole: /^\/admin\/realms\/platform\/clients\/[0-9a-f-]{36}\/roles\/lock\./,
  /** DELETE …/roles-by-id/{id}: a lock's release (only its holder's own, found by owner token). */
  roleById: /^\/admin\/realms\/platform\/roles-by-id\/[0-9a-f-]{36}$/,
  limitRole: /^\/admin\/realms\/platform\/clients\/[0-9a-f-]{36}\/roles\/limit\./,
  secret: /^\/admin\/realms\/platform\/clients\/[0-9a-f-]{36}\/client-secret$/,
  defaultScope: /^\/admin\/realms\/platform\/clients\/[0-9a-f-]{36}\/default-client-scopes\/[0-9a-f-]{36}$/,
  token: /^\/realms\/platform\/protocol\/openid-connect\/token$/,
  /** A client's role scope (realm scope mappings): POST adds, DELETE removes. */
  roleScope: /^\/admin\/realms\/platform\/clients\/[0-9a-f-]{36}\/scope-mappings\/realm$/,
  serviceAccountUser: /^\/admin\/realms\/platform\/clients\/[0-9a-f-]{36}\/service-account-user$/,
  /** A user's realm role mappings: POST adds, DELETE removes. */
  userRoles: /^\/admin\/realms\/platform\/users\/[0-9a-f-]{36}\/role-mappings\/realm$/,
};

/** The test configuration with the service's Keycloak calls going through `url` (e.g. a fault proxy). */
export function configVia(url: string, keycloak: Partial<Config['keycloak']> = {}): Partial<Config> {
  const base = testConfig().keycloak;
  // publicUrl stays the real Keycloak's: caller tokens carry its issuer.
  return { keycloak: { ...base, url, publicUrl: keycloakUrl(), ...keycloak } };
}

export interface ProxiedApp {
  proxy: FaultProxy;
  t: TestApp;
  close(): Promise<void>;
}

/** A fault proxy in front of the run's Keycloak and the service built against it. */
export async function startProxiedApp(
  keycloak: Partial<Config['keycloak']> = {},
  overrides: Partial<Config> = {},
  deps: AppDeps = {},
): Promise<ProxiedApp> {
  const proxy = await startFaultProxy(keycloakUrl());
  const t = await startTestApp({ ...configVia(proxy.url, keycloak), ...overrides }, deps);
  return {
    proxy,
    t,
    async close() {
      await t.close();
      await proxy.close();
    },
  };
}

/** Whether the account's lock role (a role of the service's own client) exists in Keycloak. */
export async function lockRoleExists(accountId: string): Promise<boolean> {
  return (await serviceClientRole(`lock.${accountId}`)) !== undefined;
}

/** Whether Keycloak holds a client with exactly this clientId. */
export async function clientExists(clientId: string): Promise<boolean> {
  return (await keycloakClient(clientId)) !== undefined;
}

/** 503 keycloak-unavailable as problem+json with Retry-After. */
export function expectKeycloakUnavailable(answer: Answer, context = ''): void {
  const summary = `${context} ${answer.status} ${JSON.stringify(answer.body)}`;
  expect(answer.status, summary).toBe(503);
  expect(String(answer.headers['content-type']), summary).toMatch(/^application\/problem\+json/);
  expect(answer.headers['retry-after'], summary).toMatch(/^\d+$/);
  expect((answer.body as { type?: string }).type, summary).toBe(
    'urn:api-clients:problem:keycloak-unavailable',
  );
}

/** Reads one sample of a Prometheus text exposition, e.g. `keycloak_token_renewals_total{outcome="success"}`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const match = /^([^{\s]+)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) {
      total += Number(match[3]);
      found = true;
    }
  }
  return found ? total : 0;
}

/** Polls `check` every `everyMs` until it answers true or `timeoutMs` passes; answers the elapsed ms. */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  { timeoutMs = 10_000, everyMs = 50, what = 'condition' } = {},
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

export interface LossyProxy {
  url: string;
  /** The next `times` requests matching method and path reach the target, but their answer is lost. */
  loseAnswer(rule: { method: string; path: RegExp; times?: number }): void;
  /** How many answers were lost so far. */
  readonly lost: number;
  close(): Promise<void>;
}

/**
 * A forwarding proxy that can lose an answer: the request reaches Keycloak and Keycloak does
 * the work, then the connection to the service is reset instead of answering (a timeout or a
 * network cut after the commit). The fault proxy cannot do that: its faults never reach Keycloak.
 */
export async function startLossyProxy(targetBaseUrl: string): Promise<LossyProxy> {
  const target = new URL(targetBaseUrl);
  const rules: { method: string; path: RegExp; left: number }[] = [];
  const sockets = new Set<Socket>();
  let lost = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const rule = rules.find((r) => r.left > 0 && r.method === req.method && r.path.test(path));
    if (rule) rule.left -= 1;
    const headers = { ...req.headers, host: target.host, connection: 'close' };
    const upstream = httpRequest({
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers,
      agent: false,
    });
    upstream.on('response', (upstreamRes) => {
      if (rule) {
        // Keycloak answered: the work is done. Drop its answer and cut the service's connection.
        upstreamRes.resume();
        upstreamRes.on('end', () => {
          lost += 1;
          req.socket.resetAndDestroy();
        });
        return;
      }
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    loseAnswer({ method, path, times = 1 }) {
      rules.push({ method: method.toUpperCase(), path, left: times });
    },
    get lost() {
      return lost;
    },
    close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      return closed;
    },
  };
}
