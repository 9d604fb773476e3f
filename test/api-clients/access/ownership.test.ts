// src/api-clients/access/ownership.ts: the one home for "this client is ours".
import { describe, expect, it } from 'vitest';
import { isManagedBy, MANAGED_CLIENT_ID_PATTERN } from '../../../src/api-clients/access/ownership.js';

describe('which Keycloak clients belong to an account', () => {
  it.each<[string, Record<string, unknown>, boolean]>([
    ['prefix and marker', { clientId: 'acme_job', attributes: { 'api-clients.account': 'acme' } }, true],
    [
      'the marker of another account',
      { clientId: 'acme_job', attributes: { 'api-clients.account': 'globex' } },
      false,
    ],
    ['no marker', { clientId: 'acme_job', attributes: {} }, false],
    [
      'the marker but another prefix',
      { clientId: 'acmex_job', attributes: { 'api-clients.account': 'acme' } },
      false,
    ],
    [
      'a prefix without the underscore',
      { clientId: 'acme-job', attributes: { 'api-clients.account': 'acme' } },
      false,
    ],
  ])('%s: %s', (_name, rep, expected) => {
    expect(isManagedBy(rep, 'acme')).toBe(expected);
  });

  it.each([
    ['acme_job', true],
    ['acme-eu_a.b-c_d', true],
    ['api-clients-service', false],
    ['realm-management', false],
    ['Acme_job', false],
    ['acme_', false],
    ['acme_job/x', false],
  ])('%s has the shape of a managed clientId: %s', (clientId, expected) => {
    expect(MANAGED_CLIENT_ID_PATTERN.test(clientId)).toBe(expected);
  });
});
