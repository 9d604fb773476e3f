// SPEC §2 and §4: the rules a JSON schema cannot say, each failing field reported with its JSON pointer.
import { describe, expect, it } from 'vitest';
import { DEFAULT_FIELDS } from '../../../src/api-clients/resource/mapping.js';
import {
  apiClientErrors,
  clientIdErrors,
  normaliseFields,
  type RuleContext,
} from '../../../src/api-clients/resource/rules.js';
import type { ApiClientFields } from '../../../src/api-clients/resource/schema.js';

const context: RuleContext = {
  accountId: 'acme',
  catalogue: new Set(['datahub-api', 'push-data']),
  roleCatalogue: new Set(['insights-editor', 'insights-viewer']),
  allowWildcardWebOrigin: false,
};
const ROOT = 'https://app.example.com';

/** A browser app with a rootUrl, which every rule accepts. */
const webApp: ApiClientFields = { ...DEFAULT_FIELDS, capabilityTypes: ['WebApp'], rootUrl: ROOT };
/** A script: no browser flow, no rootUrl. */
const script: ApiClientFields = { ...DEFAULT_FIELDS, capabilityTypes: ['Script'] };

const pointersOf = (fields: ApiClientFields, ctx: RuleContext = context) =>
  apiClientErrors(fields, ctx)
    .map((error) => error.pointer)
    .sort();

const backchannel = (url: string) => ({ url, sessionRequired: true, revokeOfflineSessions: false });

describe('clientIdErrors', () => {
  it.each([
    'acme_a',
    'acme_reporting-job',
    'acme_Nightly.Job_2',
    'acme_...',
    'acme___',
    'acme_0',
    `acme_${'a'.repeat(250)}`, // 255 characters
  ])('accepts %s', (clientId) => {
    expect(clientIdErrors(clientId, 'acme')).toEqual([]);
  });

  it.each([
    ['another account', 'globex_app'],
    ['no separator', 'acmeapp'],
    ['a dash for the separator', 'acme-app'],
    ['an account that only starts like it', 'acme-eu_app'],
    ['a longer account', 'acmee_app'],
    ['a different case', 'ACME_app'],
    ['the prefix later on', 'x_acme_app'],
    ['nothing at all', ''],
    ['nothing after the prefix', 'acme_'],
    ['a space', 'acme_my app'],
    ['a slash', 'acme_app/1'],
    ['a colon', 'acme_app:1'],
    ['a letter outside ASCII', 'acme_café'],
    ['a trailing newline', 'acme_app\n'],
    ['a "*"', 'acme_app*'],
    ['256 characters', `acme_${'a'.repeat(251)}`],
  ])('refuses %s (%s)', (_why, clientId) => {
    const errors = clientIdErrors(clientId, 'acme');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ pointer: '/clientId', in: 'body' });
    expect(errors[0]?.reason).toEqual(expect.any(String));
  });

  it('names the prefix the client ID must have', () => {
    expect(clientIdErrors('globex_app', 'acme')[0]?.reason).toContain('acme_');
    expect(clientIdErrors('acme-eu_app', 'acme-eu')).toEqual([]);
  });
});

interface Case {
  name: string;
  fields: ApiClientFields;
  /** The pointers of the errors, every one (sorted); [] for a valid resource. */
  errors: string[];
  ctx?: RuleContext;
}

const ok = (name: string, fields: ApiClientFields, ctx?: RuleContext): Case => ({
  name,
  fields,
  errors: [],
  ctx,
});
const bad = (name: string, fields: ApiClientFields, ...errors: string[]): Case => ({ name, fields, errors });

