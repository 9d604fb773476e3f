// Reading a request body (src/api-clients/resource/input.ts): a body that failed the schema is still read,
// so that the rules can report every other failing field in the same answer.
import { describe, expect, it } from 'vitest';
import { lenientFields } from '../../../src/api-clients/resource/input.js';
import { DEFAULT_FIELDS } from '../../../src/api-clients/resource/mapping.js';
import { apiClientErrors, type RuleContext } from '../../../src/api-clients/resource/rules.js';
import type { ApiClientFields } from '../../../src/api-clients/resource/schema.js';

const context: RuleContext = {
  accountId: 'acme',
  catalogue: new Set(['datahub-api', 'push-data']),
  roleCatalogue: new Set(['insights-editor', 'insights-viewer']),
  allowWildcardWebOrigin: false,
};
const webApp: ApiClientFields = {
  ...DEFAULT_FIELDS,
  capabilityTypes: ['WebApp'],
  rootUrl: 'https://app.example.com',
};
const backchannel = (url: string) => ({ url, sessionRequired: true, revokeOfflineSessions: false });
const pointersOf = (fields: ApiClientFields) =>
  apiClientErrors(fields, context)
    .map((error) => error.pointer)
    .sort();

describe('lenientFields (reading a body that failed the schema)', () => {
  const base: ApiClientFields = {
    ...webApp,
    displayName: 'Base',
    redirectUris: ['https://base.example.com/cb'],
    webOrigins: ['https://base.example.com'],
    backchannelLogout: backchannel('https://base.example.com/bc'),
    scopes: ['datahub-api'],
  };

  it.each<[string, unknown, Partial<ApiClientFields>]>([
    ['null as the base', null, {}],
    ['an array as the base', ['x'], {}],
    ['a string as the base', 'body', {}],
    ['an empty object as the base', {}, {}],
    ['a number for text as the base value', { displayName: 5, rootUrl: true }, {}],
    ['an object for text as the base value', { description: { a: 1 } }, {}],
    ['null for text as null', { displayName: null, rootUrl: null }, { displayName: null, rootUrl: null }],
    ['a string for text as it is', { displayName: '', homeUrl: '/x' }, { displayName: '', homeUrl: '/x' }],
    ['a string for a list as the base list', { redirectUris: 'https://a.example.com/cb' }, {}],
    [
      'null for a list (a merge patch reset) as no list',
      { webOrigins: null, scopes: null },
      { webOrigins: [], scopes: [] },
    ],
    [
      'list items of the wrong type as "", keeping indexes',
      { redirectUris: ['https://a.example.com/cb', 7, null, { u: 1 }, 'https://b.example.com/cb'] },
      { redirectUris: ['https://a.example.com/cb', '', '', '', 'https://b.example.com/cb'] },
    ],
    [
      'an empty list as empty',
      { postLogoutRedirectUris: [], scopes: [] },
      { postLogoutRedirectUris: [], scopes: [] },
    ],
    ['scopes of the wrong type as ""', { scopes: [1, 'push-data'] }, { scopes: ['', 'push-data'] }],
    [
      'unknown capability types left out',
      { capabilityTypes: ['Script', 'Robot'] },
      { capabilityTypes: ['Script'] },
    ],
    ['no known capability type as the base', { capabilityTypes: ['Robot', 3] }, {}],
    ['capabilityTypes not a list as the base', { capabilityTypes: 'Script' }, {}],
    ['enabled not a boolean as the base', { enabled: 'false' }, {}],
    ['enabled false', { enabled: false }, { enabled: false }],
    ['backchannelLogout null as null', { backchannelLogout: null }, { backchannelLogout: null }],
    ['backchannelLogout a string as the base', { backchannelLogout: 'on' }, {}],
    [
      'backchannelLogout with a url of the wrong type keeps the base url',
      { backchannelLogout: { url: 42, sessionRequired: 'yes', revokeOfflineSessions: true } },
      {
        backchannelLogout: {
          url: 'https://base.example.com/bc',
          sessionRequired: false,
          revokeOfflineSessions: true,
        },
      },
    ],
    [
      'backchannelLogout with a url',
      { backchannelLogout: { url: 'nope' } },
      { backchannelLogout: { url: 'nope', sessionRequired: false, revokeOfflineSessions: false } },
    ],
    ['members it does not know ignored', { clientId: 'acme_x', secret: 's', extra: 1 }, {}],
  ])('reads %s', (_name, raw, expected) => {
    expect(lenientFields(raw, base)).toEqual({ ...base, ...expected });
  });

  it('uses "" for the url when neither the body nor the base has one', () => {
    expect(
      lenientFields({ backchannelLogout: {} }, { ...base, backchannelLogout: null }).backchannelLogout,
    ).toEqual({
      url: '',
      sessionRequired: false,
      revokeOfflineSessions: false,
    });
  });

  it('lets the rules report the other fields, at the right indexes', () => {
    const fields = lenientFields(
      {
        displayName: 12, // a schema error: the base is used
        redirectUris: [3, 'https://app.example.com/cb#x'],
        webOrigins: ['https://app.example.com/'],
        scopes: ['nope'],
      },
      base,
    );
    // /redirectUris/0 ("" from a number) is refused too; the service drops it next to the schema's own error
    expect(pointersOf(fields)).toEqual(['/redirectUris/0', '/redirectUris/1', '/scopes/0', '/webOrigins/0']);
  });
});
