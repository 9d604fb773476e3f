// The credential as a body gives it (resource/input.ts) and a secret's expiry as Keycloak holds it
// (resource/secret-expiry.ts): merging over the current credential, members of the wrong type
// refused by pointer, and expiresAt ↔ client.secret.expiration.time both ways.
import { describe, expect, it } from 'vitest';
import { mergeCredential, readBody } from '../../../src/api-clients/resource/input.js';
import { DEFAULT_FIELDS } from '../../../src/api-clients/resource/mapping.js';
import type { CredentialFields, Jwks } from '../../../src/api-clients/resource/schema.js';
import {
  expiresAtErrors,
  expiresAtOf,
  expiryAttributeOf,
  NEVER_EPOCH,
  withEffectiveExpiry,
} from '../../../src/api-clients/resource/secret-expiry.js';

const KEYS = { keys: [{ kty: 'EC', kid: 'a' }] };
const secret = (expiresAt: string | null = null): CredentialFields => ({ type: 'secret', expiresAt });
const keyPair = (jwks: Jwks | null = KEYS, jwksUrl: string | null = null): CredentialFields => ({
  type: 'private-key-jwt',
  jwks,
  jwksUrl,
});

const federated = (subject = 'repo:a/b:ref:main'): CredentialFields => ({
  type: 'federated',
  issuer: 'https://token.actions.githubusercontent.com',
  subject,
});

describe('mergeCredential', () => {
  it.each([
    [
      'the same type keeps what is not sent',
      secret('2030-01-01T00:00:00.000Z'),
      { type: 'secret' },
      secret('2030-01-01T00:00:00.000Z'),
    ],
    [
      'no type keeps the type',
      secret(),
      { expiresAt: '2030-01-01T00:00:00Z' },
      secret('2030-01-01T00:00:00Z'),
    ],
    ['null expiresAt clears it', secret('2030-01-01T00:00:00.000Z'), { expiresAt: null }, secret(null)],
    [
      'a switch to a key pair starts afresh',
      secret('2030-01-01T00:00:00.000Z'),
      { type: 'private-key-jwt', jwks: KEYS },
      keyPair(),
    ],
    ['a switch to a secret starts afresh', keyPair(), { type: 'secret' }, secret(null)],
    [
      'a jwksUrl replaces pasted keys',
      keyPair(),
      { jwksUrl: 'https://k.example.com/jwks' },
      keyPair(null, 'https://k.example.com/jwks'),
    ],
    ['pasted keys replace a jwksUrl', keyPair(null, 'https://k.example.com/jwks'), { jwks: KEYS }, keyPair()],
    [
      'a GET body sent back (keys ride along) changes nothing',
      keyPair(),
      { type: 'private-key-jwt', jwks: KEYS, jwksUrl: null, keys: [{ kid: 'a' }] },
      keyPair(),
    ],
    [
      'a switch to federated starts afresh',
      keyPair(),
      {
        type: 'federated',
        issuer: 'https://token.actions.githubusercontent.com',
        subject: 'repo:a/b:ref:main',
      },
      federated(),
    ],
    [
      'federated keeps what is not sent',
      federated(),
      { subject: 'repo:a/b:ref:dev' },
      federated('repo:a/b:ref:dev'),
    ],
    ['a switch away from federated starts afresh', federated(), { type: 'secret' }, secret(null)],
  ])('%s', (_name, base, patch, merged) => {
    expect(mergeCredential(base, patch as Record<string, unknown>)).toEqual(merged);
  });
});

