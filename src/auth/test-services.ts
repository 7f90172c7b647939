import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { openMetaDb } from '../meta/meta-db.js';
import { ApiKeys } from './api-keys.js';
import { type AuthServices, createAuthServices } from './services.js';

export const TEST_AUTH_CONFIG: Config['auth'] = {
  secureCookies: false,
  sessionIdleMinutes: 60,
  sessionMaxHours: 12,
  loginMaxFailures: 5,
  loginWindowMinutes: 15,
  lockoutMinutes: 15,
  loginIpBurst: 20,
  loginIpPerMinute: 10,
  publicUrl: '',
};

/** Auth services on a fresh meta.sqlite in a temp dir, for tests. */
export function testAuthServices(config: Partial<Config['auth']> = {}): AuthServices {
  const db = openMetaDb(mkdtempSync(join(tmpdir(), 'sp-auth-')));
  return createAuthServices(db, new ApiKeys(db), { ...TEST_AUTH_CONFIG, ...config });
}
