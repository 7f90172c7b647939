import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { checkPasswordPolicy, hashPassword } from './passwords.js';
import { isRole, ROLES, type Role } from './roles.js';

export interface User {
  id: string;
  email: string;
  role: Role;
  createdAt: number;
  updatedAt: number;
}

/**
 * An expected refusal with a message for the person. `kind` says what refused it: `not-found` (no
 * such user), `conflict` (the email is taken; the last admin must stay); absent, the input itself
 * (bad email, role or password).
 */
export type UserResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: string; kind?: 'not-found' | 'conflict' };

interface UserRow {
  id: string;
  email: string;
  role: string;
  password_hash: string;
  created_at: number;
  updated_at: number;
}
const toUser = (r: UserRow): User => ({
  id: r.id,
  email: r.email,
  role: r.role as Role,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const normaliseEmail = (email: string) => email.trim().toLowerCase();
const EMAIL = /^[^\s@]+@[^\s@]+$/;

const noUser = (email: string) => ({
  ok: false as const,
  kind: 'not-found' as const,
  reason: `no user ${normaliseEmail(email)}`,
});
const onlyAdmin = (u: User) => ({
  ok: false as const,
  kind: 'conflict' as const,
  reason: `${u.email} is the only admin; make another user admin first`,
});

/** Whether a user could be created with these values; the normalised email if so. */
export function checkNewUser(emailIn: string, role: Role, password: string): UserResult<string> {
  const email = normaliseEmail(emailIn);
  if (!EMAIL.test(email) || email.length > 254) {
    return { ok: false, reason: `"${emailIn}" is not an email address` };
  }
  if (!isRole(role)) return { ok: false, reason: `role must be one of ${ROLES.join(', ')}` };
  const policy = checkPasswordPolicy(password, email);
  return policy.ok ? { ok: true, value: email } : policy;
}

/** Dashboard users in meta.sqlite. Passwords are kept only as argon2id hashes. */
export class Users {
  constructor(private readonly db: Database.Database) {}

  async create(emailIn: string, role: Role, password: string): Promise<UserResult<User>> {
    const checked = checkNewUser(emailIn, role, password);
    if (!checked.ok) return checked;
    const email = checked.value;
    const passwordHash = await hashPassword(password);
    const now = Date.now();
    const user: User = { id: randomUUID(), email, role, createdAt: now, updatedAt: now };
    // ON CONFLICT rather than a look-up first: two requests for one email both pass a look-up.
    const inserted = this.db
      .prepare(
        `INSERT INTO users (id, email, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (email) DO NOTHING`,
      )
      .run(user.id, email, role, passwordHash, now, now).changes;
    if (inserted === 0) return { ok: false, kind: 'conflict', reason: `a user ${email} already exists` };
    return { ok: true, value: user };
  }

  get(id: string): User | null {
    const row = this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  byEmail(email: string): User | null {
    const row = this.db.prepare('SELECT * FROM users WHERE email = ?').get(normaliseEmail(email)) as
      | UserRow
      | undefined;
    return row ? toUser(row) : null;
  }

  /** The user and the stored hash, for login only. */
  credentials(email: string): { user: User; passwordHash: string } | null {
    const row = this.db.prepare('SELECT * FROM users WHERE email = ?').get(normaliseEmail(email)) as
      | UserRow
      | undefined;
    return row ? { user: toUser(row), passwordHash: row.password_hash } : null;
  }

  list(): User[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY email').all() as UserRow[]).map(toUser);
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }

  /** Removes the user and signs out all their sessions; the last admin stays. */
  remove(email: string): UserResult<User> {
    // IMMEDIATE: the admin count and the change are one step even when the CLI writes at the same time.
    return this.db
      .transaction((): UserResult<User> => {
        const user = this.byEmail(email);
        if (!user) return noUser(email);
        if (user.role === 'admin' && this.adminCount() === 1) return onlyAdmin(user);
        this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(user.id);
        this.db.prepare('DELETE FROM users WHERE id = ?').run(user.id);
        return { ok: true, value: user };
      })
      .immediate();
  }

  /** Changes a role; it applies to the user's open sessions at their next request. */
  setRole(email: string, role: Role): UserResult<{ user: User; previous: Role }> {
    if (!isRole(role)) return { ok: false, reason: `role must be one of ${ROLES.join(', ')}` };
    return this.db
      .transaction((): UserResult<{ user: User; previous: Role }> => {
        const user = this.byEmail(email);
        if (!user) return noUser(email);
        if (user.role === 'admin' && role !== 'admin' && this.adminCount() === 1) return onlyAdmin(user);
        const now = Date.now();
        this.db.prepare('UPDATE users SET role = ?, updated_at = ? WHERE id = ?').run(role, now, user.id);
        return { ok: true, value: { user: { ...user, role, updatedAt: now }, previous: user.role } };
      })
      .immediate();
  }

  /**
   * Sets a new password and signs out every session of the user but `keepSession` (a session's
   * `idHash`): someone changing their own password stays signed in where they did it.
   */
  async setPassword(
    email: string,
    password: string,
    opts: { keepSession?: string } = {},
  ): Promise<UserResult<User>> {
    const user = this.byEmail(email);
    if (!user) return noUser(email);
    const policy = checkPasswordPolicy(password, user.email);
    if (!policy.ok) return policy;
    const passwordHash = await hashPassword(password);
    const now = Date.now();
    const changed = this.db.transaction(() => {
      const n = this.db
        .prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?')
        .run(passwordHash, now, user.id).changes;
      this.db
        .prepare('DELETE FROM sessions WHERE user_id = ? AND id_hash IS NOT ?')
        .run(user.id, opts.keepSession ?? null);
      return n;
    })();
    // Removed while the hash was being computed.
    if (changed === 0) return noUser(email);
    return { ok: true, value: { ...user, updatedAt: now } };
  }

  private adminCount(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM users WHERE role = 'admin'").get() as { n: number }).n;
  }
}
