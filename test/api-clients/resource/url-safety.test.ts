// SPEC §2 "URLs Keycloak calls" and "URLs browsers use", one row per form.
import { describe, expect, it } from 'vitest';
import {
  allowedOrigin,
  browserUrlReason,
  keycloakCalledUrlReason,
  rootUrlReason,
  STRICT_URL_SAFETY,
} from '../../../src/api-clients/resource/url-safety.js';
import { INTERNAL_TARGETS } from '../../security/internal-targets.js';

describe('keycloakCalledUrlReason', () => {
  it.each(INTERNAL_TARGETS)('refuses %s: %s', (_why, url) => {
    expect(keycloakCalledUrlReason(url, STRICT_URL_SAFETY)).toEqual(expect.any(String));
  });

  it.each([
    'https://app.example.com/logout',
    'https://app.example.com:8443/backchannel?tenant=1',
    'https://8.8.8.8/logout',
    'https://[2606:4700:4700::1111]/logout',
    'https://xn--bcher-kva.example.com/logout',
    'https://local.example.com/logout',
    'https://internal.example.com/logout',
  ])('accepts %s', (url) => {
    expect(keycloakCalledUrlReason(url, STRICT_URL_SAFETY)).toBeUndefined();
  });

  it.each([
    'https://8.8.8.8.nip.io/logout',
    'https://deadbeef.example.com/logout',
    'https://receiver.example.co.uk/logout',
    'https://app.example.dev/logout',
  ])('accepts the public name %s', (url) => {
    expect(keycloakCalledUrlReason(url, STRICT_URL_SAFETY)).toBeUndefined();
  });

  it('says why a name is internal', () => {
    const reason = (url: string) => keycloakCalledUrlReason(url, STRICT_URL_SAFETY);
    expect(reason('https://kubernetes.default.svc/x')).toContain(
      '"svc", which is not a public top-level domain',
    );
    expect(reason('https://x.home.arpa/x')).toContain('"arpa"');
    expect(reason('https://10.0.0.1.sslip.io/x')).toContain('spells the address 10.0.0.1');
    expect(reason('https://app-7f000001.nip.io/x')).toContain('127.0.0.1');
  });

  it('lets an allowed origin through exactly: its scheme, host and port, plain http and internal hosts too', () => {
    const options = {
      ...STRICT_URL_SAFETY,
      allowedOrigins: ['http://127.0.0.1:8089', 'https://receiver.corp:443'].map(
        (entry) => allowedOrigin(entry) as string,
      ),
    };
    const reason = (url: string) => keycloakCalledUrlReason(url, options);
    expect(reason('http://127.0.0.1:8089/logout')).toBeUndefined();
    expect(reason('https://receiver.corp/logout')).toBeUndefined();
    expect(reason('https://receiver.corp:443/logout')).toBeUndefined();
    expect(reason('http://127.0.0.1:8088/logout')).toEqual(expect.any(String));
    expect(reason('https://127.0.0.1:8089/logout')).toEqual(expect.any(String));
    expect(reason('https://receiver.corp:8443/logout')).toEqual(expect.any(String));
    expect(reason('http://receiver.corp/logout')).toEqual(expect.any(String));
    expect(reason('https://user:pw@receiver.corp/logout')).toContain('user name');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Keycloak's placeholder, as a customer would send it
    expect(reason('https://receiver.corp/${application.session.host}')).toContain('placeholder');
  });

  it.each([
    ['http://127.0.0.1:8089', 'http://127.0.0.1:8089'],
    ['HTTPS://Receiver.Example.com:443', 'https://receiver.example.com:443'],
    ['https://[::1]:9000', 'https://[::1]:9000'],
    ['https://receiver.example.com', undefined],
    ['https://receiver.example.com:443/', undefined],
    ['https://receiver.example.com:443/path', undefined],
    ['https://*.example.com:443', undefined],
    ['https://user@receiver.example.com:443', undefined],
    ['ftp://receiver.example.com:21', undefined],
    ['https://receiver.example.com:99999', undefined],
  ])('reads the allowed origin %s as %s', (entry, expected) => {
    expect(allowedOrigin(entry)).toBe(expected);
  });

  it('says what is wrong', () => {
    const reason = (url: string) => keycloakCalledUrlReason(url, STRICT_URL_SAFETY);
    expect(reason('https://10.0.0.5/x')).toContain('private');
    expect(reason('https://2130706433/x')).toContain('loopback');
    expect(reason('https://[::ffff:127.0.0.1]/x')).toContain('ipv4Mapped');
    expect(reason('https://app.internal/x')).toContain('internal');
    expect(reason('http://app.example.com/x')).toContain('https');
  });

  it('takes http and internal suffixes from configuration', () => {
    const dev = { allowHttp: true, internalSuffixes: ['corp.example.com', '.svc'] };
    expect(keycloakCalledUrlReason('http://app.example.com/x', dev)).toBeUndefined();
    expect(keycloakCalledUrlReason('http://10.0.0.5/x', dev)).toEqual(expect.any(String));
    expect(keycloakCalledUrlReason('https://billing.corp.example.com/x', dev)).toContain('corp.example.com');
    expect(keycloakCalledUrlReason('https://corp.example.com/x', dev)).toContain('corp.example.com');
    expect(keycloakCalledUrlReason('https://api.default.svc/x', dev)).toContain('svc');
    expect(keycloakCalledUrlReason('https://notcorp.example.com/x', dev)).toBeUndefined();
    expect(keycloakCalledUrlReason('http://app.example.com/x', STRICT_URL_SAFETY)).toEqual(
      expect.any(String),
    );
  });

  it('wants the host written as it is called', () => {
    expect(keycloakCalledUrlReason('https://App.Example.com/x', STRICT_URL_SAFETY)).toContain(
      'app.example.com',
    );
    expect(keycloakCalledUrlReason('https://0x08.0x08.0x08.0x08/x', STRICT_URL_SAFETY)).toContain('8.8.8.8');
    expect(keycloakCalledUrlReason('https://bücher.example.com/x', STRICT_URL_SAFETY)).toContain(
      'xn--bcher-kva.example',
    );
  });
});

