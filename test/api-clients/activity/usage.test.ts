// SPEC §4 Usage, against the real Keycloak: tokens issued and a wrong secret tried are counted on
// today's row, the refusal with its reason and address; a range beyond the login events' retention
// is refused; a very busy client's answer says where it stopped counting (a small cap here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../../support/app.js';
import { scriptClient } from '../../support/fixtures.js';
import { clientCredentialsToken, userToken } from '../../support/keycloak.js';

interface Usage {
  days: { date: string; tokensIssued: number; failedAuthentications: number }[];
  lastFailure: { at: string; reason: string; ipAddress: string | null } | null;
  truncated: boolean;
  countedUpTo: number;
  countedFrom: string | null;
}

const CAP = 10;
let t: TestApp;
let capped: TestApp;
let paula: string;
let gina: string;
const account = uniqueAccount('use');
const clients: string[] = [];

async function newClient(name: string): Promise<{ clientId: string; secret: string }> {
  const clientId = `${account}_${name}`;
  const created = await t.call<{ secret: string }>('POST', clientsUrl(account), {
    token: paula,
    body: scriptClient(clientId),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  clients.push(clientId);
  return { clientId, secret: created.body.secret };
}

const usageOf = (app: TestApp, clientId: string, query = '', token = paula) =>
  app.call<Usage>('GET', `${clientUrl(account, clientId)}/usage${query}`, { token });

beforeAll(async () => {
  const activity = { historyMaxEvents: 2000, usageMaxEvents: 20_000, usageCacheTtlMs: 0 };
  t = await startTestApp({ activity });
  capped = await startTestApp({ activity: { ...activity, usageMaxEvents: CAP } });
  [paula, gina] = await Promise.all([userToken('paula'), userToken('gina')]);
});

afterAll(async () => {
  for (const clientId of clients) await t.call('DELETE', clientUrl(account, clientId), { token: paula });
  await Promise.all([t?.close(), capped?.close()]);
});

describe('usage', () => {
  it("counts tokens issued and a refused secret on today's row, with the refusal's reason and address", async () => {
    const { clientId, secret } = await newClient('counted');
    const before = await usageOf(t, clientId);
    expect(before.status, JSON.stringify(before.body)).toBe(200);
    expect(before.body.days).toHaveLength(14);
    expect(before.body.days.every((day) => day.tokensIssued === 0 && day.failedAuthentications === 0)).toBe(
      true,
    );
    expect(before.body.lastFailure).toBeNull();

    for (let n = 0; n < 3; n++) expect((await clientCredentialsToken(clientId, secret)).status).toBe(200);
    expect((await clientCredentialsToken(clientId, 'not-the-secret')).status).toBe(401);

    const after = await usageOf(t, clientId, '?days=3');
    expect(after.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    expect(after.body.days.map((day) => day.date).at(-1)).toBe(today);
    expect(after.body.days).toHaveLength(3);
    expect(after.body.days.at(-1)).toEqual({ date: today, tokensIssued: 3, failedAuthentications: 1 });
    expect(after.body.lastFailure?.reason).toBe('invalid_client_credentials');
    expect(after.body.lastFailure?.ipAddress).toBe('127.0.0.1');
    expect(Math.abs(Date.parse(after.body.lastFailure?.at ?? '') - Date.now())).toBeLessThan(60_000);
    expect(after.body.truncated).toBe(false);
  });

  it('says where it stopped counting on a very busy client', async () => {
    const { clientId, secret } = await newClient('busy');
    for (let n = 0; n < CAP + 3; n++)
      expect((await clientCredentialsToken(clientId, secret)).status).toBe(200);
    const answer = await usageOf(capped, clientId);
    expect(answer.status).toBe(200);
    expect(answer.body.truncated).toBe(true);
    expect(answer.body.countedUpTo).toBe(CAP);
    expect(answer.body.days.at(-1)?.tokensIssued).toBe(CAP);
    expect(answer.body.countedFrom).not.toBeNull();
    const full = await usageOf(t, clientId);
    expect(full.body.truncated).toBe(false);
    expect(full.body.days.at(-1)?.tokensIssued).toBe(CAP + 3);
  });

  it('refuses a range beyond the retention of login events, and another account', async () => {
    const { clientId } = await newClient('ranges');
    expect((await usageOf(t, clientId, '?days=90')).status).toBe(200);
    const tooLong = await usageOf(t, clientId, '?days=91');
    expect(tooLong.status).toBe(400);
    expect(JSON.stringify(tooLong.body)).toContain('/days');
    expect((await usageOf(t, clientId, '', gina)).status).toBe(403);
    const foreign = await t.call('GET', `/v1/accounts/${account}/api-clients/acme_nothing/usage`, {
      token: paula,
    });
    expect(foreign.status).toBe(404);
  });
});
