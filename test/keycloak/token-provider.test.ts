// The service's own token (SPEC §6): cached, renewed before it expires, one login at a time.
// A local node:http server plays Keycloak's token endpoint; the provider's clock is `now`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/keycloak-local.js';
import { KeycloakUnavailableError } from '../../src/keycloak/errors.js';
import {
  createTokenProvider,
  ServiceLoginRefusedError,
  type TokenProvider,
  type TokenProviderOptions,
} from '../../src/keycloak/token-provider.js';

interface Answer {
  status: number;
  body: unknown;
}

/** What the fake endpoint answers to login number `n` (1-based); may wait before answering. */
type Behaviour = (n: number) => Answer | Promise<Answer>;

const ok =
  (expiresIn = 300): Behaviour =>
  (n) => ({ status: 200, body: { access_token: `token-${n}`, expires_in: expiresIn, token_type: 'Bearer' } });

interface TokenEndpoint {
  url: string;
  /** Logins received so far. */
  logins: number;
  /** The form of every login, in order. */
  forms: URLSearchParams[];
  behaviour: Behaviour;
  close(): Promise<void>;
}

async function startTokenEndpoint(behaviour: Behaviour = ok()): Promise<TokenEndpoint> {
  let server: Server | undefined;
  const endpoint: TokenEndpoint = {
    url: '',
    logins: 0,
    forms: [],
    behaviour,
    async close() {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    },
  };
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      endpoint.logins += 1;
      endpoint.forms.push(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const answer = await endpoint.behaviour(endpoint.logins);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/platform/protocol/openid-connect/token`;
  return endpoint;
}

/** A promise the test resolves by hand: holds a login until the test lets it answer. */
function gate(): { wait: Promise<void>; open(): void } {
  let open = (): void => undefined;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), ms));
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    timeout,
  ]);
}

describe('token provider', () => {
  let endpoint: TokenEndpoint;
  let clock: number;
  const renewals: string[] = [];

  const provider = (overrides: Partial<TokenProviderOptions> = {}): TokenProvider =>
    createTokenProvider({
      tokenUrl: endpoint.url,
      clientId: 'api-clients-service',
      clientSecret: 'the-secret',
      timeoutMs: 2000,
      onRenewal: (outcome) => renewals.push(outcome),
      now: () => clock,
      ...overrides,
    });

  beforeEach(async () => {
    endpoint = await startTokenEndpoint();
    clock = 1_700_000_000_000;
    renewals.length = 0;
  });
  afterEach(() => endpoint.close());

  it("logs in with the service's own client credentials", async () => {
    expect(await provider().getAccessToken()).toBe('token-1');
    const form = endpoint.forms[0];
    expect(form?.get('grant_type')).toBe('client_credentials');
    expect(form?.get('client_id')).toBe('api-clients-service');
    expect(form?.get('client_secret')).toBe('the-secret');
    expect(renewals).toEqual(['success']);
  });

  it('caches the token: one login for many calls', async () => {
    const tokens = provider();
    for (let i = 0; i < 20; i++) {
      expect(await tokens.getAccessToken()).toBe('token-1');
      clock += 5000; // 100 s in all: well within the first 70% of 300 s
    }
    expect(endpoint.logins).toBe(1);
  });

  it('makes exactly one login for 50 concurrent calls on a cold provider', async () => {
    // the login stays in flight until all 50 calls have been made
    const held = gate();
    endpoint.behaviour = async (n) => {
      await held.wait;
      return ok()(n);
    };
    const tokens = provider();
    const calls = Promise.all(Array.from({ length: 50 }, () => tokens.getAccessToken()));
    held.open();
    const results = await calls;
    expect(new Set(results)).toEqual(new Set(['token-1']));
    expect(endpoint.logins).toBe(1);
  });

  it('renews in the background after 70% of the lifetime, handing out the old token meanwhile, once', async () => {
    const held = gate();
    endpoint.behaviour = async (n) => {
      if (n === 2) await held.wait;
      return ok(300)(n);
    };
    const tokens = provider();
    const loggedInAt = clock;
    expect(await tokens.getAccessToken()).toBe('token-1');

    clock = loggedInAt + 209_000; // 69.7%: not yet
    expect(await tokens.getAccessToken()).toBe('token-1');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(endpoint.logins).toBe(1);

    clock = loggedInAt + 211_000; // 70.3%: renew, but do not make anybody wait for it
    const during = Promise.all(Array.from({ length: 20 }, () => tokens.getAccessToken()));
    expect(await settlesWithin(during, 1000)).toBe(true); // while the renewal is still held
    expect(new Set(await during)).toEqual(new Set(['token-1']));
    await expect.poll(() => endpoint.logins).toBe(2);
    expect(await tokens.getAccessToken()).toBe('token-1'); // still held: still the old one

    held.open();
    await expect.poll(() => tokens.getAccessToken()).toBe('token-2');
    expect(endpoint.logins).toBe(2);
    expect(renewals).toEqual(['success', 'success']);
  });

  it('keeps the old token when a background renewal fails, and the next caller retries', async () => {
    endpoint.behaviour = (n) => (n === 2 ? { status: 503, body: { error: 'down' } } : ok(300)(n));
    const tokens = provider();
    const loggedInAt = clock;
    expect(await tokens.getAccessToken()).toBe('token-1');

    clock = loggedInAt + 220_000;
    expect(await tokens.getAccessToken()).toBe('token-1');
    await expect.poll(() => renewals).toEqual(['success', 'failure']);
    expect(await tokens.getAccessToken()).toBe('token-1'); // triggers login 3
    await expect.poll(() => tokens.getAccessToken()).toBe('token-3');
    expect(endpoint.logins).toBe(3);
  });

  it('never hands out an expired token: waits for the new login instead', async () => {
    const held = gate();
    endpoint.behaviour = async (n) => {
      if (n === 2) await held.wait;
      return ok(60)(n);
    };
    // the held login must outlast any stall of a busy machine: no abort timer may end it first
    const tokens = provider({ timeoutMs: 60_000 });
    const loggedInAt = clock;
    expect(await tokens.getAccessToken()).toBe('token-1');

    // 60 s lifetime: not handed out in its last 6 s (10% margin for skew and transit)
    clock = loggedInAt + 55_000;
    const next = tokens.getAccessToken();
    expect(await settlesWithin(next, 200)).toBe(false);
    held.open();
    expect(await next).toBe('token-2');
    expect(endpoint.logins).toBe(2);
  });

  it('fails rather than hand out an expired token when the new login fails', async () => {
    endpoint.behaviour = (n) => (n === 1 ? ok(60)(n) : { status: 503, body: {} });
    const tokens = provider();
    const loggedInAt = clock;
    expect(await tokens.getAccessToken()).toBe('token-1');

    clock = loggedInAt + 61_000;
    const error = await tokens.getAccessToken().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeycloakUnavailableError);
    expect(error).not.toBeInstanceOf(ServiceLoginRefusedError);
  });

  it('answers ServiceLoginRefusedError when Keycloak refuses the credentials (401)', async () => {
    endpoint.behaviour = () => ({ status: 401, body: { error: 'invalid_client' } });
    const error = await provider()
      .getAccessToken()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ServiceLoginRefusedError);
    expect(error).toBeInstanceOf(KeycloakUnavailableError); // still answered as 503 by the service
    expect(renewals).toEqual(['failure']);
  });

  it('answers KeycloakUnavailableError, not a refusal, when the connection is refused', async () => {
    const closedPort = await freePort();
    const tokens = provider({
      tokenUrl: `http://127.0.0.1:${closedPort}/realms/platform/protocol/openid-connect/token`,
    });
    const error = await tokens.getAccessToken().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeycloakUnavailableError);
    expect(error).not.toBeInstanceOf(ServiceLoginRefusedError);
    expect(renewals).toEqual(['failure']);
  });

  it('gives up within the timeout when the token endpoint does not answer', async () => {
    const never = gate();
    endpoint.behaviour = async (n) => {
      await never.wait;
      return ok()(n);
    };
    const started = Date.now();
    const error = await provider({ timeoutMs: 200 })
      .getAccessToken()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeycloakUnavailableError);
    expect(Date.now() - started).toBeLessThan(2000);
    never.open();
  });

  it('does not cache a failure: the next call logs in again', async () => {
    endpoint.behaviour = (n) => (n === 1 ? { status: 500, body: {} } : ok()(n));
    const tokens = provider();
    await expect(tokens.getAccessToken()).rejects.toBeInstanceOf(KeycloakUnavailableError);
    expect(await tokens.getAccessToken()).toBe('token-2');
  });

  it('forces a new login after invalidate(token), but not for some other token', async () => {
    const tokens = provider();
    expect(await tokens.getAccessToken()).toBe('token-1');

    // a request that failed with an older token must not throw away the current one
    tokens.invalidate('token-0');
    expect(await tokens.getAccessToken()).toBe('token-1');
    expect(endpoint.logins).toBe(1);

    tokens.invalidate('token-1');
    expect(await tokens.getAccessToken()).toBe('token-2');
    expect(endpoint.logins).toBe(2);
  });
});
