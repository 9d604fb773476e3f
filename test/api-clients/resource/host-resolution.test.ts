// SPEC §2 "URLs Keycloak calls": a name is refused when it resolves, as the request is checked,
// to an internal address. The resolver is injected: this machine, and many CI runners, have no DNS.
import { describe, expect, it } from 'vitest';
import {
  type ResolveHost,
  resolvedHostErrors,
  systemResolver,
} from '../../../src/api-clients/resource/host-resolution.js';
import { DEFAULT_FIELDS } from '../../../src/api-clients/resource/mapping.js';
import type { ApiClientFields } from '../../../src/api-clients/resource/schema.js';
import { allowedOrigin, STRICT_URL_SAFETY } from '../../../src/api-clients/resource/url-safety.js';

const DNS: Record<string, string[]> = {
  'public.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  'rebind.example.com': ['10.0.0.5'],
  'mixed.example.com': ['93.184.215.14', '169.254.169.254'],
  'mapped.example.com': ['::ffff:127.0.0.1'],
  'v6.example.com': ['fd00::1'],
  'receiver.example.com': ['10.1.2.3'],
};
const asked: string[] = [];
const resolve: ResolveHost = async (host) => {
  asked.push(host);
  return DNS[host] ?? [];
};

const webApp = (adminUrl: string | null, logoutUrl?: string): ApiClientFields => ({
  ...DEFAULT_FIELDS,
  capabilityTypes: ['WebApp'],
  adminUrl,
  backchannelLogout: logoutUrl
    ? { url: logoutUrl, sessionRequired: true, revokeOfflineSessions: false }
    : null,
});

const pointers = async (fields: ApiClientFields, options = STRICT_URL_SAFETY, unchanged: string[] = []) =>
  (await resolvedHostErrors(fields, options, resolve, unchanged)).map((error) => error.pointer);

describe('resolvedHostErrors', () => {
  it.each([
    ['rebind.example.com', '10.0.0.5'],
    ['mixed.example.com', '169.254.169.254'],
    ['mapped.example.com', '::ffff:127.0.0.1'],
    ['v6.example.com', 'fd00::1'],
  ])('refuses %s, which resolves to %s, naming both fields', async (host, address) => {
    const url = `https://${host}/logout`;
    const errors = await resolvedHostErrors(webApp(url, url), STRICT_URL_SAFETY, resolve);
    expect(errors.map((error) => error.pointer)).toEqual(['/adminUrl', '/backchannelLogout/url']);
    expect(errors[0]?.reason).toContain(`resolves to ${address}`);
  });

  it('accepts a name that resolves to public addresses only, and one that does not resolve', async () => {
    expect(await pointers(webApp('https://public.example.com/a', 'https://nowhere.example.com/b'))).toEqual(
      [],
    );
  });

  it('looks each name up once, and only names whose text passed', async () => {
    asked.length = 0;
    await pointers(webApp('https://public.example.com/a', 'https://public.example.com/b'));
    await pointers(webApp('https://10.0.0.5/a', 'https://x.corp/b'));
    await pointers(webApp('https://8.8.8.8/a'));
    expect(asked).toEqual(['public.example.com']);
  });

  it('does not look up what an update keeps, nor an allowed origin', async () => {
    const url = 'https://rebind.example.com/logout';
    expect(await pointers(webApp(url, 'https://mixed.example.com/x'), STRICT_URL_SAFETY, [url])).toEqual([
      '/backchannelLogout/url',
    ]);
    const allowed = {
      ...STRICT_URL_SAFETY,
      allowedOrigins: [allowedOrigin('https://receiver.example.com:443') as string],
    };
    expect(await pointers(webApp('https://receiver.example.com/logout'), allowed)).toEqual([]);
    expect(await pointers(webApp('https://receiver.example.com:8443/logout'), allowed)).toEqual([
      '/adminUrl',
    ]);
  });
});

describe('systemResolver', () => {
  it('answers the addresses of a name the system knows', async () => {
    expect(await systemResolver()('localhost')).toEqual(
      expect.arrayContaining([expect.stringMatching(/^(127\.|::1)/)]),
    );
  });

  it('answers none for a name that does not resolve, within its timeout', async () => {
    const started = Date.now();
    expect(await systemResolver(300)('no-such-name.invalid')).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
