// SPEC §4 "Role grants are bounded by the caller": a caller gives a client only catalogue roles it
// holds itself (a platform admin: any catalogue role), so that an application key never carries
// more than the person who made it could do. A role the client already has may stay or go
// whoever edits it; only an addition is judged. The caller's roles are those of its verified
// token (realm_access.roles), as Keycloak issued them: no extra call (docs/security-boundary-grants.md).
import { type FieldError, ProblemError } from '../../lib/problem.js';

/** Who gives roles: the roles it holds, or any catalogue role. */
export interface Grantor {
  /** A platform admin may give any catalogue role. */
  anyRole: boolean;
  /** The realm roles the caller's token carries. */
  roles: ReadonlySet<string>;
}

/** A grantor that may give every catalogue role (the service's own callers: tests, scripts). */
export const ANY_ROLE: Grantor = { anyRole: true, roles: new Set() };

export const mayGrant = (grantor: Grantor, role: string): boolean =>
  grantor.anyRole || grantor.roles.has(role);

/** The roles of `roles` that the client does not have yet and the caller may not give, each with its pointer. */
export function rolesNotHeld(
  roles: readonly string[],
  current: readonly string[],
  grantor: Grantor,
): FieldError[] {
  return roles.flatMap((role, i) =>
    current.includes(role) || mayGrant(grantor, role)
      ? []
      : [{ pointer: `/roles/${i}`, in: 'body' as const, reason: `the caller does not hold ${role}` }],
  );
}

/** Throws role-not-held (403) naming every role the change would add that the caller does not hold. */
export function assertRolesHeld(
  roles: readonly string[],
  current: readonly string[],
  grantor: Grantor,
): void {
  const errors = rolesNotHeld(roles, current, grantor);
  if (errors.length === 0) return;
  const names = errors.map((error) => roles[Number(error.pointer.slice('/roles/'.length))]);
  throw new ProblemError(
    'role-not-held',
    `A client can be given only roles its giver holds; the caller does not hold ${names.join(', ')}`,
    { errors },
  );
}
