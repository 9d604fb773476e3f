// SPEC §5: secrets and tokens never appear in logs; every change, reveal and regenerate writes one
// structured audit line (event, account, client, actor sub and azp, request id, outcome). The app
// is built with its own logger configuration (src/http/logger.ts, as buildApp applies it) at trace
// level, writing to memory: the redaction checked is the app's, not one written for the test. A
// whole client lifecycle runs against the real Keycloak.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { clientsUrl, clientUrl, uniqueAccount } from '../support/app.js';
import { scriptClient } from '../support/fixtures.js';
import { claims, keycloakClient, serviceClient, testConfig, userToken } from '../support/keycloak.js';
import { forgeToken } from './support.js';

// (Config's logLevel type comes out as undefined from its schema's mapped union: set it by value)
const traceConfig = () => Object.assign(testConfig(), { logLevel: 'trace' });

interface Call {
  name: string;
  status: number;
  requestId: string;
}

describe('logs of a whole API client lifecycle', () => {
  const account = uniqueAccount('log');
  const clientId = `${account}_log-job`;
  const written: string[] = [];
  const calls: Call[] = [];
  const secrets: string[] = [];
  let app: FastifyInstance;
  let token: string;
  let badToken: string;

  async function call(
    name: string,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    options: { token?: string; body?: unknown; contentType?: string } = {},
  ) {
    const response = await app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${options.token ?? token}`,
        ...(options.body !== undefined ? { 'content-type': options.contentType ?? 'application/json' } : {}),
      },
      ...(options.body !== undefined ? { payload: JSON.stringify(options.body) } : {}),
    });
    const body = (
      response.body && /json/.test(String(response.headers['content-type'])) ? response.json() : {}
    ) as Record<string, unknown>;
    // a problem answer names its request id in `instance` too
    const requestId = String(response.headers['x-request-id'] ?? body.instance);
    calls.push({ name, status: response.statusCode, requestId });
    return { status: response.statusCode, body };
  }

  const logText = () => written.join('');
  const logLines = () =>
    written
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const auditLines = () => logLines().filter((line) => line.msg === 'audit');
  /** The audit record of a line: its `audit` member when it has one, else the line itself. */
  const auditOf = (line: Record<string, unknown>) => (line.audit ?? line) as Record<string, unknown>;
  const requestIdOf = (name: string) => calls.find((c) => c.name === name)?.requestId;

  beforeAll(async () => {
    app = await buildApp(traceConfig(), {
      logDestination: { write: (chunk: string) => written.push(chunk) },
    });
    await app.ready();
    token = await userToken('paula');
    badToken = await forgeToken(token);

    const created = await call('create', 'POST', clientsUrl(account), {
      body: scriptClient(clientId, { displayName: 'Log job', scopes: ['datahub-api'] }),
    });
    expect(created.status).toBe(201);
    secrets.push(created.body.secret as string);

    expect((await call('get', 'GET', clientUrl(account, clientId))).status).toBe(200);
    expect((await call('list', 'GET', clientsUrl(account))).status).toBe(200);

    const revealed = await call('reveal', 'GET', `${clientUrl(account, clientId)}/secret`);
    expect(revealed.status).toBe(200);
    expect(revealed.body.secret).toBe(secrets[0]);

    const regenerated = await call('regenerate', 'POST', `${clientUrl(account, clientId)}/secret`);
    expect(regenerated.status).toBe(200);
    expect(regenerated.body.secret).not.toBe(secrets[0]);
    secrets.push(regenerated.body.secret as string);

    const patched = await call('patch', 'PATCH', clientUrl(account, clientId), {
      body: { description: 'patched while logging' },
      contentType: 'application/merge-patch+json',
    });
    expect(patched.status).toBe(200);

    const refused = await call('bad token', 'GET', clientUrl(account, clientId), { token: badToken });
    expect(refused.status).toBe(401);

    // a change that fails: audited too, with another outcome
    const missing = await call('failed patch', 'PATCH', clientUrl(account, `${clientId}-missing`), {
      body: { description: 'nobody' },
      contentType: 'application/merge-patch+json',
    });
    expect(missing.status).toBe(404);

    expect((await call('delete', 'DELETE', clientUrl(account, clientId))).status).toBe(204);
    expect(await keycloakClient(clientId)).toBeUndefined();
  });

  afterAll(async () => {
    if (await keycloakClient(clientId)) await call('cleanup', 'DELETE', clientUrl(account, clientId));
    await app?.close();
  });

  it('captured the log of every request (the checks below are not vacuous)', () => {
    const requestIds = new Set(logLines().map((line) => line.reqId));
    for (const { requestId } of calls) expect(requestIds).toContain(requestId);
  });

  it('holds none of the secrets shown', () => {
    expect(secrets).toHaveLength(2);
    for (const secret of secrets) expect(logText()).not.toContain(secret);
  });

  it('holds none of the bearer tokens sent, nor any other JWT', () => {
    expect(logText()).not.toContain(token);
    expect(logText()).not.toContain(badToken);
    // the signature part alone is enough to replay nothing, but a payload is already a leak
    expect(logText()).not.toContain(token.split('.')[1]);
    expect(logText()).not.toMatch(/eyJ[\w-]{8,}\.eyJ[\w-]{8,}/);
  });

  it("holds no client_secret and not the service's own secret", () => {
    expect(logText()).not.toContain('client_secret');
    expect(logText()).not.toContain(serviceClient.secret);
  });

  it('has exactly one audit line per change, reveal and regenerate, and none for reads', () => {
    const audited = auditLines().map((line) => auditOf(line).requestId);
    const expected = ['create', 'reveal', 'regenerate', 'patch', 'failed patch', 'delete'].map(requestIdOf);
    expect([...audited].sort()).toEqual([...expected].sort());
  });

  it.each(['create', 'reveal', 'regenerate', 'patch', 'delete'])(
    'the audit line of %s names event, account, client, actor, request id and outcome',
    (name) => {
      const requestId = requestIdOf(name);
      const line = auditLines().find((l) => auditOf(l).requestId === requestId);
      expect(line).toBeDefined();
      const audit = auditOf(line as Record<string, unknown>);
      expect(audit.event).toEqual(expect.any(String));
      expect(audit.event).not.toBe('');
      expect(audit.accountId).toBe(account);
      expect(audit.clientId).toBe(clientId);
      expect(audit.actor).toMatchObject({ sub: claims(token).sub, azp: claims(token).azp });
      expect(audit.outcome).toEqual(expect.any(String));
    },
  );

  it('tells the events apart, and a failed change from a done one', () => {
    const byName = (name: string) =>
      auditOf(auditLines().find((l) => auditOf(l).requestId === requestIdOf(name)) ?? {});
    const done = ['create', 'reveal', 'regenerate', 'patch', 'delete'].map(byName);
    expect(new Set(done.map((audit) => audit.event)).size).toBe(done.length);
    expect(new Set(done.map((audit) => audit.outcome)).size).toBe(1);
    const failed = byName('failed patch');
    expect(failed.event).toBe(byName('patch').event);
    expect(failed.outcome).toEqual(expect.any(String));
    expect(failed.outcome).not.toBe(done[0]?.outcome);
  });
});

describe("the app's default redaction, wherever a log call puts a secret or a token", () => {
  // The lifecycle above logs no secret at all; this is the safety net for the log call that one
  // day will (an error with Keycloak's answer in it, a body logged while debugging).
  const SECRET = `s3cr3t-${Date.now()}`;
  const written: string[] = [];
  // the app's own logger, as buildApp configures it by default
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp(traceConfig(), {
      logDestination: { write: (chunk: string) => written.push(chunk) },
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  it.each([
    { where: 'body.secret', value: { body: { secret: SECRET } } },
    {
      where: 'req.headers.authorization',
      value: { req: { headers: { authorization: `Bearer ${SECRET}` } } },
    },
    { where: 'secret (top level)', value: { secret: SECRET } },
    { where: 'access_token (top level)', value: { access_token: SECRET } },
    { where: 'res.body.secret (two levels down)', value: { res: { body: { secret: SECRET } } } },
    {
      where: "err.response.data.client_secret (Keycloak's answer in an error)",
      value: { err: { response: { data: { client_secret: SECRET } } } },
    },
  ])('censors $where', ({ value }) => {
    written.length = 0;
    app.log.info(value, 'something');
    expect(written.join('')).toContain('something');
    expect(written.join('')).not.toContain(SECRET);
  });
});