describe('browserUrlReason', () => {
  it.each([
    ['an uppercase scheme', 'HTTPS://app.example.com/cb', 'lowercase'],
    ['an uppercase host', 'https://App.Example.com/cb', 'app.example.com'],
    ['a host outside ASCII', 'https://bücher.example/cb', 'xn--bcher-kva.example'],
    ['user info', 'https://user@app.example.com/cb', 'user name'],
    ['user and password', 'https://user:pw@app.example.com/cb', 'user name'],
    ['an empty port', 'https://app.example.com:/cb', 'empty port'],
    ['a numeric spelling of an address', 'http://0x7f.1:3000/cb', '127.0.0.1'],
  ])('refuses %s', (_why, url, hint) => {
    expect(browserUrlReason(url)).toContain(hint);
  });

  it.each([
    'https://app.example.com/cb',
    'http://localhost:3000/cb',
    'http://127.0.0.1:3000/cb',
    'https://[::1]:3000/cb',
    'https://xn--bcher-kva.example/Callback?State=A',
  ])('accepts %s', (url) => {
    expect(browserUrlReason(url)).toBeUndefined();
  });
});

describe('rootUrlReason', () => {
  it.each([
    ['a query', 'https://app.example.com/?x=1'],
    ['a fragment', 'https://app.example.com/#top'],
    ['a wildcard', 'https://app.example.com/*'],
    ['an uppercase host', 'https://APP.example.com'],
  ])('refuses %s', (_why, url) => {
    expect(rootUrlReason(url)).toEqual(expect.any(String));
  });

  it('accepts a plain base URL', () => {
    expect(rootUrlReason('https://app.example.com/base')).toBeUndefined();
  });
});