const cases: Case[] = [
  // the valid ones
  ok('a script with defaults', script),
  ok('a web app with defaults', { ...DEFAULT_FIELDS, capabilityTypes: ['WebApp'] }),
  ok('both capability types', { ...webApp, capabilityTypes: ['WebApp', 'Script'] }),
  ok('a complete web app', {
    displayName: 'Portal',
    description: 'The customer portal',
    rootUrl: ROOT,
    homeUrl: '/home',
    adminUrl: 'https://app.example.com/admin',
    redirectUris: ['/callback', 'http://localhost:3000/*', 'https://app.example.com/cb?x=1'],
    postLogoutRedirectUris: ['+', 'https://app.example.com/bye'],
    webOrigins: ['+', 'http://localhost:3000', 'https://app.example.com'],
    capabilityTypes: ['WebApp', 'Script'],
    backchannelLogout: backchannel('https://app.example.com/backchannel'),
    scopes: ['datahub-api', 'push-data'],
    roles: ['insights-viewer'],
    enabled: false,
    credential: { type: 'secret', expiresAt: null },
    tokenSettings: { accessTokenLifetimeSeconds: null, requireDpop: true },
  }),

  // rootUrl and adminUrl: absolute http(s)
  ...(['rootUrl', 'adminUrl'] as const).flatMap((field) => [
    ok(`${field} https`, { ...script, [field]: 'https://app.example.com' }),
    ok(`${field} with a port and a path`, { ...script, [field]: 'https://app.example.com:8443/app/' }),
    bad(`${field} without a scheme`, { ...script, [field]: 'app.example.com' }, `/${field}`),
    bad(`${field} a path`, { ...script, [field]: '/app' }, `/${field}`),
    bad(`${field} ftp`, { ...script, [field]: 'ftp://files.example.com' }, `/${field}`),
    bad(`${field} mailto`, { ...script, [field]: 'mailto:ops@example.com' }, `/${field}`),
    bad(`${field} javascript`, { ...script, [field]: 'javascript:alert(1)' }, `/${field}`),
    bad(`${field} no host`, { ...script, [field]: 'https://' }, `/${field}`),
    bad(`${field} text`, { ...script, [field]: 'not a url' }, `/${field}`),
  ]),
  ok('rootUrl http on localhost', { ...script, rootUrl: 'http://localhost:8080/app/' }),
  ok('rootUrl an IP address', { ...script, rootUrl: 'http://127.0.0.1:3000' }),
  // URLs Keycloak's server calls: https to public hosts only (url-safety.test.ts has every form)
  bad('adminUrl http', { ...script, adminUrl: 'http://app.example.com/admin' }, '/adminUrl'),
  bad('adminUrl on localhost', { ...script, adminUrl: 'https://localhost:8080/app/' }, '/adminUrl'),
  bad('adminUrl a private address', { ...script, adminUrl: 'https://10.0.0.5/admin' }, '/adminUrl'),
  ok(
    'adminUrl http when configuration allows it',
    { ...script, adminUrl: 'http://app.example.com/admin' },
    { ...context, urlSafety: { allowHttp: true, internalSuffixes: [] } },
  ),
  bad('rootUrl with a query', { ...script, rootUrl: 'https://app.example.com/?a=1' }, '/rootUrl'),
  bad('rootUrl with a fragment', { ...script, rootUrl: 'https://app.example.com/#a' }, '/rootUrl'),
  bad('rootUrl with "*"', { ...script, rootUrl: 'https://app.example.com/*' }, '/rootUrl'),
  bad('rootUrl in capitals', { ...script, rootUrl: 'HTTPS://App.example.com' }, '/rootUrl'),
  bad('homeUrl with user info', { ...script, homeUrl: 'https://u:p@app.example.com/' }, '/homeUrl'),
  bad(
    'redirectUris with an empty port',
    { ...webApp, redirectUris: ['https://app.example.com:/cb'] },
    '/redirectUris/0',
  ),
  bad(
    'redirectUris not in ASCII',
    { ...webApp, redirectUris: ['https://bücher.example/cb'] },
    '/redirectUris/0',
  ),
  bad(
    'postLogoutRedirectUris in capitals',
    { ...webApp, postLogoutRedirectUris: ['https://APP.example.com/bye'] },
    '/postLogoutRedirectUris/0',
  ),

  // homeUrl: absolute, or a /path that needs rootUrl
  ok('homeUrl absolute', { ...script, homeUrl: 'https://app.example.com/home' }),
  ok('homeUrl a path with rootUrl', { ...script, rootUrl: ROOT, homeUrl: '/home' }),
  ok('homeUrl "/" with rootUrl', { ...script, rootUrl: ROOT, homeUrl: '/' }),
  bad('homeUrl a path without rootUrl', { ...script, homeUrl: '/home' }, '/homeUrl'),
  bad('homeUrl relative without "/"', { ...script, rootUrl: ROOT, homeUrl: 'home' }, '/homeUrl'),
  bad('homeUrl text', { ...script, homeUrl: 'the home page' }, '/homeUrl'),

  // redirectUris
  ok('redirectUris absolute', { ...webApp, redirectUris: ['https://app.example.com/callback'] }),
  ok('redirectUris http on localhost', {
    ...webApp,
    rootUrl: null,
    redirectUris: ['http://localhost:3000/cb'],
  }),
  ok('redirectUris "*" at the end', { ...webApp, redirectUris: ['https://app.example.com/*'] }),
  ok('redirectUris a path with rootUrl', { ...webApp, redirectUris: ['/callback', '/*'] }),
  ok('redirectUris a query without "*"', {
    ...webApp,
    redirectUris: ['https://app.example.com/cb?tenant=1'],
  }),
  ok('redirectUris "*" before a "?" elsewhere', {
    ...webApp,
    redirectUris: ['https://app.example.com/a?x=1', 'https://app.example.com/b/*'],
  }),
  ok('redirectUris none on a web app', { ...webApp, redirectUris: [] }),
  bad(
    'redirectUris a path without rootUrl',
    { ...webApp, rootUrl: null, redirectUris: ['/callback'] },
    '/redirectUris/0',
  ),
  bad('redirectUris a bare "*"', { ...webApp, redirectUris: ['*'] }, '/redirectUris/0'),
  bad(
    'redirectUris "*" in the host',
    { ...webApp, redirectUris: ['https://*.example.com/cb'] },
    '/redirectUris/0',
  ),
  bad(
    'redirectUris "*" in the middle',
    { ...webApp, redirectUris: ['https://app.example.com/*/cb'] },
    '/redirectUris/0',
  ),
  bad(
    'redirectUris two "*"',
    { ...webApp, redirectUris: ['https://app.example.com/*/*'] },
    '/redirectUris/0',
  ),
  bad(
    'redirectUris a fragment',
    { ...webApp, redirectUris: ['https://app.example.com/cb#done'] },
    '/redirectUris/0',
  ),
  bad(
    'redirectUris an empty fragment',
    { ...webApp, redirectUris: ['https://app.example.com/cb#'] },
    '/redirectUris/0',
  ),
  bad(
    'redirectUris "*" after "?"',
    { ...webApp, redirectUris: ['https://app.example.com/cb?next=*'] },
    '/redirectUris/0',
  ),
  bad(
    'redirectUris "*" right after "?"',
    { ...webApp, redirectUris: ['https://app.example.com/cb?*'] },
    '/redirectUris/0',
  ),
  bad('redirectUris no scheme', { ...webApp, redirectUris: ['app.example.com/cb'] }, '/redirectUris/0'),
  bad('redirectUris ftp', { ...webApp, redirectUris: ['ftp://app.example.com/cb'] }, '/redirectUris/0'),
  bad(
    'redirectUris a custom scheme',
    { ...webApp, redirectUris: ['javascript:alert(1)'] },
    '/redirectUris/0',
  ),
  bad('redirectUris "//host"', { ...webApp, redirectUris: ['//evil.example.com/cb'] }, '/redirectUris/0'),
  bad(
    'redirectUris white space',
    { ...webApp, redirectUris: ['https://app.example.com/a b'] },
    '/redirectUris/0',
  ),
  bad('redirectUris "+"', { ...webApp, redirectUris: ['+'] }, '/redirectUris/0'),
  bad('redirectUris ""', { ...webApp, redirectUris: [''] }, '/redirectUris/0'),
  bad(
    'redirectUris the failing index',
    { ...webApp, redirectUris: ['https://app.example.com/ok', '/fine', 'https://app.example.com/#x'] },
    '/redirectUris/2',
  ),
  bad(
    'redirectUris each failing index',
    { ...webApp, redirectUris: ['*', 'https://app.example.com/ok', 'https://a.example.com/*/x'] },
    '/redirectUris/0',
    '/redirectUris/2',
  ),
  bad(
    'redirectUris a duplicate',
    {
      ...webApp,
      redirectUris: ['https://a.example.com/cb', 'https://b.example.com/cb', 'https://a.example.com/cb'],
    },
    '/redirectUris/2',
  ),
  bad(
    'redirectUris on a script',
    { ...script, redirectUris: ['https://app.example.com/cb'] },
    '/redirectUris',
  ),

  // postLogoutRedirectUris: the redirect URI rules, plus "+"
  ok('postLogoutRedirectUris absolute', {
    ...webApp,
    postLogoutRedirectUris: ['https://app.example.com/bye'],
  }),
  ok('postLogoutRedirectUris a path and "*"', {
    ...webApp,
    postLogoutRedirectUris: ['/bye', '/logged-out/*'],
  }),
  ok('postLogoutRedirectUris "+" with redirect URIs', {
    ...webApp,
    redirectUris: ['https://app.example.com/cb'],
    postLogoutRedirectUris: ['+'],
  }),
  ok('postLogoutRedirectUris "+" and more', {
    ...webApp,
    redirectUris: ['/cb'],
    postLogoutRedirectUris: ['+', 'https://other.example.com/bye'],
  }),
  ok('postLogoutRedirectUris none', { ...webApp, redirectUris: ['/cb'], postLogoutRedirectUris: [] }),
  bad(
    'postLogoutRedirectUris "+" without redirect URIs',
    { ...webApp, postLogoutRedirectUris: ['+'] },
    '/postLogoutRedirectUris',
  ),
  bad(
    'postLogoutRedirectUris a path without rootUrl',
    { ...webApp, rootUrl: null, postLogoutRedirectUris: ['/bye'] },
    '/postLogoutRedirectUris/0',
  ),
  bad(
    'postLogoutRedirectUris a bare "*"',
    { ...webApp, postLogoutRedirectUris: ['*'] },
    '/postLogoutRedirectUris/0',
  ),
  bad(
    'postLogoutRedirectUris "*" in the middle',
    { ...webApp, postLogoutRedirectUris: ['https://*.example.com/bye'] },
    '/postLogoutRedirectUris/0',
  ),
  bad(
    'postLogoutRedirectUris a fragment',
    { ...webApp, postLogoutRedirectUris: ['https://app.example.com/bye#x'] },
    '/postLogoutRedirectUris/0',
  ),
  bad(
    'postLogoutRedirectUris "*" after "?"',
    { ...webApp, postLogoutRedirectUris: ['https://app.example.com/bye?x=*'] },
    '/postLogoutRedirectUris/0',
  ),
  bad(
    'postLogoutRedirectUris no scheme',
    { ...webApp, postLogoutRedirectUris: ['bye'] },
    '/postLogoutRedirectUris/0',
  ),
  bad(
    'postLogoutRedirectUris "-" (Keycloak\'s own marker)',
    { ...webApp, postLogoutRedirectUris: ['-'] },
    '/postLogoutRedirectUris/0',
  ),
  bad(
    'postLogoutRedirectUris the failing index',
    { ...webApp, redirectUris: ['/cb'], postLogoutRedirectUris: ['+', '/ok', 'https://x.example.com/#y'] },
    '/postLogoutRedirectUris/2',
  ),
  bad(
    'postLogoutRedirectUris a duplicate',
    { ...webApp, postLogoutRedirectUris: ['/bye', '/bye'] },
    '/postLogoutRedirectUris/1',
  ),
  bad(
    'postLogoutRedirectUris "+" twice',
    { ...webApp, redirectUris: ['/cb'], postLogoutRedirectUris: ['+', '+'] },
    '/postLogoutRedirectUris/1',
  ),
  bad(
    'postLogoutRedirectUris on a script',
    { ...script, postLogoutRedirectUris: ['https://app.example.com/bye'] },
    '/postLogoutRedirectUris',
  ),

  // webOrigins: origins only, "+", "*" only when configuration allows it
  ok('webOrigins https', { ...webApp, webOrigins: ['https://app.example.com'] }),
  ok('webOrigins http with a port', { ...webApp, webOrigins: ['http://localhost:3000'] }),
  ok('webOrigins an IPv6 host', { ...webApp, webOrigins: ['http://[::1]:8080'] }),
  ok('webOrigins "+"', { ...webApp, redirectUris: ['/cb'], webOrigins: ['+'] }),
  ok('webOrigins several', {
    ...webApp,
    webOrigins: ['+', 'https://a.example.com', 'https://b.example.com:8443'],
  }),
  ok(
    'webOrigins "*" when configuration allows it',
    { ...webApp, webOrigins: ['*'] },
    { ...context, allowWildcardWebOrigin: true },
  ),
  bad('webOrigins "*"', { ...webApp, webOrigins: ['*'] }, '/webOrigins/0'),
  bad('webOrigins a trailing "/"', { ...webApp, webOrigins: ['https://app.example.com/'] }, '/webOrigins/0'),
  bad('webOrigins a path', { ...webApp, webOrigins: ['https://app.example.com/app'] }, '/webOrigins/0'),
  bad('webOrigins a query', { ...webApp, webOrigins: ['https://app.example.com?x=1'] }, '/webOrigins/0'),
  bad('webOrigins a fragment', { ...webApp, webOrigins: ['https://app.example.com#x'] }, '/webOrigins/0'),
  bad('webOrigins no scheme', { ...webApp, webOrigins: ['app.example.com'] }, '/webOrigins/0'),
  bad('webOrigins a path alone', { ...webApp, webOrigins: ['/app'] }, '/webOrigins/0'),
  bad('webOrigins ftp', { ...webApp, webOrigins: ['ftp://files.example.com'] }, '/webOrigins/0'),
  bad('webOrigins ""', { ...webApp, webOrigins: [''] }, '/webOrigins/0'),
  bad(
    'webOrigins the failing index',
    { ...webApp, webOrigins: ['https://a.example.com', 'https://b.example.com/'] },
    '/webOrigins/1',
  ),
  bad(
    'webOrigins a duplicate',
    { ...webApp, webOrigins: ['https://a.example.com', 'https://a.example.com'] },
    '/webOrigins/1',
  ),
  bad('webOrigins on a script', { ...script, webOrigins: ['https://app.example.com'] }, '/webOrigins'),

  // backchannelLogout: only with WebApp, url absolute http(s)
  ok('backchannelLogout on a web app', {
    ...webApp,
    backchannelLogout: backchannel('https://app.example.com/bc'),
  }),
  bad(
    'backchannelLogout http on localhost',
    { ...webApp, backchannelLogout: backchannel('http://localhost:8081/bc') },
    '/backchannelLogout/url',
  ),
  bad(
    'backchannelLogout to cloud metadata',
    { ...webApp, backchannelLogout: backchannel('https://169.254.169.254/latest') },
    '/backchannelLogout/url',
  ),
  ok('backchannelLogout null on a script', { ...script, backchannelLogout: null }),
  bad(
    'backchannelLogout on a script',
    { ...script, backchannelLogout: backchannel('https://app.example.com/bc') },
    '/backchannelLogout',
  ),
  bad(
    'backchannelLogout an empty url',
    { ...webApp, backchannelLogout: backchannel('') },
    '/backchannelLogout/url',
  ),
  bad(
    'backchannelLogout a path',
    { ...webApp, backchannelLogout: backchannel('/bc') },
    '/backchannelLogout/url',
  ),
  bad(
    'backchannelLogout no scheme',
    { ...webApp, backchannelLogout: backchannel('app.example.com/bc') },
    '/backchannelLogout/url',
  ),
  bad(
    'backchannelLogout ftp',
    { ...webApp, backchannelLogout: backchannel('ftp://app.example.com/bc') },
    '/backchannelLogout/url',
  ),
  bad(
    'backchannelLogout on a script, with a bad url',
    { ...script, backchannelLogout: backchannel('nope') },
    '/backchannelLogout',
    '/backchannelLogout/url',
  ),

  // scopes: from the catalogue, no repeats
  ok('scopes one', { ...script, scopes: ['datahub-api'] }),
  ok('scopes the whole catalogue', { ...script, scopes: ['push-data', 'datahub-api'] }),
  bad('scopes unknown', { ...script, scopes: ['admin'] }, '/scopes/0'),
  bad('scopes a realm default', { ...script, scopes: ['datahub-api', 'profile'] }, '/scopes/1'),
  bad('scopes a different case', { ...script, scopes: ['Datahub-API'] }, '/scopes/0'),
  bad('scopes ""', { ...script, scopes: [''] }, '/scopes/0'),
  bad('scopes a repeat', { ...script, scopes: ['push-data', 'datahub-api', 'push-data'] }, '/scopes/2'),
  {
    name: 'scopes with an empty catalogue',
    fields: { ...script, scopes: ['datahub-api'] },
    errors: ['/scopes/0'],
    ctx: { ...context, catalogue: new Set() },
  },

  // roles: from the role catalogue, no repeats; one the client holds may stay after leaving it
  ok('roles one', { ...script, roles: ['insights-viewer'] }),
  ok('roles the whole catalogue', { ...script, roles: ['insights-editor', 'insights-viewer'] }),
  ok('roles on a web app', { ...DEFAULT_FIELDS, capabilityTypes: ['WebApp'], roles: ['insights-editor'] }),
  bad('roles a privileged role', { ...script, roles: ['platform-admin'] }, '/roles/0'),
  bad(
    'roles the service admin role',
    { ...script, roles: ['insights-viewer', 'api-clients-admin'] },
    '/roles/1',
  ),
  bad('roles offline_access', { ...script, roles: ['offline_access'] }, '/roles/0'),
  bad(
    'roles unknown',
    { ...script, roles: ['nope', 'insights-viewer', 'also-nope'] },
    '/roles/0',
    '/roles/2',
  ),
  bad('roles a repeat', { ...script, roles: ['insights-viewer', 'insights-viewer'] }, '/roles/1'),
  {
    name: 'roles a held role out of the catalogue may stay',
    fields: { ...script, roles: ['retired', 'insights-viewer'] },
    errors: [],
    ctx: { ...context, heldRoles: new Set(['retired']) },
  },
  {
    name: 'roles a role out of the catalogue is never added',
    fields: { ...script, roles: ['retired'] },
    errors: ['/roles/0'],
    ctx: { ...context, heldRoles: new Set(['insights-viewer']) },
  },
];

