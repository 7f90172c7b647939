import type Database from 'better-sqlite3';
import type { Config } from '../config/schema.js';
import type { ApiKeys } from './api-keys.js';
import { AuditLog } from './audit.js';
import { LoginLimiter } from './login-limiter.js';
import { Sessions } from './sessions.js';
import { SetupTokens } from './setup.js';
import { Users } from './users.js';

/** Everything login, sessions and access checks need; built once per process from the `auth` config. */
export interface AuthServices {
  users: Users;
  sessions: Sessions;
  setup: SetupTokens;
  audit: AuditLog;
  limiter: LoginLimiter;
  apiKeys: ApiKeys;
}

/** Who made a request, as the audit log records it. */
export interface Client {
  ip: string | null;
  userAgent: string | null;
}

export function createAuthServices(
  db: Database.Database,
  apiKeys: ApiKeys,
  config: Config['auth'],
): AuthServices {
  return {
    users: new Users(db),
    sessions: new Sessions(db, {
      idleMs: config.sessionIdleMinutes * 60_000,
      maxMs: config.sessionMaxHours * 3_600_000,
    }),
    setup: new SetupTokens(db),
    audit: new AuditLog(db),
    limiter: new LoginLimiter({
      maxFailures: config.loginMaxFailures,
      windowMs: config.loginWindowMinutes * 60_000,
      lockoutMs: config.lockoutMinutes * 60_000,
      ipBurst: config.loginIpBurst,
      ipPerMinute: config.loginIpPerMinute,
    }),
    apiKeys,
  };
}
