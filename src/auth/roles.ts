import type { Scope } from './api-keys.js';

export const ROLES = ['viewer', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (v: unknown): v is Role =>
  typeof v === 'string' && (ROLES as readonly string[]).includes(v);

/**
 * What a route needs: a least role for sessions, or an API-key scope. Both forms name one
 * level of access, so either kind of caller can be checked against it:
 * viewer reads realtime, analyst also runs SQL, admin does everything.
 */
export type Need = { role: Role } | { scope: Scope };

const RANK: Record<Role, number> = { viewer: 0, analyst: 1, admin: 2 };
// API keys predate roles: a `query` key has always read realtime and run SQL.
const KEY_SCOPE_FOR_ROLE: Record<Role, Scope> = { viewer: 'query', analyst: 'query', admin: 'admin' };
const ROLE_FOR_SCOPE: Record<Scope, Role> = { query: 'analyst', admin: 'admin' };

export const leastRole = (need: Need): Role => ('role' in need ? need.role : ROLE_FOR_SCOPE[need.scope]);
export const keyScope = (need: Need): Scope => ('scope' in need ? need.scope : KEY_SCOPE_FOR_ROLE[need.role]);

export const roleAllows = (role: Role, need: Need): boolean => RANK[role] >= RANK[leastRole(need)];

/** What a role may do, for the dashboard to show or hide pages. */
export function permissionsOf(role: Role): { realtime: boolean; query: boolean; admin: boolean } {
  return {
    realtime: roleAllows(role, { role: 'viewer' }),
    query: roleAllows(role, { role: 'analyst' }),
    admin: roleAllows(role, { role: 'admin' }),
  };
}