describe('members of the other credential type', () => {
  it('are refused by pointer: keys on a secret, an expiry on a key pair', () => {
    const onSecret = readBody(
      { credential: { type: 'secret', jwks: KEYS, jwksUrl: 'https://x.example.com' } },
      [],
    );
    expect(onSecret.errors.map((e) => e.pointer)).toEqual(['/credential/jwks', '/credential/jwksUrl']);
    const onKeys = readBody(
      { credential: { type: 'private-key-jwt', jwks: KEYS, expiresAt: '2030-01-01T00:00:00Z' } },
      [],
    );
    expect(onKeys.errors.map((e) => e.pointer)).toEqual(['/credential/expiresAt']);
    // null members of the other type are what a GET answers for them: no error
    expect(
      readBody({ credential: { type: 'private-key-jwt', jwks: KEYS, expiresAt: null } }, []).errors,
    ).toEqual([]);
  });

  it('are refused by pointer: an issuer on a key pair, keys and an expiry on a federated credential', () => {
    const onKeys = readBody({ credential: { type: 'private-key-jwt', jwks: KEYS, subject: 'x' } }, []);
    expect(onKeys.errors.map((e) => e.pointer)).toEqual(['/credential/subject']);
    const onFederated = readBody(
      {
        credential: {
          type: 'federated',
          issuer: 'https://i.example.com',
          subject: 'x',
          jwksUrl: 'https://k.example.com',
          expiresAt: '2030-01-01T00:00:00Z',
        },
      },
      [],
    );
    expect(onFederated.errors.map((e) => e.pointer)).toEqual([
      '/credential/jwksUrl',
      '/credential/expiresAt',
    ]);
  });

  it('read-only members of the resource are ignored by the merge', () => {
    const body = readBody(
      { accountId: 'other', createdAt: '2000-01-01T00:00:00Z', lastUsedAt: null, displayName: 'x' },
      [],
    );
    const fields = body.over({ ...DEFAULT_FIELDS, capabilityTypes: ['Script'] });
    expect(fields).not.toHaveProperty('accountId');
    expect(fields).not.toHaveProperty('createdAt');
    expect(fields.displayName).toBe('x');
  });
});

describe('a secret’s expiry in Keycloak', () => {
  it('is the last second before expiresAt, and reads back as expiresAt', () => {
    const expiresAt = '2030-06-01T12:00:00.000Z';
    const attribute = expiryAttributeOf(expiresAt);
    expect(Number(attribute)).toBe(Date.parse(expiresAt) / 1000 - 1);
    expect(expiresAtOf({ 'client.secret.expiration.time': attribute })).toBe(expiresAt);
    expect(expiresAtOf({ 'client.secret.expiration.time': [attribute] })).toBe(expiresAt);
  });

  it('"never" is written as 2038-01-01 and reads back as null, as does no attribute', () => {
    expect(expiryAttributeOf(null)).toBe(String(NEVER_EPOCH));
    expect(expiresAtOf({ 'client.secret.expiration.time': String(NEVER_EPOCH) })).toBeNull();
    expect(expiresAtOf({})).toBeNull();
    expect(expiresAtOf(undefined)).toBeNull();
  });

  const now = new Date('2026-12-01T00:00:00Z');
  const policy = { now, maxSecretLifetimeDays: 30 };
  it('refuses a past expiry and one beyond the maximum, but not one sent back unchanged', () => {
    expect(expiresAtErrors('2026-11-30T00:00:00Z', policy, '/p')).toHaveLength(1);
    expect(expiresAtErrors('2027-01-01T00:00:00Z', policy, '/p')[0]?.reason).toMatch(/at most 30 days/);
    expect(expiresAtErrors('2026-12-20T00:00:00Z', policy, '/p')).toEqual([]);
    expect(expiresAtErrors('2026-11-30T00:00:00Z', policy, '/p', '2026-11-30T00:00:00.000Z')).toEqual([]);
    expect(expiresAtErrors('2027-06-01T00:00:00Z', { now, maxSecretLifetimeDays: null }, '/p')).toEqual([]);
  });

  it('applies the maximum to a secret without expiry, and keeps one sent back unchanged', () => {
    expect(withEffectiveExpiry(secret(null), policy)).toEqual(secret('2026-12-31T00:00:00.000Z'));
    expect(withEffectiveExpiry(secret(null), policy, secret(null))).toEqual(secret(null));
    expect(withEffectiveExpiry(secret(null), { now, maxSecretLifetimeDays: null })).toEqual(secret(null));
    expect(withEffectiveExpiry(keyPair(), policy)).toEqual(keyPair());
  });
});
