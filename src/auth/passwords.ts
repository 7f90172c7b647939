import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { COMMON_PASSWORDS } from './common-passwords.js';

export const MIN_PASSWORD_LENGTH = 12;
// argon2 would hash a megabyte happily, slowly: a cap keeps a login request cheap.
export const MAX_PASSWORD_LENGTH = 256;

// `Algorithm` is a const enum, which tsx/esbuild cannot inline from a .d.ts; 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;
// OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): about 30 ms here, off the event loop.
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export const hashPassword = (password: string): Promise<string> => hash(password, OPTIONS);

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  return verify(stored, password).catch(() => false);
}

// Computed once so a login for an unknown email costs the same as one with a wrong password.
let dummy: Promise<string> | null = null;
/** Spends the time of a real verification and answers false; for logins whose user does not exist. */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummy ??= hashPassword('storepulse dummy password for unknown users');
  await verifyPassword(await dummy, password);
  return false;
}

export type PolicyResult = { ok: true } | { ok: false; reason: string };

/** Whether a new password is acceptable, with a message a person can act on. */
export function checkPasswordPolicy(password: string, email = ''): PolicyResult {
  if (password.length < MIN_PASSWORD_LENGTH) {
    return {
      ok: false,
      reason: `password must be at least ${MIN_PASSWORD_LENGTH} characters (it has ${password.length}); a few unrelated words make a strong one`,
    };
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    return { ok: false, reason: `password must be at most ${MAX_PASSWORD_LENGTH} characters` };
  }
  if (/^(.)\1*$/su.test(password))
    return { ok: false, reason: 'password must not be one character repeated' };
  const lower = password.toLowerCase();
  const local = email.toLowerCase().split('@')[0];
  if (lower === email.toLowerCase() || (local.length >= 4 && lower.includes(local))) {
    return { ok: false, reason: 'password must not contain your email address or its name part' };
  }
  if (isCommon(lower)) {
    return {
      ok: false,
      reason: 'password is too common (it is on lists attackers try first); choose one nobody else would',
    };
  }
  return { ok: true };
}

/** A listed password, repeated, or padded with digits and symbols ("Password2024!", "qwertyqwerty"). */
function isCommon(lower: string): boolean {
  if (COMMON_PASSWORDS.has(lower)) return true;
  const stem = lower.replace(/^[\d\W_]+|[\d\W_]+$/g, '');
  if (stem === '' || COMMON_PASSWORDS.has(stem)) return true;
  for (const word of [lower, stem]) {
    for (let size = 1; size <= word.length / 2; size++) {
      const unit = word.slice(0, size);
      if (word.length % size === 0 && unit.repeat(word.length / size) === word) {
        return COMMON_PASSWORDS.has(unit) || size <= 3;
      }
    }
  }
  return false;
}
