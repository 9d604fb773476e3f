// SPEC §6: the service's own token is cached and renewed before it expires, one renewal at a
// time; never a login per request. The service client's tokens are made short-lived (8 s) in
// the real Keycloak for this file, and put back afterwards.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, clientUrl, startTestApp, uniqueAccount } from '../support/app.js';
import { scriptClient } from '../support/fixtures.js';
import {
  clientCredentialsToken,
  keycloakAdmin,
  serviceClient,
  serviceClientUuid,
  userToken,
} from '../support/keycloak.js';
import { metricValue, paths, startProxiedApp } from './support.js';

const LIFESPAN_ATTRIBUTE = 'access.token.lifespan';
const lifespanSeconds = 8;
const trafficMs = 18_000; // > 2 lifespans
const everyMs = 100;

type ClientRep = { attributes?: Record<string, string> } & Record<string, unknown>;

async function setServiceTokenLifespan(value: string | undefined): Promise<void> {
  const id = await serviceClientUuid();
  const { body: rep } = await keycloakAdmin<ClientRep>('GET', `/clients/${id}`);
  // Keycloak removes an attribute sent as ""
  rep.attributes = { ...rep.attributes, [LIFESPAN_ATTRIBUTE]: value ?? '' };
  const { status } = await keycloakAdmin('PUT', `/clients/${id}`, rep);
  if (status !== 204) throw new Error(`setting ${LIFESPAN_ATTRIBUTE} answered ${status}`);
}

async function serviceTokenLifetime(): Promise<number | undefined> {
  const answer = await clientCredentialsToken(serviceClient.clientId, serviceClient.secret);
  return answer.body.expires_in as number | undefined;
}

describe("the service's own token, with an 8 s lifespan", () => {
  let previous: string | undefined;
  let changed = false;
  let token: string;

  beforeAll(async () => {
    token = await userToken('paula');
    const { body } = await keycloakAdmin<ClientRep>('GET', `/clients/${await serviceClientUuid()}`);
    previous = body.attributes?.[LIFESPAN_ATTRIBUTE];
    changed = true;
    await setServiceTokenLifespan(String(lifespanSeconds));
    // expires_in counts whole seconds left when Keycloak answers: the lifespan, or a second less
    expect(await serviceTokenLifetime()).toBeGreaterThanOrEqual(lifespanSeconds - 1);
    expect(await serviceTokenLifetime()).toBeLessThanOrEqual(lifespanSeconds);
  });

  afterAll(async () => {
    if (!changed) return;
    await setServiceTokenLifespan(previous);
    const { body } = await keycloakAdmin<ClientRep>('GET', `/clients/${await serviceClientUuid()}`);
    const restored = body.attributes?.[LIFESPAN_ATTRIBUTE];
    expect(restored || undefined).toBe(previous || undefined);
    expect(await serviceTokenLifetime()).toBeGreaterThan(lifespanSeconds);
  });

  it(`is renewed in the background: ${trafficMs / 1000} s of steady traffic, not one 401 or 503`, async () => {
    const t = await startTestApp();
    try {
      const account = uniqueAccount('tok');
      const clientId = `${account}_steady`;
      expect(
        (
          await t.call('POST', clientsUrl(account), {
            token,
            body: scriptClient(clientId),
          })
        ).status,
      ).toBe(201);

      const statuses = new Map<number, number>();
      const slow: number[] = [];
      const started = Date.now();
      let sent = 0;
      while (Date.now() - started < trafficMs) {
        const at = performance.now();
        const answer = await t.call('GET', clientUrl(account, clientId), { token });
        const ms = performance.now() - at;
        if (ms > 500) slow.push(Math.round(ms));
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        sent += 1;
        const next = started + sent * everyMs;
        await sleep(Math.max(0, next - Date.now()));
      }

      const metrics = String((await t.call('GET', '/metrics')).body);
      const renewals = metricValue(metrics, 'keycloak_token_renewals_total', { outcome: 'success' });
      const failures = metricValue(metrics, 'keycloak_token_renewals_total', { outcome: 'failure' });
      console.log(
        `[token] ${sent} requests over ${trafficMs / 1000} s with an ${lifespanSeconds} s token:`,
        `statuses ${JSON.stringify(Object.fromEntries(statuses))},`,
        `renewals success=${renewals} failure=${failures}, answers over 500 ms: ${JSON.stringify(slow)}`,
      );
      expect(Object.fromEntries(statuses)).toEqual({ 200: sent });
      expect(renewals).toBeGreaterThanOrEqual(2);
      expect(renewals).toBeLessThanOrEqual(Math.ceil(trafficMs / 1000 / (lifespanSeconds * 0.7)) + 2);
      expect(renewals * 20).toBeLessThan(sent);
      expect(failures).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('30 concurrent requests on a cold app cause exactly one login', async () => {
    const env = await startProxiedApp();
    try {
      // the client to read, created by another app so that this one stays cold
      const account = uniqueAccount('cold');
      const clientId = `${account}_c`;
      const other = await startTestApp();
      expect(
        (
          await other.call('POST', clientsUrl(account), {
            token,
            body: scriptClient(clientId),
          })
        ).status,
      ).toBe(201);
      await other.close();

      env.proxy.requests.length = 0;
      const answers = await Promise.all(
        Array.from({ length: 30 }, () => env.t.call('GET', clientUrl(account, clientId), { token })),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(30).fill(200));
      const logins = env.proxy.requests.filter((r) => r.method === 'POST' && paths.token.test(r.path));
      const metrics = String((await env.t.call('GET', '/metrics')).body);
      const renewals = metricValue(metrics, 'keycloak_token_renewals_total', { outcome: 'success' });
      console.log(`[token] cold app, 30 concurrent requests: ${logins.length} login(s), metric ${renewals}`);
      expect(logins).toHaveLength(1);
      expect(renewals).toBe(1);
    } finally {
      await env.close();
    }
  });
});
