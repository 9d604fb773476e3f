import { ProblemError } from '../lib/problem.js';

/** Who is calling, from a verified bearer token. */
export interface Caller {
  subject: string;
  /** The token's preferred_username, when it has one: what a client's history shows (src/api-clients/activity/history.ts). */
  username?: string;
  /** The client the token was issued to (azp). */
  clientId: string;
  accounts: ReadonlySet<string>;
  roles: ReadonlySet<string>;
}

/** What a route needs: read (viewer), write (admin), platform (platform admin only). */
export type Access = 'read' | 'write' | 'platform';

export const ROLES = {
  viewer: 'api-clients-viewer',
  admin: 'api-clients-admin',
  platformAdmin: 'platform-admin',
} as const;

const rolesFor: Record<Access, readonly string[]> = {
  read: [ROLES.viewer, ROLES.admin, ROLES.platformAdmin],
  write: [ROLES.admin, ROLES.platformAdmin],
  platform: [ROLES.platformAdmin],
};

/** Who a change is recorded as (a client's history): the person, or the client, that called. */
export const actorOf = (caller: Caller | undefined): { sub: string; username: string | null } => ({
  sub: caller?.subject ?? 'unknown',
  username: caller?.username ?? null,
});

export const isPlatformAdmin = (caller: Caller): boolean => caller.roles.has(ROLES.platformAdmin);

/**
 * Which roles a caller may give an API client (SPEC §4): those its token carries, any catalogue
 * role for a platform admin. No caller (a route without access): none.
 */
export const grantorOf = (caller: Caller | undefined): { anyRole: boolean; roles: ReadonlySet<string> } =>
  caller ? { anyRole: isPlatformAdmin(caller), roles: caller.roles } : { anyRole: false, roles: new Set() };

/**
 * The one access decision of the service: may this caller do this kind of thing on this
 * account? Throws forbidden otherwise. `accountId` undefined: a route of no account (scopes).
 */
export function authorize(caller: Caller, access: Access, accountId: string | undefined): void {
  if (!rolesFor[access].some((role) => caller.roles.has(role))) {
    const needed = rolesFor[access].join(' or ');
    throw new ProblemError('forbidden', `This needs the role ${needed}`);
  }
  if (accountId !== undefined && !isPlatformAdmin(caller) && !caller.accounts.has(accountId)) {
    throw new ProblemError('forbidden', `The token does not give access to account ${accountId}`);
  }
}
