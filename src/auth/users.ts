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

/** An expected refusal (bad email, weak password, last admin…) with a message for the person. */
export type UserResult<T> = { ok: true; value: T } | { ok: false; reason: string };

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
    if (this.byEmail(email)) return { ok: false, reason: `a user ${email} already exists` };
    const now = Date.now();
    const user: User = { id: randomUUID(), email, role, createdAt: now, updatedAt: now };
    this.db
      .prepare(
        'INSERT INTO users (id, email, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(user.id, email, role, passwordHash, now, now);
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
    const user = this.byEmail(email);
    if (!user) return { ok: false, reason: `no user ${normaliseEmail(email)}` };
    if (user.role === 'admin' && this.adminCount() === 1) {
      return { ok: false, reason: `${user.email} is the only admin; make another user admin first` };
    }
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(user.id);
      this.db.prepare('DELETE FROM users WHERE id = ?').run(user.id);
    })();
    return { ok: true, value: user };
  }

  /** Changes a role; it applies to the user's open sessions at their next request. */
  setRole(email: string, role: Role): UserResult<{ user: User; previous: Role }> {
    if (!isRole(role)) return { ok: false, reason: `role must be one of ${ROLES.join(', ')}` };
    const user = this.byEmail(email);
    if (!user) return { ok: false, reason: `no user ${normaliseEmail(email)}` };
    if (user.role === 'admin' && role !== 'admin' && this.adminCount() === 1) {
      return { ok: false, reason: `${user.email} is the only admin; make another user admin first` };
    }
    const now = Date.now();
    this.db.prepare('UPDATE users SET role = ?, updated_at = ? WHERE id = ?').run(role, now, user.id);
    return { ok: true, value: { user: { ...user, role, updatedAt: now }, previous: user.role } };
  }

  /** Sets a new password and signs out every session of the user. */
  async setPassword(email: string, password: string): Promise<UserResult<User>> {
    const user = this.byEmail(email);
    if (!user) return { ok: false, reason: `no user ${normaliseEmail(email)}` };
    const policy = checkPasswordPolicy(password, user.email);
    if (!policy.ok) return policy;
    const passwordHash = await hashPassword(password);
    this.db.transaction(() => {
      this.db
        .prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?')
        .run(passwordHash, Date.now(), user.id);
      this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(user.id);
    })();
    return { ok: true, value: user };
  }

  private adminCount(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM users WHERE role = 'admin'").get() as { n: number }).n;
  }
}