describe('apiClientErrors', () => {
  it.each(cases)('$name', ({ fields, errors, ctx }) => {
    expect(pointersOf(fields, ctx)).toEqual([...errors].sort());
  });

  it('answers every error as a body field with a reason', () => {
    const errors = apiClientErrors({ ...script, rootUrl: 'nope', scopes: ['x'] }, context);
    expect(errors).toEqual([
      { pointer: '/rootUrl', in: 'body', reason: expect.stringMatching(/http/) },
      { pointer: '/scopes/0', in: 'body', reason: expect.stringContaining('datahub-api') },
    ]);
  });

  it('reports every failing field at once, each with its JSON pointer', () => {
    const errors = apiClientErrors(
      {
        ...webApp,
        rootUrl: 'ftp://app.example.com', // 1
        redirectUris: ['https://app.example.com/cb#fragment'], // 2
        webOrigins: ['https://app.example.com/'], // 3
        backchannelLogout: backchannel('not a url'), // 4
        scopes: ['datahub-api', 'no-such-scope'], // 5
      },
      context,
    );
    expect(errors).toHaveLength(5);
    expect(errors.map((e) => e.pointer).sort()).toEqual(
      ['/rootUrl', '/redirectUris/0', '/webOrigins/0', '/backchannelLogout/url', '/scopes/1'].sort(),
    );
    for (const error of errors) {
      expect(error.in).toBe('body');
      expect(error.reason.length).toBeGreaterThan(0);
    }
  });

  it('reports everything wrong with a script that has browser settings', () => {
    expect(
      pointersOf({
        ...script,
        adminUrl: 'admin',
        homeUrl: '/home',
        redirectUris: ['https://app.example.com/cb'],
        postLogoutRedirectUris: ['https://app.example.com/bye'],
        webOrigins: ['https://app.example.com'],
        backchannelLogout: backchannel('https://app.example.com/bc'),
        scopes: ['push-data', 'push-data'],
      }),
    ).toEqual(
      [
        '/adminUrl',
        '/homeUrl',
        '/redirectUris',
        '/postLogoutRedirectUris',
        '/webOrigins',
        '/backchannelLogout',
        '/scopes/1',
      ].sort(),
    );
  });
});

