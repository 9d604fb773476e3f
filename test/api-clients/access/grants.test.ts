// SPEC §4 "Role grants are bounded by the caller", one row per case: which additions are refused.
import { describe, expect, it } from 'vitest';
import { ANY_ROLE, assertRolesHeld, rolesNotHeld } from '../../../src/api-clients/access/grants.js';
import { ProblemError } from '../../../src/lib/problem.js';

const viewer = { anyRole: false, roles: new Set(['api-clients-admin', 'insights-viewer']) };

describe('rolesNotHeld', () => {
  it.each([
    ['adds a held role', ['insights-viewer'], [], viewer, []],
    ['adds a role not held', ['insights-editor'], [], viewer, ['/roles/0']],
    [
      'names each one at its index',
      ['insights-viewer', 'insights-editor', 'x'],
      [],
      viewer,
      ['/roles/1', '/roles/2'],
    ],
    ['keeps a role not held', ['insights-editor'], ['insights-editor'], viewer, []],
    [
      'keeps one and adds a held one',
      ['insights-editor', 'insights-viewer'],
      ['insights-editor'],
      viewer,
      [],
    ],
    ['removes a role not held', [], ['insights-editor'], viewer, []],
    ['a platform admin adds any', ['insights-editor', 'insights-viewer'], [], ANY_ROLE, []],
    [
      'a caller of no roles adds none',
      ['insights-viewer'],
      [],
      { anyRole: false, roles: new Set<string>() },
      ['/roles/0'],
    ],
  ] as const)('%s', (_why, roles, current, grantor, pointers) => {
    expect(rolesNotHeld(roles, current, grantor).map((error) => error.pointer)).toEqual(pointers);
  });
});

describe('assertRolesHeld', () => {
  it('throws role-not-held (403), naming every role in detail and errors', () => {
    let thrown: unknown;
    try {
      assertRolesHeld(['insights-viewer', 'insights-editor', 'other'], [], viewer);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProblemError);
    const problem = thrown as ProblemError;
    expect(problem.problemType).toBe('role-not-held');
    expect(problem.status).toBe(403);
    expect(problem.detail).toContain('insights-editor, other');
    expect(problem.detail).not.toContain('insights-viewer');
    expect(problem.options.errors).toEqual([
      { pointer: '/roles/1', in: 'body', reason: 'the caller does not hold insights-editor' },
      { pointer: '/roles/2', in: 'body', reason: 'the caller does not hold other' },
    ]);
  });

  it('passes what only keeps or removes', () => {
    expect(() =>
      assertRolesHeld(['insights-editor'], ['insights-editor', 'insights-viewer'], viewer),
    ).not.toThrow();
  });
});
