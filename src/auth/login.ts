import { verifyAgainstDummy, verifyPassword } from './passwords.js';
import type { AuthServices, Client } from './services.js';
import type { Session } from './sessions.js';
import { normaliseEmail, type User } from './users.js';

export type LoginResult =
  | { ok: true; user: User; sessionId: string; csrfToken: string; session: Session }
  | { ok: false; status: 400 | 401 | 403 | 409 | 429; reason: string; retryAfterMs?: number };

// One message for an unknown email and a wrong password, so a login does not reveal who has an account.
const WRONG = 'wrong email or password';

/** Checks a password under the rate limits and opens a session. Every outcome is audited. */
export async function login(
  auth: AuthServices,
  input: { email: string; password: string },
  client: Client,
): Promise<LoginResult> {
  const email = normaliseEmail(input.email).slice(0, 254);
  const admission = auth.limiter.admit(client.ip ?? 'unknown', email);
  if (!admission.ok) {
    const minutes = Math.ceil(admission.retryAfterMs / 60_000);
    if (admission.reason === 'locked') {
      auth.audit.record({
        action: 'login_failed',
        target: email,
        detail: { reason: 'account locked' },
        ...client,
      });
    }
    return {
      ok: false,
      status: 429,
      retryAfterMs: admission.retryAfterMs,
      reason:
        admission.reason === 'locked'
          ? `too many failed logins for this account; try again in ${minutes} min`
          : `too many login attempts from this address; try again in ${Math.ceil(admission.retryAfterMs / 1000)} s`,
    };
  }

  const found = auth.users.credentials(email);
  const ok = found
    ? await verifyPassword(found.passwordHash, input.password)
    : await verifyAgainstDummy(input.password);
  if (!found || !ok) {
    const failure = auth.limiter.fail(email);
    auth.audit.record({
      action: 'login_failed',
      target: email,
      detail: { reason: found ? 'wrong password' : 'unknown user' },
      ...client,
    });
    if (failure.locked) {
      auth.audit.record({
        action: 'lockout',
        target: email,
        detail: { minutes: Math.round(failure.retryAfterMs / 60_000) },
        ...client,
      });
    }
    return { ok: false, status: 401, reason: WRONG };
  }
  auth.limiter.succeed(email);
  return startSession(auth, found.user, client);
}

export function startSession(auth: AuthServices, user: User, client: Client): LoginResult {
  const { id, csrfToken, session } = auth.sessions.create(user.id, client);
  auth.audit.record({ action: 'login', actor: user.email, ...client });
  return { ok: true, user, sessionId: id, csrfToken, session };
}

export function logout(auth: AuthServices, sessionId: string, user: User, client: Client): void {
  if (auth.sessions.revoke(sessionId)) auth.audit.record({ action: 'logout', actor: user.email, ...client });
}