describe('normaliseFields', () => {
  const text = ['displayName', 'description', 'rootUrl', 'homeUrl', 'adminUrl'] as const;

  it.each(text.flatMap((field) => ['', ' ', '   ', '\t', '\n \r\n'].map((blank) => [field, blank] as const)))(
    'turns %s %j into null',
    (field, blank) => {
      expect(normaliseFields({ ...script, [field]: blank })[field]).toBeNull();
    },
  );

  it.each(text)('keeps a non-blank %s and null', (field) => {
    expect(normaliseFields({ ...script, [field]: 'https://x.example.com' })[field]).toBe(
      'https://x.example.com',
    );
    expect(normaliseFields({ ...script, [field]: null })[field]).toBeNull();
  });

  it('leaves the other fields alone', () => {
    const fields: ApiClientFields = {
      ...webApp,
      displayName: ' ',
      redirectUris: ['/cb', ''],
      postLogoutRedirectUris: ['+'],
      webOrigins: ['+'],
      capabilityTypes: ['WebApp', 'Script'],
      backchannelLogout: backchannel(''),
      scopes: ['push-data'],
      enabled: false,
    };
    expect(normaliseFields(fields)).toEqual({ ...fields, displayName: null });
    expect(fields.displayName).toBe(' '); // the input is not changed
  });

  it('so that a blank rootUrl is no rootUrl for the path rules', () => {
    const fields = normaliseFields({ ...webApp, rootUrl: '  ', homeUrl: '/home', redirectUris: ['/cb'] });
    expect(pointersOf(fields)).toEqual(['/homeUrl', '/redirectUris/0']);
  });
});

