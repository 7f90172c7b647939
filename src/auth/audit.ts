import type Database from 'better-sqlite3';

export const AUDIT_ACTIONS = [
  'login',
  'login_failed',
  'lockout',
  'logout',
  'setup_used',
  'user_created',
  'user_removed',
  'user_role_changed',
  'user_password_set',
  'api_key_created',
  'api_key_revoked',
  'recs_training_started',
  'recs_availability_changed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  id: number;
  at: number;
  action: AuditAction;
  /** Who did it: a user's email, `api-key:<id>`, `cli:<os user>`, or null (nobody signed in). */
  actor: string | null;
  /** What it was done to: a user's email, an API key id. */
  target: string | null;
  ip: string | null;
  userAgent: string | null;
  detail: Record<string, unknown> | null;
}

export interface AuditInput {
  action: AuditAction;
  actor?: string | null;
  target?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  detail?: Record<string, unknown> | null;
}

interface AuditRow {
  id: number;
  at: number;
  action: AuditAction;
  actor: string | null;
  target: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: string | null;
}

export const MAX_AUDIT_PAGE = 1000;

/** Append-only record of logins and of user and key changes, newest first when read. */
export class AuditLog {
  constructor(private readonly db: Database.Database) {}

  record(e: AuditInput, now = Date.now()): void {
    this.db
      .prepare(
        'INSERT INTO audit_log (at, action, actor, target, ip, user_agent, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        now,
        e.action,
        e.actor ?? null,
        e.target ?? null,
        e.ip ?? null,
        e.userAgent?.slice(0, 512) ?? null,
        e.detail ? JSON.stringify(e.detail) : null,
      );
  }

  /** Up to `limit` entries older than the entry id `before` (omit it for the newest). */
  list(opts: { limit?: number; before?: number } = {}): AuditEntry[] {
    const limit = Math.min(Math.max(1, opts.limit ?? 100), MAX_AUDIT_PAGE);
    const rows = this.db
      .prepare('SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?')
      .all(opts.before ?? Number.MAX_SAFE_INTEGER, limit) as AuditRow[];
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      action: r.action,
      actor: r.actor,
      target: r.target,
      ip: r.ip,
      userAgent: r.user_agent,
      detail: r.detail ? JSON.parse(r.detail) : null,
    }));
  }
}
