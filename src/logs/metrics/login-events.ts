import type { LogRecord } from '../log-record.js';

/**
 * Logins in logs. An application line saying so (`event`, `action`, `type` or `msg` =
 * login_failed / failed_login / login_failure / auth_failed; login / login_success) counts
 * directly; otherwise a POST to a path matching the login pattern is an attempt, and one
 * answered 401 or 403 a failure. A failure is keyed by the account when the line names one
 * (`user`, `username`, `account`, `email`, `user_id`) and by the client IP.
 */

const FAILED = new Set([
  'login_failed',
  'failed_login',
  'login_failure',
  'auth_failed',
  'authentication_failed',
]);
const SUCCEEDED = new Set(['login', 'login_success', 'login_succeeded', 'logged_in', 'signed_in']);
const EVENT_FIELDS = ['event', 'action', 'type', 'event.action'];
const ACCOUNT_FIELDS = ['user', 'username', 'account', 'email', 'user_id', 'user.name', 'login'];

const LOGIN_WORDS = /log_?in|auth|sign/i;

export const DEFAULT_LOGIN_PATTERN = '/(login|signin|sign-in|sign_in|auth)(/|$)';

export interface LoginOutcome {
  failed: boolean;
  /** `user:<account>` and/or `ip:<address>`. */
  keys: string[];
}

export function loginOf(r: LogRecord, loginPath: RegExp): LoginOutcome | null {
  // Most lines have nothing to do with logins: only parse extra fields that could say so.
  const extra = r.fields && LOGIN_WORDS.test(r.fields) ? safeParse(r.fields) : null;
  let failed: boolean | null = null;
  const said = [...EVENT_FIELDS.map((f) => extra?.[f]), r.message];
  for (const v of said) {
    if (typeof v !== 'string' || v.length > 40) continue;
    const s = v.toLowerCase().replace(/[\s.-]+/g, '_');
    if (FAILED.has(s)) failed = true;
    else if (SUCCEEDED.has(s)) failed = false;
    if (failed !== null) break;
  }
  if (failed === null && r.method === 'POST' && r.path && loginPath.test(r.path))
    failed = r.status === 401 || r.status === 403;
  if (failed === null) return null;
  const keys: string[] = [];
  if (failed) {
    const account = extra
      ? ACCOUNT_FIELDS.map((f) => extra[f]).find((v) => v !== undefined && v !== null && v !== '')
      : undefined;
    if (account !== undefined) keys.push(`user:${String(account)}`);
    if (r.ip) keys.push(`ip:${r.ip}`);
  }
  return { failed, keys };
}

function safeParse(s: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(s) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
