// A reverse proxy for tests that sits between the service and Keycloak and injects faults:
// an error answer, a dropped connection, a slow answer, an answer held until the test lets it go,
// a request that reaches Keycloak only after its caller gave up (Keycloak commits after the
// service's timeout), or Keycloak down altogether.
// Everything it does not fault it forwards unchanged, so the service still talks to the real
// Keycloak through it. node:http only, loopback only.
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pipeline } from 'node:stream';

export type FaultMode = 'status' | 'reset' | 'delay' | 'hold' | 'commit-late';

export interface FaultRule {
  /** HTTP method to match, case-insensitive; any method when absent. */
  method?: string;
  /** Tested against the request path without its query string; any path when absent. */
  path?: RegExp;
  /** Let this many matching requests through before the rule starts to fire. Default 0. */
  skip?: number;
  /** How many matching requests the rule fires for; `Infinity` for every one. Default 1. */
  times?: number;
  /**
   * - `status`: answer `status` with `body` instead of forwarding (the target never sees it);
   * - `reset`: destroy the client's connection with a TCP RST, no answer at all;
   * - `delay`: wait `delayMs`, then forward (not forwarded if the client gave up meanwhile);
   * - `hold`: keep the request until the test calls the handle's `release()`, then forward: a
   *   test that must know the request is in flight awaits `reached` instead of sleeping.
   * - `commit-late`: read the whole request, wait `delayMs`, then forward it even when the client
   *   gave up meanwhile (its timeout, a reset): Keycloak does the work after the caller stopped
   *   waiting. The answer goes to the client if it still waits, else it is dropped.
   */
  mode: FaultMode;
  /** For `status`. Default 500. */
  status?: number;
  /** For `status`: a string is sent as is, anything else as JSON. Default `{ error: 'injected fault' }`. */
  body?: unknown;
  /** For `status`: extra answer headers, e.g. `{ 'retry-after': '1' }`. */
  headers?: Record<string, string>;
  /** For `delay` and `commit-late`. Default 1000. */
  delayMs?: number;
  /** Called each time the rule fires, before the fault is applied (e.g. to move an injected clock). */
  onHit?: () => void;
}

export interface FaultRuleHandle {
  /** How many requests the rule has fired for so far. */
  readonly hits: number;
  /** True once the rule has fired `times` times (it is then removed). */
  readonly done: boolean;
  /** Settles when the rule fires for the first time. */
  readonly reached: Promise<void>;
  /** For `hold`: forwards the requests held so far and any the rule holds from now on. */
  release(): void;
  /** `commit-late`: how many of its requests the target has answered so far (the work is done). */
  readonly committed: number;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Query string with its leading `?`, or `''`. */
  search: string;
  /** The fault applied to this request, if any (`down` for `setDown(true)`). */
  fault?: FaultMode | 'down';
  /** The headers named in the proxy's `recordHeaders` option that the request carried. */
  headers?: Record<string, string>;
}

export interface FaultProxy {
  /** Base URL of the proxy, `http://127.0.0.1:<port>`, to use in place of the target's. */
  readonly url: string;
  /** Every request the proxy received, in order, faulted or not. Tests may empty it. */
  readonly requests: RecordedRequest[];
  /** Adds a rule; rules are checked in the order added and the first one that fires wins. */
  failNext(rule: FaultRule): FaultRuleHandle;
  /** `true`: every request gets its connection reset, as if the target were down. */
  setDown(down: boolean): void;
  clearRules(): void;
  /** `clearRules()`, `setDown(false)` and an empty `requests` log. */
  reset(): void;
  /** Stops listening and destroys every open connection and pending timer. */
  close(): Promise<void>;
}

interface ActiveRule {
  rule: FaultRule;
  method: string | undefined;
  skipLeft: number;
  timesLeft: number;
  hits: number;
  fired: () => void;
  released: Promise<void>;
  committed: number;
}

// Hop-by-hop headers describe one connection, not the message: each side sets its own.
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !hopByHop.has(name)) out[name] = value;
  }
  return out;
}

