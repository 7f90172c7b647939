import { createHash, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { type LoginResult, startSession } from './login.js';
import type { AuthServices, Client } from './services.js';
import { checkNewUser } from './users.js';

export const SETUP_TOKEN_TTL_MS = 24 * 3_600_000;

const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');

/**
 * One-time tokens for the setup link that creates the first admin (there is no default password).
 * Stored hashed; each start without users issues a fresh one and retires the ones printed before.
 */
export class SetupTokens {
  constructor(private readonly db: Database.Database) {}

  issue(now = Date.now()): { token: string; expiresAt: number } {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + SETUP_TOKEN_TTL_MS;
    this.db.transaction(() => {
      this.db
        .prepare('UPDATE setup_tokens SET expires_at = ? WHERE used_at IS NULL AND expires_at > ?')
        .run(now, now);
      this.db
        .prepare('INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES (?, ?, ?)')
        .run(sha256(token), now, expiresAt);
    })();
    return { token, expiresAt };
  }

  valid(token: string, now = Date.now()): boolean {
    return !!this.db
      .prepare('SELECT 1 FROM setup_tokens WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?')
      .get(sha256(token), now);
  }

  /** Marks the token used; false if it was used, expired or unknown (so two requests cannot both win). */
  consume(token: string, now = Date.now()): boolean {
    return (
      this.db
        .prepare(
          'UPDATE setup_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?',
        )
        .run(now, sha256(token), now).changes === 1
    );
  }
}

const REFUSED =
  'this setup link was already used or has expired; sign in, or add an admin with `storepulse users add EMAIL --role admin`';

/** Creates the first admin from a setup link and signs them in. */
export async function completeSetup(
  auth: AuthServices,
  input: { token: string; email: string; password: string },
  client: Client,
): Promise<LoginResult> {
  if (auth.users.count() > 0 || !auth.setup.valid(input.token)) {
    return { ok: false, status: 403, reason: REFUSED };
  }
  // Checked before the token is spent, so a weak password can be corrected with the same link.
  const checked = checkNewUser(input.email, 'admin', input.password);
  if (!checked.ok) return { ok: false, status: 400, reason: checked.reason };
  if (!auth.setup.consume(input.token)) return { ok: false, status: 403, reason: REFUSED };
  const created = await auth.users.create(checked.value, 'admin', input.password);
  if (!created.ok) return { ok: false, status: 409, reason: created.reason };
  const user = created.value;
  auth.audit.record({ action: 'setup_used', actor: user.email, ...client });
  auth.audit.record({
    action: 'user_created',
    actor: user.email,
    target: user.email,
    detail: { role: user.role, via: 'setup link' },
    ...client,
  });
  return startSession(auth, user, client);
}
