// SPEC §2 "URLs Keycloak calls", through the service against the real Keycloak: every
// internal-target form is refused (400, both fields named) and nothing is created or changed;
// public https URLs are accepted and stored as sent. Names are looked up by an injected resolver
// (this machine has no outside DNS): a name resolving to an internal address is refused; an
// origin the operator allowed (KEYCLOAK_CALLS_ALLOWED_ORIGINS) is let through exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../support/app.js';
import { keycloakAccountClientIds, keycloakClient, userToken } from '../support/keycloak.js';
import { INTERNAL_TARGETS } from './internal-targets.js';

/** The DNS the second service sees: one public name, one that rebinds into the platform. */
const DNS: Record<string, string[]> = {
  'example.com': ['93.184.215.14'],
  'rebind.example.com': ['93.184.215.14', '10.0.0.5'],
  'metadata.example.com': ['169.254.169.254'],
};
const RECEIVER = 'http://127.0.0.1:8089';

let service: TestApp;
/** The same service with a resolver of its own and an allowed origin. */
let resolving: TestApp;
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
  resolving = await startTestApp(
    {
      urlSafety: {
        allowHttp: false,
        internalSuffixes: [],
        allowedOrigins: [RECEIVER],
        keycloakOrigins: [],
        federatedIssuerOrigins: [],
      },
    },
    { resolveHost: async (host) => DNS[host] ?? [] },
  );
  paula = await userToken('paula');
});

afterAll(async () => {
  for (const clientId of [fixture, `${account}_x`, `${account}_named`, `${account}_receiver`]) {
    await service.call('DELETE', clientUrl(account, clientId), { token: paula });
  }
  await service?.close();
  await resolving?.close();
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

describe('names Keycloak calls, looked up when the request is checked', () => {
  const named = `${account}_named`;

  it.each([
    ['resolves to a private address, among public ones', 'https://rebind.example.com/logout'],
    ['resolves to the metadata address', 'https://metadata.example.com/logout'],
  ])('refuses a name that %s: 400 naming both fields, nothing created', async (_why, url) => {
    const answer = await resolving.call<{ type: string; errors: { pointer: string; reason: string }[] }>(
      'POST',
      clientsUrl(account),
      { token: paula, body: { clientId: named, ...webApp(url) } },
    );
    expect(answer.status).toBe(400);
    expect(answer.body.type).toBe('urn:api-clients:problem:validation-failed');
    expect(answer.body.errors.map((e) => e.pointer).sort()).toEqual(['/adminUrl', '/backchannelLogout/url']);
    expect(answer.body.errors[0]?.reason).toContain('resolves to');
    expect(await keycloakAccountClientIds(account)).not.toContain(named);
  });

  it('accepts a public name (https://example.com/logout); refuses it on update once it resolves inside', async () => {
    const url = 'https://example.com/logout';
    const created = await resolving.call('POST', clientsUrl(account), {
      token: paula,
      body: { clientId: named, ...webApp(url) },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await keycloakClient(named))?.attributes?.['backchannel.logout.url']).toBe(url);

    const before = await keycloakClient(named);
    const answer = await resolving.call<{ errors: { pointer: string }[] }>(
      'PATCH',
      clientUrl(account, named),
      {
        token: paula,
        body: { backchannelLogout: { url: 'https://rebind.example.com/logout' } },
        headers: { 'content-type': 'application/merge-patch+json' },
      },
    );
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((e) => e.pointer)).toEqual(['/backchannelLogout/url']);
    expect(await keycloakClient(named)).toEqual(before);
  });

  it('lets through exactly an origin the operator allowed: plain http on loopback', async () => {
    const url = `${RECEIVER}/backchannel-logout`;
    const created = await resolving.call('POST', clientsUrl(account), {
      token: paula,
      body: { clientId: `${account}_receiver`, ...webApp(url) },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await keycloakClient(`${account}_receiver`))?.adminUrl).toBe(url);

    for (const other of ['http://127.0.0.1:8090/logout', 'https://127.0.0.1:8089/logout']) {
      const refused = await resolving.call('PATCH', clientUrl(account, `${account}_receiver`), {
        token: paula,
        body: { adminUrl: other },
        headers: { 'content-type': 'application/merge-patch+json' },
      });
      expect(refused.status).toBe(400);
    }
    // the service without the allowed origin refuses it
    const strict = await service.call('POST', clientsUrl(account), {
      token: paula,
      body: { clientId: `${account}_x`, ...webApp(url) },
    });
    expect(strict.status).toBe(400);
    expect(await keycloakAccountClientIds(account)).not.toContain(`${account}_x`);
  });
});
