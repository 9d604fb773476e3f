// The patterns the OpenAPI document states for clientId and the URL fields are coarse copies of
// rules.ts. Each must accept every value the rules accept (else the schema would refuse a client
// the service means to take), and where a value fails both, the answer gives the rule's reason:
// neither the pattern's text nor the null branch's "must be null".
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FIELDS } from '../../../src/api-clients/resource/mapping.js';
import {
  apiClientErrors,
  clientIdErrors,
  normaliseFields,
  type RuleContext,
} from '../../../src/api-clients/resource/rules.js';
import { ApiClientCreate, type ApiClientFields } from '../../../src/api-clients/resource/schema.js';
import { clientsUrl, startTestApp, type TestApp, uniqueAccount } from '../../support/app.js';
import { keycloakAccountClientIds, userToken } from '../../support/keycloak.js';

/** The loosest context: http and "*" allowed, so that the patterns are checked against the most the rules take. */
const loosest: RuleContext = {
  accountId: 'acme',
  catalogue: new Set(),
  roleCatalogue: new Set(),
  allowWildcardWebOrigin: true,
  urlSafety: { allowHttp: true, internalSuffixes: [] },
};
const webApp: ApiClientFields = {
  ...DEFAULT_FIELDS,
  capabilityTypes: ['WebApp'],
  rootUrl: 'https://app.example.com',
  redirectUris: ['https://app.example.com/cb'],
};

/** Whether the rules accept `value` in one field, every other field valid. */
const accepts = (fields: Partial<ApiClientFields>, pointer: string) =>
  !apiClientErrors(normaliseFields({ ...webApp, ...fields }), loosest).some(
    (error) => error.pointer === pointer || error.pointer.startsWith(`${pointer}/`),
  );

/** The parts of a JSON schema these tests read. */
interface JsonSchema {
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  pattern?: string;
}
const property = (name: keyof typeof ApiClientCreate.properties): JsonSchema =>
  ApiClientCreate.properties[name] as JsonSchema;
/** The pattern of a string, a nullable string or a list of strings. */
const patternOf = (schema: JsonSchema) => {
  const pattern = (schema.anyOf?.[0] ?? schema.items ?? schema).pattern;
  if (!pattern) throw new Error('no pattern in the schema');
  return new RegExp(pattern, 'u');
};

const fields: [string, RegExp, (value: string) => boolean][] = [
  ['clientId', patternOf(property('clientId')), (v) => clientIdErrors(v, 'acme').length === 0],
  ['rootUrl', patternOf(property('rootUrl')), (v) => accepts({ rootUrl: v }, '/rootUrl')],
  ['homeUrl', patternOf(property('homeUrl')), (v) => accepts({ homeUrl: v }, '/homeUrl')],
  ['adminUrl', patternOf(property('adminUrl')), (v) => accepts({ adminUrl: v }, '/adminUrl')],
  [
    'backchannelLogout.url',
    patternOf(property('backchannelLogout').anyOf?.[0]?.properties?.url ?? {}),
    (v) =>
      accepts(
        { backchannelLogout: { url: v, sessionRequired: false, revokeOfflineSessions: false } },
        '/backchannelLogout',
      ),
  ],
  [
    'redirectUris',
    patternOf(property('redirectUris')),
    (v) => accepts({ redirectUris: [v] }, '/redirectUris'),
  ],
  [
    'postLogoutRedirectUris',
    patternOf(property('postLogoutRedirectUris')),
    (v) => accepts({ postLogoutRedirectUris: [v] }, '/postLogoutRedirectUris'),
  ],
  ['webOrigins', patternOf(property('webOrigins')), (v) => accepts({ webOrigins: [v] }, '/webOrigins')],
];

/** Strings shaped like what callers send, good and bad: schemes, hosts and tails of every kind. */
/** Well-formed absolute URLs with tails of every kind: most of what the rules accept is here. */
const plausible = fc
  .tuple(
    fc.constantFrom('https://', 'http://'),
    fc.constantFrom('app.example.com', 'example.com:8443', 'xn--caf-dma.example', 'a.b.example.org'),
    fc
      .array(fc.constantFrom('/', 'a', 'B', '-', '_', '.', '~', '?x=1', '&y', '#f', '*', '%20', ':'), {
        maxLength: 5,
      })
      .map((parts) => parts.join('')),
  )
  .map(([scheme, host, tail]) => scheme + host + tail);

