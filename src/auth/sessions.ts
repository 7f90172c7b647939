import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type Database from 'better-sqlite3';

export interface SessionPolicy {
  /** Signed out after this long without a request. */
  idleMs: number;
  /** Signed out this long after login, however active. */
  maxMs: number;
}

export interface Session {
  idHash: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

export type SessionState = 'active' | 'idle' | 'expired';

/** Whether a session may still be used at `now`. */
export function sessionState(s: Session, now: number, policy: SessionPolicy): SessionState {
  if (now >= s.expiresAt) return 'expired';
  if (now - s.lastSeenAt >= policy.idleMs) return 'idle';
  return 'active';
}

const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');

/**
 * The CSRF token of a session: an HMAC keyed by the session id, so it is bound to the session
 * without being stored, and knowing it tells nothing about the (HttpOnly) id.
 */
export const csrfTokenFor = (sessionId: string): string =>
  createHmac('sha256', sessionId).update('storepulse csrf v1').digest('base64url');

export function csrfTokenMatches(sessionId: string, token: string | undefined): boolean {
  if (!token) return false;
  const expected = Buffer.from(csrfTokenFor(sessionId));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

// Last-seen is written at most this often, not on every request; idle timeouts are minutes long.
const TOUCH_EVERY_MS = 15_000;

interface SessionRow {
  id_hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}
const toSession = (r: SessionRow): Session => ({
  idHash: r.id_hash,
  userId: r.user_id,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  expiresAt: r.expires_at,
});

/** Login sessions in meta.sqlite. The id (256 random bits) lives in the cookie; only its hash is stored. */
export class Sessions {
  constructor(
    private readonly db: Database.Database,
    readonly policy: SessionPolicy,
  ) {}

  create(
    userId: string,
    client: { ip?: string | null; userAgent?: string | null },
    now = Date.now(),
  ): { id: string; csrfToken: string; session: Session } {
    this.purge(now);
    const id = randomBytes(32).toString('base64url');
    const session: Session = {
      idHash: sha256(id),
      userId,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + this.policy.maxMs,
    };
    this.db
      .prepare(
        `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        session.idHash,
        userId,
        now,
        now,
        session.expiresAt,
        client.ip ?? null,
        client.userAgent?.slice(0, 512) ?? null,
      );
    return { id, csrfToken: csrfTokenFor(id), session };
  }

  /** The session a cookie names, marked as seen now; null (and forgotten) once idle or expired. */
  resume(id: string, now = Date.now()): Session | null {
    const idHash = sha256(id);
    const row = this.db.prepare('SELECT * FROM sessions WHERE id_hash = ?').get(idHash) as
      | SessionRow
      | undefined;
    if (!row) return null;
    const session = toSession(row);
    if (sessionState(session, now, this.policy) !== 'active') {
      this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(idHash);
      return null;
    }
    if (now - session.lastSeenAt >= TOUCH_EVERY_MS) {
      this.db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?').run(now, idHash);
      session.lastSeenAt = now;
    }
    return session;
  }

  /** Ends a session (logout). */
  revoke(id: string): boolean {
    return this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(sha256(id)).changes === 1;
  }

  /** When the session ends if nothing else happens: the earlier of the idle and absolute limits. */
  endsAt(s: Session): number {
    return Math.min(s.expiresAt, s.lastSeenAt + this.policy.idleMs);
  }

  private purge(now: number): void {
    this.db
      .prepare('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?')
      .run(now, now - this.policy.idleMs);
  }
}
