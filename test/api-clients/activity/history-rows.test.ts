// The rows a history is made of, from admin events as Keycloak 26.7.3 answers them (docs/keycloak.md,
// "Admin events as the history"): only the change record is read, never the rest of a
// representation; a repeated record is one row; an undone update and a delete Keycloak did not do
// are none; another account's records are never rows.
import { describe, expect, it } from 'vitest';
import {
  CHANGE_ATTRIBUTE,
  type ChangeRecord,
  changedFields,
  changeRecord,
  recordOf,
  rowsOf,
  undoRecord,
  updateAction,
} from '../../../src/api-clients/activity/history.js';

const actor = { sub: 'user-1', username: 'alice' };
const path = 'clients/0b1c2d3e-0000-4000-8000-000000000001';
let clock = 1_000_000;
/** An admin event, each one older than the one before (Keycloak answers newest first). */
function event(operationType: string, representation?: object, resourcePath = path) {
  clock -= 1000;
  return {
    time: clock,
    operationType,
    resourcePath,
    ...(representation ? { representation: JSON.stringify(representation) } : {}),
  };
}
const carrying = (record: ChangeRecord, extra: Record<string, string> = {}) => ({
  attributes: { ...extra, [CHANGE_ATTRIBUTE]: JSON.stringify(record) },
});

describe('history rows', () => {
  it('reads the record and nothing else of a representation', () => {
    const record = changeRecord('updated', 'acme', 'acme_x', actor, ['displayName']);
    const found = recordOf(event('UPDATE', carrying(record, { 'client.secret.rotated': 'SECRET-VALUE' })));
    expect(found).toEqual(record);
    const [row] = rowsOf(
      [event('UPDATE', carrying(record, { 'client.secret.rotated': 'SECRET-VALUE' }))],
      'acme',
    );
    expect(JSON.stringify(row)).not.toContain('SECRET-VALUE');
    expect(Object.keys(row ?? {}).sort()).toEqual(['action', 'actor', 'at', 'changed', 'clientId']);
  });

  it('ignores malformed records and events without one', () => {
    expect(
      recordOf(event('UPDATE', { attributes: { [CHANGE_ATTRIBUTE]: '{"v":1,"action":"owned"}' } })),
    ).toBe(undefined);
    expect(recordOf(event('UPDATE', { attributes: { [CHANGE_ATTRIBUTE]: 'not json' } }))).toBe(undefined);
    expect(recordOf(event('ACTION', { type: 'secret', value: '**********' }))).toBe(undefined);
  });

  it('lists a repeated record once, an undone update not at all, another account never', () => {
    const created = changeRecord('created', 'acme', 'acme_x', actor);
    const undone = changeRecord('updated', 'acme', 'acme_x', actor, ['scopes']);
    const foreign = changeRecord('created', 'globex', 'globex_x', actor);
    const events = [
      event('UPDATE', carrying(undoRecord(undone))),
      event('UPDATE', carrying(undone)),
      event('CREATE', carrying(foreign), 'clients/other'),
      event('UPDATE', carrying(created)), // the create's fix-up write
      event('CREATE', carrying(created)),
    ];
    expect(rowsOf(events, 'acme').map((row) => row.action)).toEqual(['created']);
  });

  it("shows a delete at the DELETE's time, once, and not when Keycloak did not delete", () => {
    const retried = changeRecord('deleted', 'acme', 'acme_x', actor);
    const failed = changeRecord('deleted', 'acme', 'acme_x', actor);
    const deletion = event('DELETE', { id: 'x', clientId: 'acme_x' });
    const events = [deletion, event('UPDATE', carrying(retried)), event('UPDATE', carrying(failed))];
    const rows = rowsOf(events, 'acme');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.at).toBe(new Date(deletion.time).toISOString());
    expect(rowsOf(events.slice(1), 'acme')).toEqual([]);
  });

  it('does not list a create that was taken back (deleted with no delete record of the service)', () => {
    const takenBack = changeRecord('created', 'acme', 'acme_x', actor);
    const kept = changeRecord('created', 'acme', 'acme_y', actor);
    const deleted = changeRecord('deleted', 'acme', 'acme_y', actor);
    const other = 'clients/0b1c2d3e-0000-4000-8000-000000000002';
    const events = [
      event('DELETE', { id: 'x', clientId: 'acme_x' }), // the undo of a failed create
      event('DELETE', { id: 'y', clientId: 'acme_y' }, other),
      event('UPDATE', carrying(deleted), other),
      event('UPDATE', carrying(takenBack)), // the create's fix-up write
      event('CREATE', carrying(takenBack)),
      event('CREATE', carrying(kept), other),
    ];
    expect(rowsOf(events, 'acme').map((row) => [row.action, row.clientId])).toEqual([
      ['deleted', 'acme_y'],
      ['created', 'acme_y'],
    ]);
  });

  it('names the changed fields and a credential switch', () => {
    expect(changedFields({ a: 1, b: [1], c: null }, { a: 1, b: [1, 2], c: 'x' })).toEqual(['b', 'c']);
    expect(
      updateAction({ credential: { type: 'secret' } }, { credential: { type: 'private-key-jwt' } }),
    ).toBe('credential-switched');
    expect(updateAction({ credential: { type: 'secret' } }, { credential: { type: 'secret' } })).toBe(
      'updated',
    );
    expect(updateAction({}, {})).toBe('updated');
  });
});
