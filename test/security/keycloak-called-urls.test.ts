// SPEC §2 "URLs Keycloak calls", through the service against the real Keycloak: every
// internal-target form is refused (400, both fields named) and nothing is created or changed;
// public https URLs are accepted and stored as sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../support/app.js';
import { keycloakAccountClientIds, keycloakClient, userToken } from '../support/keycloak.js';
import { INTERNAL_TARGETS } from './internal-targets.js';

let service: TestApp;
let paula: string;
const account = uniqueAccount('urls');
const fixture = `${account}_portal`;

const webApp = (url: string) => ({
  capabilityTypes: ['WebApp'],
  rootUrl: 'https://portal.example.com',
  redirectUris: ['/callback'],
  adminUrl: url,
  backchannelLogout: { url, sessionRequired: true, revokeOfflineSessions: false },
});

beforeAll(async () => {
  service = await startTestApp();
  paula = await userToken('paula');
});

afterAll(async () => {
  for (const clientId of [fixture, `${account}_x`]) {
    await service.call('DELETE', clientUrl(account, clientId), { token: paula });
  }
  await service?.close();
});

describe('URLs Keycloak calls', () => {
  it.each(INTERNAL_TARGETS)(
    'refuses %s (%s) on create, naming both fields, creating nothing',
    async (_why, url) => {
      const answer = await service.call<{ type: string; errors: { pointer: string; reason: string }[] }>(
        'POST',
        clientsUrl(account),
        { token: paula, body: { clientId: `${account}_x`, ...webApp(url) } },
      );
      expect(answer.status).toBe(400);
      expect(answer.body.type).toBe('urn:api-clients:problem:validation-failed');
      expect(answer.body.errors.map((e) => e.pointer).sort()).toEqual([
        '/adminUrl',
        '/backchannelLogout/url',
      ]);
      expect(await keycloakAccountClientIds(account)).not.toContain(`${account}_x`);
    },
  );

  it('accepts public https URLs, stored in Keycloak as sent', async () => {
    const url = 'https://portal.example.com/backchannel-logout';
    const created = await service.call('POST', clientsUrl(account), {
      token: paula,
      body: { clientId: fixture, ...webApp(url) },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const rep = await keycloakClient(fixture);
    expect(rep?.adminUrl).toBe(url);
    expect(rep?.attributes?.['backchannel.logout.url']).toBe(url);
  });

  it('refuses an internal target on update and leaves the client as it was', async () => {
    const before = await keycloakClient(fixture);
    expect(before).toBeDefined();
    for (const url of [
      'https://169.254.169.254/latest/meta-data',
      'https://[::ffff:10.0.0.5]/x',
      'https://0x7f.1/x',
    ]) {
      const answer = await service.call<{ errors: { pointer: string }[] }>(
        'PATCH',
        clientUrl(account, fixture),
        {
          token: paula,
          body: { adminUrl: url, backchannelLogout: { url } },
          headers: { 'content-type': 'application/merge-patch+json' },
        },
      );
      expect(answer.status).toBe(400);
      expect(answer.body.errors.map((e) => e.pointer).sort()).toEqual([
        '/adminUrl',
        '/backchannelLogout/url',
      ]);
    }
    expect(await keycloakClient(fixture)).toEqual(before);
    expect(await keycloakAccountClientIds(account)).toEqual([fixture]);
  });
});