const urlLike = fc.oneof(
  plausible,
  fc
    .tuple(
      fc.constantFrom(
        'https://',
        'http://',
        'HTTPS://',
        'Http://',
        'ftp://',
        'https:',
        '//',
        '/',
        '',
        ' ',
        'acme_',
      ),
      fc.constantFrom(
        'app.example.com',
        'example.com:8443',
        'App.Example.com',
        'xn--caf-dma.example',
        'café.example',
        'user@example.com',
        'a*b.example',
        '127.0.0.1',
        'localhost',
        'exa mple.com',
        'app',
        '',
      ),
      fc
        .array(
          fc.constantFrom(
            '/',
            'a',
            'B',
            '?',
            '#',
            '*',
            '\\',
            ' ',
            '+',
            '%20',
            // biome-ignore lint/suspicious/noTemplateCurlyInString: Keycloak's placeholder, which the rules refuse
            '${x}',
            ':',
            '.',
            '_',
            '-',
            '\n',
          ),
          {
            maxLength: 6,
          },
        )
        .map((parts) => parts.join('')),
    )
    .map(([scheme, host, tail]) => scheme + host + tail),
  fc.constantFrom('+', '*', '', '  ', '\t', '/', '//x', '/home', '/cb*', 'acme_x', 'acme_Nightly.Job_2'),
  fc.string({ maxLength: 20 }),
);

describe('the schema patterns accept every value the rules accept', () => {
  it.each(fields)('%s', (_name, pattern, rulesAccept) => {
    let accepted = 0;
    fc.assert(
      fc.property(urlLike, (value) => {
        if (!rulesAccept(value)) return true;
        accepted += 1;
        return pattern.test(value);
      }),
      { numRuns: 3000 },
    );
    // the generator does reach values the rules accept, so the property says something
    expect(accepted).toBeGreaterThan(20);
  });
});

describe('a value that fails a pattern and a rule', () => {
  let t: TestApp;
  let token: string;
  const account = uniqueAccount('pat');

  beforeAll(async () => {
    t = await startTestApp();
    token = await userToken('paula');
  });
  afterAll(() => t?.close());

  it('is answered with the rule reason, once per field, and nothing is created', async () => {
    const answer = await t.call<{ errors: { pointer: string; reason: string }[] }>(
      'POST',
      clientsUrl(account),
      {
        token,
        body: {
          clientId: `other_${account}`,
          capabilityTypes: ['WebApp'],
          rootUrl: 'ftp://files.example.com',
          redirectUris: ['app.example.com/cb'],
          webOrigins: ['https://app.example.com/'],
          backchannelLogout: { url: 'not a url', sessionRequired: false, revokeOfflineSessions: false },
        },
      },
    );
    expect(answer.status).toBe(400);
    const errors = [...answer.body.errors].sort((a, b) => a.pointer.localeCompare(b.pointer));
    expect(errors.map((e) => e.pointer)).toEqual([
      '/backchannelLogout/url',
      '/clientId',
      '/redirectUris/0',
      '/rootUrl',
      '/webOrigins/0',
    ]);
    for (const error of errors) {
      expect(error.reason).not.toMatch(/pattern|must be null/);
    }
    expect(errors.find((e) => e.pointer === '/clientId')?.reason).toContain(`${account}_`);
    expect(await keycloakAccountClientIds(account)).toEqual([]);
  });

  it('of the wrong type says which types the field takes', async () => {
    const answer = await t.call<{ errors: { pointer: string; reason: string }[] }>(
      'POST',
      clientsUrl(account),
      {
        token,
        body: { clientId: `${account}_typed`, capabilityTypes: ['WebApp'], rootUrl: 5 },
      },
    );
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      { pointer: '/rootUrl', in: 'body', reason: 'must be string or null' },
    ]);
  });
});
