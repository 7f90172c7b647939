import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';

export type Scope = 'query' | 'admin';

export interface ApiKeyInfo {
  id: string;
  name: string;
  scopes: Scope[];
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

const hash = (key: string) => createHash('sha256').update(key).digest('hex');

/** API keys for programmatic access. Only a hash is stored; the key is shown once, at creation. */
export class ApiKeys {
  private readonly lastWritten = new Map<string, number>();
  private stmts: { find: Database.Statement; touch: Database.Statement } | null = null;

  constructor(private readonly db: Database.Database) {}

  create(name: string, scopes: Scope[]): { key: string; info: ApiKeyInfo } {
    const key = `sp_key_${randomBytes(24).toString('base64url')}`;
    const id = randomUUID();
    const now = Date.now();
    this.db
      .prepare('INSERT INTO api_keys (id, name, key_hash, scopes, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, name, hash(key), JSON.stringify(scopes), now);
    return { key, info: { id, name, scopes, createdAt: now, revokedAt: null, lastUsedAt: null } };
  }

  /**
   * The key's info if it is valid, not revoked and has the scope (admin implies every scope).
   * Every call reads the key, so a revocation counts at once; "last used" is written at most
   * once a minute per key, so busy API clients do not turn each request into a write.
   */
  verify(key: string, scope: Scope): ApiKeyInfo | null {
    this.stmts ??= {
      find: this.db.prepare('SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL'),
      touch: this.db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?'),
    };
    const row = this.stmts.find.get(hash(key)) as Record<string, unknown> | undefined;
    if (!row) return null;
    const info = toInfo(row);
    if (!info.scopes.includes(scope) && !info.scopes.includes('admin')) return null;
    const now = Date.now();
    if (now - (this.lastWritten.get(info.id) ?? 0) >= 60_000) {
      this.stmts.touch.run(now, info.id);
      this.lastWritten.set(info.id, now);
    }
    return info;
  }

  list(): ApiKeyInfo[] {
    return (
      this.db.prepare('SELECT * FROM api_keys ORDER BY created_at').all() as Record<string, unknown>[]
    ).map(toInfo);
  }

  revoke(id: string): boolean {
    return (
      this.db
        .prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
        .run(Date.now(), id).changes === 1
    );
  }

  count(): number {
    return (
      this.db.prepare('SELECT count(*) AS n FROM api_keys WHERE revoked_at IS NULL').get() as { n: number }
    ).n;
  }
}

function toInfo(r: Record<string, unknown>): ApiKeyInfo {
  return {
    id: r.id as string,
    name: r.name as string,
    scopes: JSON.parse(r.scopes as string),
    createdAt: r.created_at as number,
    revokedAt: (r.revoked_at as number | null) ?? null,
    lastUsedAt: (r.last_used_at as number | null) ?? null,
  };
}
