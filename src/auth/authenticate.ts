import type { ApiKeyInfo } from './api-keys.js';
import { keyScope, leastRole, type Need, roleAllows } from './roles.js';
import type { AuthServices } from './services.js';
import { csrfTokenMatches, type Session } from './sessions.js';
import type { User } from './users.js';

/** What a request presents, read from its headers by the HTTP layer. */
export interface Credentials {
  method: string;
  /** `Authorization: Bearer …`, if sent: API keys are checked before any cookie. */
  bearer: string | null;
  /** The session cookie's value, if sent. */
  sessionId: string | null;
  /** The `X-CSRF-Token` header, if sent. */
  csrfToken: string | null;
}

export type Principal =
  | { kind: 'session'; user: User; session: Session; sessionId: string }
  | { kind: 'api-key'; key: ApiKeyInfo };

export type AuthOutcome =
  | { ok: true; principal: Principal }
  | { ok: false; status: 401 | 403; reason: string };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The audit log's name for whoever made a request. */
export const actorOf = (p: Principal): string =>
  p.kind === 'session' ? p.user.email : `api-key:${p.key.id}`;

/**
 * Who is calling, and whether they may do what `need` names. API keys need the scope; sessions
 * need the role and, for anything but GET/HEAD/OPTIONS, the session's CSRF token in a header
 * (a cross-site page can make the browser send the cookie, but cannot read the token).
 */
export function resolvePrincipal(auth: AuthServices, creds: Credentials, need: Need): AuthOutcome {
  if (creds.bearer) {
    const scope = keyScope(need);
    const key = auth.apiKeys.verify(creds.bearer, scope);
    if (!key)
      return { ok: false, status: 403, reason: `API key is unknown, revoked, or lacks the "${scope}" scope` };
    return { ok: true, principal: { kind: 'api-key', key } };
  }
  if (!creds.sessionId) {
    return {
      ok: false,
      status: 401,
      reason: 'not signed in: POST /api/v1/login, or send Authorization: Bearer <API key>',
    };
  }
  const session = auth.sessions.resume(creds.sessionId);
  const user = session ? auth.users.get(session.userId) : null;
  if (!session || !user) return { ok: false, status: 401, reason: 'your session has ended; sign in again' };
  if (
    !SAFE_METHODS.has(creds.method.toUpperCase()) &&
    !csrfTokenMatches(creds.sessionId, creds.csrfToken ?? undefined)
  ) {
    return {
      ok: false,
      status: 403,
      reason: 'missing or wrong X-CSRF-Token header; use the csrfToken from /api/v1/login or /api/v1/me',
    };
  }
  if (!roleAllows(user.role, need)) {
    return { ok: false, status: 403, reason: `this needs the ${leastRole(need)} role; you are ${user.role}` };
  }
  return { ok: true, principal: { kind: 'session', user, session, sessionId: creds.sessionId } };
}