describe('non-absolute URLs that the WHATWG parser would repair are refused', () => {
  // new URL() drops white space around a URL and fills in a missing "//" for http(s); Keycloak
  // compares or resolves the stored string, e.g. "https:app.example.com/cb" never matches a redirect.
  it.each<[string, ApiClientFields, string]>([
    ['rootUrl without "//"', { ...script, rootUrl: 'https:app.example.com' }, '/rootUrl'],
    ['rootUrl with a trailing space', { ...script, rootUrl: 'https://app.example.com ' }, '/rootUrl'],
    ['adminUrl with one "/"', { ...script, adminUrl: 'http:/app.example.com' }, '/adminUrl'],
    ['homeUrl without "//"', { ...script, homeUrl: 'https:app.example.com/home' }, '/homeUrl'],
    [
      'a redirect URI without "//"',
      { ...webApp, redirectUris: ['https:app.example.com/cb'] },
      '/redirectUris/0',
    ],
    [
      'a redirect URI with back slashes',
      { ...webApp, redirectUris: ['https:\\\\app.example.com\\cb'] },
      '/redirectUris/0',
    ],
    [
      'a back-channel URL with a leading space',
      { ...webApp, backchannelLogout: backchannel(' https://app.example.com/bc') },
      '/backchannelLogout/url',
    ],
  ])('refuses %s', (_name, fields, pointer) => {
    expect(pointersOf(fields)).toEqual([pointer]);
  });
});

