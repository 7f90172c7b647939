export interface LimiterPolicy {
  /** Failures for one account within `windowMs` that lock it. */
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
  /** Per-IP token bucket: attempts at once, and attempts regained per minute. */
  ipBurst: number;
  ipPerMinute: number;
}

export type Admission = { ok: true } | { ok: false; reason: 'ip' | 'locked'; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}
interface Account {
  failures: number[];
  lockedUntil: number;
}

// Past this many tracked keys, entries that no longer matter are dropped (a spray of IPs or emails).
const MAX_TRACKED = 10_000;

/**
 * Slows down password guessing: each IP has a token bucket of attempts, and an account
 * (any email, known or not, so lockouts reveal nothing) is locked after repeated failures.
 * Kept in memory: a restart forgets it, and only the server process checks passwords.
 */
export class LoginLimiter {
  private readonly ips = new Map<string, Bucket>();
  private readonly accounts = new Map<string, Account>();

  constructor(private readonly policy: LimiterPolicy) {}

  /** Called before a password is checked; spends one of the IP's attempts. */
  admit(ip: string, account: string, now = Date.now()): Admission {
    const perMs = this.policy.ipPerMinute / 60_000;
    const b = this.ips.get(ip) ?? { tokens: this.policy.ipBurst, at: now };
    b.tokens = Math.min(this.policy.ipBurst, b.tokens + (now - b.at) * perMs);
    b.at = now;
    this.ips.set(ip, b);
    if (b.tokens < 1) return { ok: false, reason: 'ip', retryAfterMs: Math.ceil((1 - b.tokens) / perMs) };
    b.tokens -= 1;

    const lockedUntil = this.accounts.get(account)?.lockedUntil ?? 0;
    if (lockedUntil > now) return { ok: false, reason: 'locked', retryAfterMs: lockedUntil - now };
    if (this.ips.size > MAX_TRACKED || this.accounts.size > MAX_TRACKED) this.prune(now);
    return { ok: true };
  }

  /** Records a wrong password; `locked` is set on the failure that locks the account. */
  fail(account: string, now = Date.now()): { locked: boolean; retryAfterMs: number } {
    const a = this.accounts.get(account) ?? { failures: [], lockedUntil: 0 };
    a.failures = [...a.failures.filter((t) => now - t < this.policy.windowMs), now];
    this.accounts.set(account, a);
    if (a.failures.length < this.policy.maxFailures) return { locked: false, retryAfterMs: 0 };
    a.failures = [];
    a.lockedUntil = now + this.policy.lockoutMs;
    return { locked: true, retryAfterMs: this.policy.lockoutMs };
  }

  /** A correct password clears the account's failures. */
  succeed(account: string): void {
    this.accounts.delete(account);
  }

  private prune(now: number): void {
    for (const [ip, b] of this.ips) {
      if (b.tokens + (now - b.at) * (this.policy.ipPerMinute / 60_000) >= this.policy.ipBurst)
        this.ips.delete(ip);
    }
    for (const [key, a] of this.accounts) {
      if (a.lockedUntil <= now && a.failures.every((t) => now - t >= this.policy.windowMs)) {
        this.accounts.delete(key);
      }
    }
  }
}
