import { actorOf, type Principal } from './authenticate.js';
import { checkPasswordPolicy } from './passwords.js';
import { isRole, ROLES, type Role } from './roles.js';
import type { AuthServices, Client } from './services.js';
import type { User, UserResult } from './users.js';

/** Who asks for a change: the signed-in admin or admin API key, and where the request came from. */
export interface Caller {
  principal: Principal;
  client: Client;
}

export type AdminResult<T> = { ok: true; value: T } | { ok: false; status: 400 | 404 | 409; reason: string };

export interface NewUser {
  email: string;
  role: Role;
  password: string;
}

export interface UserChange {
  role?: Role;
  password?: string;
}

const refused = (r: Extract<UserResult<unknown>, { ok: false }>): AdminResult<never> => ({
  ok: false,
  status: r.kind === 'not-found' ? 404 : r.kind === 'conflict' ? 409 : 400,
  reason: r.reason,
});
const notFound = (id: string): AdminResult<never> => ({
  ok: false,
  status: 404,
  reason: `no user with id ${id}`,
});

// Another admin can undo a mistake; nobody can undo locking themselves out.
const isSelf = (caller: Caller, user: User) =>
  caller.principal.kind === 'session' && caller.principal.user.id === user.id;

/** The audit fields that name who made a change and from where. */
const madeBy = (caller: Caller) => ({
  actor: actorOf(caller.principal),
  ip: caller.client.ip,
  userAgent: caller.client.userAgent,
});

/** Creates a dashboard user; refusals name the rule (email, role, password policy, taken email). */
export async function addUser(
  auth: AuthServices,
  caller: Caller,
  input: NewUser,
): Promise<AdminResult<User>> {
  const created = await auth.users.create(input.email, input.role, input.password);
  if (!created.ok) return refused(created);
  const user = created.value;
  auth.audit.record({
    action: 'user_created',
    target: user.email,
    detail: { role: user.role },
    ...madeBy(caller),
  });
  return { ok: true, value: user };
}

/**
 * Changes a user's role, password or both. Everything is checked before anything changes, so a
 * weak password does not leave a half-applied change behind. Nobody changes their own role here.
 */
export async function changeUser(
  auth: AuthServices,
  caller: Caller,
  id: string,
  change: UserChange,
): Promise<AdminResult<User>> {
  const user = auth.users.get(id);
  if (!user) return notFound(id);
  if (change.role === undefined && change.password === undefined) {
    return { ok: false, status: 400, reason: 'send "role", "password" or both' };
  }
  if (change.role !== undefined && !isRole(change.role)) {
    return { ok: false, status: 400, reason: `role must be one of ${ROLES.join(', ')}` };
  }
  if (change.password !== undefined) {
    const policy = checkPasswordPolicy(change.password, user.email);
    if (!policy.ok) return { ok: false, status: 400, reason: policy.reason };
  }
  const roleChanges = change.role !== undefined && change.role !== user.role;
  if (roleChanges && isSelf(caller, user)) {
    return {
      ok: false,
      status: 409,
      reason: 'you cannot change your own role; another admin can',
    };
  }

  let current = user;
  if (roleChanges && change.role) {
    const r = auth.users.setRole(user.email, change.role);
    if (!r.ok) return refused(r);
    current = r.value.user;
    auth.audit.record({
      action: 'user_role_changed',
      target: user.email,
      detail: { from: r.value.previous, to: change.role },
      ...madeBy(caller),
    });
  }
  if (change.password !== undefined) {
    const p = caller.principal;
    // Resetting your own password signs out your other browsers, not the one you are using.
    const keepSession = p.kind === 'session' && p.user.id === user.id ? p.session.idHash : undefined;
    const r = await auth.users.setPassword(user.email, change.password, { keepSession });
    if (!r.ok) return refused(r);
    current = { ...current, updatedAt: r.value.updatedAt };
    auth.audit.record({ action: 'user_password_set', target: user.email, ...madeBy(caller) });
  }
  return { ok: true, value: current };
}

/** Removes a user and ends their sessions; not the last admin, and not yourself. */
export function removeUser(auth: AuthServices, caller: Caller, id: string): AdminResult<User> {
  const user = auth.users.get(id);
  if (!user) return notFound(id);
  if (isSelf(caller, user)) {
    return { ok: false, status: 409, reason: 'you cannot remove your own account; another admin can' };
  }
  const r = auth.users.remove(user.email);
  if (!r.ok) return refused(r);
  auth.audit.record({
    action: 'user_removed',
    target: user.email,
    detail: { role: user.role },
    ...madeBy(caller),
  });
  return { ok: true, value: r.value };
}