describe('a web origin with "*" in its host is refused', () => {
  // "*.example.com" is no host, and Keycloak compares web origins exactly (only a bare "*" is a
  // wildcard): the entry would be stored and never honoured. SPEC §2: origins scheme://host[:port].
  it.each([
    ['a wildcard subdomain', 'https://*.example.com'],
    ['a "*" after the host', 'https://app.example.com*'],
  ])('refuses %s (%s)', (_name, origin) => {
    expect(pointersOf({ ...webApp, webOrigins: [origin] })).toEqual(['/webOrigins/0']);
  });
});

describe('wildcards and origins Keycloak would match more loosely than written', () => {
  it.each([
    ['https://app.example.com*', ['/redirectUris/0']],
    ['https://app.example.com.*', ['/redirectUris/0']],
    ['https://app.example.com/*', []],
    ['https://app.example.com/app*', []],
  ])('redirect URI %s gives %j', (uri, pointers) => {
    expect(pointersOf({ ...webApp, redirectUris: [uri] })).toEqual(pointers);
  });

  it('tells how to write an origin the way browsers send it', () => {
    const errors = apiClientErrors(
      { ...webApp, webOrigins: ['https://App.example.com', 'https://app.example.com:443'] },
      context,
    );
    expect(errors.map((e) => e.reason)).toEqual([
      'must be written as browsers send it: https://app.example.com',
      'must be written as browsers send it: https://app.example.com',
    ]);
  });
});
