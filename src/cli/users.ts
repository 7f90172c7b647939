import { userInfo } from 'node:os';
import { text } from 'node:stream/consumers';
import { read } from 'read';
import { AuditLog } from '../auth/audit.js';
import type { Role } from '../auth/roles.js';
import { type UserResult, Users } from '../auth/users.js';
import type { Config } from '../config/schema.js';
import { openMetaDb } from '../meta/meta-db.js';
import { printTable } from './table.js';

// The CLI acts with the rights of whoever can open the data directory; the audit log names them.
const actor = () => `cli:${userInfo().username}`;

/** A new password from stdin (`--password-stdin`, for scripts) or typed twice, hidden, on a terminal. */
async function newPassword(opts: { passwordStdin?: boolean }): Promise<string | null> {
  if (opts.passwordStdin) return (await text(process.stdin)).replace(/\r?\n$/, '');
  if (!process.stdin.isTTY) {
    console.error('storepulse: no terminal to ask for the password on; pipe it in with --password-stdin');
    return null;
  }
  const first = await read({ prompt: 'Password (12+ characters): ', silent: true });
  const second = await read({ prompt: 'Same password again: ', silent: true });
  if (first !== second) {
    console.error('storepulse: the passwords differ; nothing changed');
    return null;
  }
  return first;
}

function withUsers<T>(config: Config, fn: (users: Users, audit: AuditLog) => T): T {
  const db = openMetaDb(config.dataDir);
  try {
    return fn(new Users(db), new AuditLog(db));
  } finally {
    db.close();
  }
}

function report<T>(r: UserResult<T>, done: (v: T) => string): number {
  if (!r.ok) {
    console.error(`storepulse: ${r.reason}`);
    return 1;
  }
  console.log(done(r.value));
  return 0;
}

export async function usersAdd(
  config: Config,
  email: string,
  o: { role: Role; passwordStdin?: boolean },
): Promise<number> {
  const password = await newPassword(o);
  if (password === null) return 1;
  const db = openMetaDb(config.dataDir);
  try {
    const r = await new Users(db).create(email, o.role, password);
    if (r.ok) {
      new AuditLog(db).record({
        action: 'user_created',
        actor: actor(),
        target: r.value.email,
        detail: { role: r.value.role, via: 'cli' },
      });
    }
    return report(r, (u) => `user ${u.email} (${u.role}) added; they can sign in now`);
  } finally {
    db.close();
  }
}

export function usersList(config: Config): number {
  const rows = withUsers(config, (users) =>
    users.list().map((u) => ({
      email: u.email,
      role: u.role,
      created: new Date(u.createdAt).toISOString(),
      updated: new Date(u.updatedAt).toISOString(),
    })),
  );
  if (rows.length === 0) console.log('no users yet: add one with `storepulse users add EMAIL --role admin`');
  else printTable(rows);
  return 0;
}

export function usersRemove(config: Config, email: string): number {
  return withUsers(config, (users, audit) => {
    const r = users.remove(email);
    if (r.ok) audit.record({ action: 'user_removed', actor: actor(), target: r.value.email });
    return report(r, (u) => `user ${u.email} removed and signed out`);
  });
}

export function usersSetRole(config: Config, email: string, role: Role): number {
  return withUsers(config, (users, audit) => {
    const r = users.setRole(email, role);
    if (r.ok) {
      audit.record({
        action: 'user_role_changed',
        actor: actor(),
        target: r.value.user.email,
        detail: { from: r.value.previous, to: role },
      });
    }
    return report(r, ({ user, previous }) => `${user.email}: ${previous} → ${role}`);
  });
}

export async function usersSetPassword(
  config: Config,
  email: string,
  o: { passwordStdin?: boolean },
): Promise<number> {
  const db = openMetaDb(config.dataDir);
  try {
    const users = new Users(db);
    if (!users.byEmail(email)) return report({ ok: false, reason: `no user ${email}` }, () => '');
    const password = await newPassword(o);
    if (password === null) return 1;
    const r = await users.setPassword(email, password);
    if (r.ok) new AuditLog(db).record({ action: 'user_password_set', actor: actor(), target: r.value.email });
    return report(r, (u) => `password of ${u.email} changed; their sessions are signed out`);
  } finally {
    db.close();
  }
}
