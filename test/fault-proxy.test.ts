// The fault proxy itself, against a tiny local echo server (no Keycloak): other tests rely on
// it forwarding faithfully and faulting exactly the requests it is told to.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../scripts/lib/keycloak-local.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';

interface Echo {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const clientsPath = '/admin/realms/platform/clients';

describe('fault proxy', () => {
  let echoServer: Server;
  let echoUrl: string;
  /** Requests that reached the echo server, i.e. that the proxy forwarded. */
  const received: Echo[] = [];
  let proxy: FaultProxy;

  beforeAll(async () => {
    echoServer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const echo: Echo = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        received.push(echo);
        res.writeHead(req.method === 'POST' ? 201 : 200, {
          'content-type': 'application/json',
          'x-echo': 'yes',
          location: `${clientsPath}/new-id`,
        });
        res.end(JSON.stringify(echo));
      });
    });
    await new Promise<void>((resolve) => echoServer.listen(0, '127.0.0.1', resolve));
    echoUrl = `http://127.0.0.1:${(echoServer.address() as AddressInfo).port}`;
    proxy = await startFaultProxy(echoUrl);
  });

  afterEach(() => {
    proxy.reset();
    received.length = 0;
  });

  afterAll(async () => {
    await proxy.close();
    echoServer.closeAllConnections();
    await new Promise((resolve) => echoServer.close(resolve));
  });

  const post = (path: string, body: unknown = { clientId: 'x' }) =>
    fetch(`${proxy.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('forwards method, path, query, headers and body, and answers status, headers and body unchanged', async () => {
    const big = 'x'.repeat(1024 * 1024); // larger than any socket buffer: exercises streaming
    const response = await fetch(`${proxy.url}${clientsPath}?q=api-clients.account:acme&max=5`, {
      method: 'POST',
      headers: { authorization: 'Bearer abc.def', 'content-type': 'application/json', 'x-custom': '1' },
      body: JSON.stringify({ big }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-echo')).toBe('yes');
    expect(response.headers.get('location')).toBe(`${clientsPath}/new-id`);
    const echo = (await response.json()) as Echo;
    expect(echo.method).toBe('POST');
    expect(echo.url).toBe(`${clientsPath}?q=api-clients.account:acme&max=5`);
    expect(echo.headers.authorization).toBe('Bearer abc.def');
    expect(echo.headers['x-custom']).toBe('1');
    // the target sees its own host, as if it were called directly
    expect(echo.headers.host).toBe(new URL(echoUrl).host);
    expect(JSON.parse(echo.body)).toEqual({ big });
    expect(proxy.requests).toEqual([
      { method: 'POST', path: clientsPath, search: '?q=api-clients.account:acme&max=5' },
    ]);
  });

  it('answers a status rule only for the matching request, and only `times` times', async () => {
    const rule = proxy.failNext({
      method: 'post',
      path: /^\/admin\/realms\/platform\/clients$/,
      times: 2,
      mode: 'status',
      status: 500,
      body: { error: 'boom' },
    });

    // same path, other method; same method, other path: forwarded
    expect((await fetch(`${proxy.url}${clientsPath}`)).status).toBe(200);
    expect((await post(`${clientsPath}/some-id/client-secret`)).status).toBe(201);
    expect(rule.hits).toBe(0);

    for (let i = 0; i < 2; i++) {
      const failed = await post(clientsPath);
      expect(failed.status).toBe(500);
      expect(failed.headers.get('content-type')).toBe('application/json');
      expect(await failed.json()).toEqual({ error: 'boom' });
    }
    expect(rule).toMatchObject({ hits: 2, done: true });

    const third = await post(clientsPath);
    expect(third.status).toBe(201);

    // the two faulted requests never reached the target
    expect(received.map((echo) => `${echo.method} ${echo.url}`)).toEqual([
      `GET ${clientsPath}`,
      `POST ${clientsPath}/some-id/client-secret`,
      `POST ${clientsPath}`,
    ]);
    expect(proxy.requests.map((request) => request.fault)).toEqual([
      undefined,
      undefined,
      'status',
      'status',
      undefined,
    ]);
  });

  it('lets `skip` matching requests through before firing', async () => {
    proxy.failNext({ method: 'GET', path: /\/clients$/, skip: 1, mode: 'status', status: 503 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${proxy.url}${clientsPath}`)).status);
    expect(statuses).toEqual([200, 503, 200]);
  });

  it('resets the connection for a reset rule: fetch fails, the next request goes through', async () => {
    proxy.failNext({ path: /\/clients$/, mode: 'reset' });
    const error = await post(clientsPath).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(TypeError); // undici's "fetch failed"
    expect(received).toHaveLength(0);
    expect((await post(clientsPath)).status).toBe(201);
  });

  it('delays a request before forwarding it, and drops it when the client gives up first', async () => {
    proxy.failNext({ path: /\/clients$/, mode: 'delay', delayMs: 300 });
    const started = Date.now();
    const slow = await fetch(`${proxy.url}${clientsPath}`);
    expect(slow.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    proxy.failNext({ path: /\/clients$/, mode: 'delay', delayMs: 400 });
    await expect(
      fetch(`${proxy.url}${clientsPath}?abandoned`, { signal: AbortSignal.timeout(100) }),
    ).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(received.map((echo) => echo.url)).toEqual([clientsPath]);
  });

  it('holds a request until the test releases it, then forwards it', async () => {
    const held = proxy.failNext({ path: /\/clients$/, mode: 'hold' });
    let answered = false;
    const answer = fetch(`${proxy.url}${clientsPath}`).then((response) => {
      answered = true;
      return response;
    });
    await held.reached;
    expect(held.hits).toBe(1);
    // held: the target has not seen it, the client has no answer (a GET of the target meanwhile
    // goes through, so the target is answering)
    expect((await fetch(`${proxy.url}/realms/platform`)).status).toBe(200);
    expect(received.map((echo) => echo.url)).toEqual(['/realms/platform']);
    expect(answered).toBe(false);
    held.release();
    expect((await answer).status).toBe(200);
    expect(received.map((echo) => echo.url)).toEqual(['/realms/platform', clientsPath]);
  });

  it('commit-late: forwards the whole request after the delay although the client gave up first', async () => {
    let fired = 0;
    const handle = proxy.failNext({
      path: /\/clients$/,
      mode: 'commit-late',
      delayMs: 300,
      onHit: () => {
        fired += 1;
      },
    });
    // a client that waits gets the target's answer
    expect((await post(clientsPath, { clientId: 'late' })).status).toBe(201);
    expect(received.map((echo) => JSON.parse(echo.body).clientId)).toEqual(['late']);
    expect(handle.committed).toBe(1);

    const abandoned = proxy.failNext({ path: /\/clients$/, mode: 'commit-late', delayMs: 300 });
    await expect(
      fetch(`${proxy.url}${clientsPath}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ clientId: 'abandoned' }),
        signal: AbortSignal.timeout(100),
      }),
    ).rejects.toThrow();
    expect(received).toHaveLength(1); // not yet: the delay runs
    const started = Date.now();
    while (abandoned.committed < 1 && Date.now() - started < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(abandoned.committed).toBe(1);
    expect(received.map((echo) => JSON.parse(echo.body).clientId)).toEqual(['late', 'abandoned']);
    expect(received[1]?.method).toBe('POST');
    expect(fired).toBe(1);
  });

  it('resets every request while down, and forwards again once up', async () => {
    proxy.setDown(true);
    await expect(fetch(`${proxy.url}/realms/platform/protocol/openid-connect/token`)).rejects.toThrow(
      TypeError,
    );
    await expect(post(clientsPath)).rejects.toThrow(TypeError);
    expect(received).toHaveLength(0);
    expect(proxy.requests.map((request) => request.fault)).toEqual(['down', 'down']);

    proxy.setDown(false);
    expect((await post(clientsPath)).status).toBe(201);
  });

  it('clearRules() removes pending rules', async () => {
    proxy.failNext({ mode: 'status', status: 500, times: Number.POSITIVE_INFINITY });
    expect((await fetch(`${proxy.url}/anything`)).status).toBe(500);
    proxy.clearRules();
    expect((await fetch(`${proxy.url}/anything`)).status).toBe(200);
  });

  it('answers 502 when the target cannot be reached', async () => {
    const nowhere = await startFaultProxy(`http://127.0.0.1:${await freePort()}`);
    try {
      const response = await fetch(`${nowhere.url}/x`);
      expect(response.status).toBe(502);
    } finally {
      await nowhere.close();
    }
  });

  it('close() ends promptly with a request held by a delay rule, and the port stops answering', async () => {
    const other = await startFaultProxy(echoUrl);
    other.failNext({ mode: 'delay', delayMs: 60_000 });
    const held = fetch(`${other.url}/held`).then(
      () => 'answered',
      () => 'failed',
    );
    await expect.poll(() => other.requests.length).toBe(1);
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await held).toBe('failed');
    await expect(fetch(`${other.url}/x`)).rejects.toThrow(TypeError);
    expect(received).toHaveLength(0);
  });
});