export interface FaultProxyOptions {
  /**
   * Keep the client's Host header instead of sending the target's. Off by default so that
   * Keycloak derives the same issuer and URLs as when it is called directly.
   */
  preserveHost?: boolean;
  /** Lower-case names of request headers to keep in `requests` (e.g. `traceparent`). None by default. */
  recordHeaders?: string[];
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

export async function startFaultProxy(
  targetBaseUrl: string,
  options: FaultProxyOptions = {},
): Promise<FaultProxy> {
  const target = new URL(targetBaseUrl);
  if (target.protocol !== 'http:')
    throw new Error(`fault proxy forwards to http:// only, not ${target.protocol}`);
  const targetPrefix = target.pathname.replace(/\/+$/, '');

  const rules: ActiveRule[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const releaseAll = new Set<() => void>();
  // Own agent, so that close() also drops the pooled connections to the target.
  const agent = new Agent({ keepAlive: true });
  let down = false;

  function pickRule(method: string, path: string): ActiveRule | undefined {
    for (const active of rules) {
      if (active.method !== undefined && active.method !== method) continue;
      if (active.rule.path && !active.rule.path.test(path)) continue;
      if (active.skipLeft > 0) {
        active.skipLeft -= 1;
        continue;
      }
      active.timesLeft -= 1;
      active.hits += 1;
      if (active.timesLeft <= 0) rules.splice(rules.indexOf(active), 1);
      return active;
    }
    return undefined;
  }

  function forward(req: IncomingMessage, res: ServerResponse): void {
    const headers = endToEndHeaders(req.headers);
    if (!options.preserveHost) headers.host = target.host;
    const upstream = httpRequest({
      agent,
      host: target.hostname,
      port: target.port || 80,
      method: req.method,
      path: `${targetPrefix}${req.url ?? '/'}`,
      headers,
    });
    upstream.on('response', (upstreamRes) => {
      res.writeHead(
        upstreamRes.statusCode ?? 502,
        upstreamRes.statusMessage,
        endToEndHeaders(upstreamRes.headers),
      );
      // An error mid-body destroys the client's response too: it sees a truncated answer.
      pipeline(upstreamRes, res, () => undefined);
    });
    upstream.on('error', (error) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'fault proxy: target unreachable', detail: error.message }));
    });
    // The client gave up (timeout, abort): stop the upstream call as a real client would.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    pipeline(req, upstream, () => undefined);
  }

  /**
   * Forwards a request whose body was read already, whether or not its client still waits; the
   * target's answer goes to the client when it does.
   */
  function forwardLate(req: IncomingMessage, body: Buffer, res: ServerResponse, done: () => void): void {
    const headers = endToEndHeaders(req.headers);
    if (!options.preserveHost) headers.host = target.host;
    headers['content-length'] = String(body.length);
    const upstream = httpRequest({
      agent,
      host: target.hostname,
      port: target.port || 80,
      method: req.method,
      path: `${targetPrefix}${req.url ?? '/'}`,
      headers,
    });
    upstream.on('response', (upstreamRes) => {
      upstreamRes.on('end', done);
      if (res.destroyed || res.headersSent) {
        upstreamRes.resume();
        return;
      }
      res.writeHead(
        upstreamRes.statusCode ?? 502,
        upstreamRes.statusMessage,
        endToEndHeaders(upstreamRes.headers),
      );
      pipeline(upstreamRes, res, () => undefined);
    });
    upstream.on('error', () => {
      if (!res.destroyed) res.destroy();
    });
    upstream.end(body);
  }

  const server = createServer((req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://proxy.invalid');
    const record: RecordedRequest = { method, path: url.pathname, search: url.search };
    for (const name of options.recordHeaders ?? []) {
      const value = req.headers[name];
      if (typeof value === 'string') record.headers = { ...record.headers, [name]: value };
    }
    requests.push(record);

    if (down) {
      record.fault = 'down';
      req.socket.resetAndDestroy();
      return;
    }
    const active = pickRule(method, url.pathname);
    if (!active) {
      forward(req, res);
      return;
    }
    const { rule } = active;
    record.fault = rule.mode;
    active.fired();
    rule.onHit?.();
    switch (rule.mode) {
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'status': {
        const body = rule.body ?? { error: 'injected fault' };
        const text = typeof body === 'string' ? body : JSON.stringify(body);
        req.resume(); // drain the request body so that the connection stays usable
        res.writeHead(rule.status ?? 500, {
          'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
          ...rule.headers,
        });
        res.end(text);
        return;
      }
      case 'hold': {
        active.released.then(() => {
          if (!res.destroyed) forward(req, res);
        });
        return;
      }
      case 'delay': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) forward(req, res);
        }, rule.delayMs ?? 1000);
        timer.unref();
        timers.add(timer);
        res.on('close', () => {
          clearTimeout(timer);
          timers.delete(timer);
        });
        return;
      }
      case 'commit-late': {
        const chunks: Buffer[] = [];
        let ended = false;
        let due = false;
        const send = () => {
          if (!ended || !due) return;
          forwardLate(req, Buffer.concat(chunks), res, () => {
            active.committed += 1;
          });
        };
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          ended = true;
          send();
        });
        // the client may give up before or after its body arrived: forward what was read
        req.on('error', () => undefined);
        const timer = setTimeout(() => {
          timers.delete(timer);
          due = true;
          send();
        }, rule.delayMs ?? 1000);
        timer.unref();
        timers.add(timer);
        return;
      }
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Errors on one client connection (e.g. after a reset) must not take the proxy down.
  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(rule) {
      const times = rule.times ?? 1;
      if (!(times > 0)) throw new Error('failNext: times must be > 0');
      const reached = deferred();
      const released = deferred();
      releaseAll.add(released.resolve);
      const active: ActiveRule = {
        rule,
        method: rule.method?.toUpperCase(),
        skipLeft: rule.skip ?? 0,
        timesLeft: times,
        hits: 0,
        fired: reached.resolve,
        released: released.promise,
        committed: 0,
      };
      rules.push(active);
      return {
        get hits() {
          return active.hits;
        },
        get done() {
          return active.timesLeft <= 0;
        },
        reached: reached.promise,
        release: released.resolve,
        get committed() {
          return active.committed;
        },
      };
    },
    setDown(value) {
      down = value;
    },
    clearRules() {
      rules.length = 0;
    },
    reset() {
      // a held request goes on to the target rather than hanging its caller
      for (const release of releaseAll) release();
      releaseAll.clear();
      rules.length = 0;
      down = false;
      requests.length = 0;
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      rules.length = 0;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      return closed;
    },
  };
}
