import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const MIGRATIONS = [
  `CREATE TABLE sites (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, write_key TEXT NOT NULL UNIQUE,
     origins TEXT NOT NULL DEFAULT '[]', created_at INTEGER NOT NULL);
   CREATE TABLE api_keys (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL,
     created_at INTEGER NOT NULL, revoked_at INTEGER, last_used_at INTEGER);
   CREATE TABLE salts (day TEXT PRIMARY KEY, salt TEXT NOT NULL);`,
  // Users and login (src/auth): secrets (session ids, setup tokens) are stored only as SHA-256 hashes.
  `CREATE TABLE users (
     id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE COLLATE NOCASE, role TEXT NOT NULL,
     password_hash TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
   CREATE TABLE sessions (
     id_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, ip TEXT, user_agent TEXT);
   CREATE INDEX sessions_user ON sessions (user_id);
   CREATE TABLE setup_tokens (
     token_hash TEXT PRIMARY KEY, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER);
   CREATE TABLE audit_log (
     id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, action TEXT NOT NULL, actor TEXT,
     target TEXT, ip TEXT, user_agent TEXT, detail TEXT);`,
  // SQL console (src/query): each user's last queries, and saved queries shared in the team.
  `CREATE TABLE query_history (
     id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, sql TEXT NOT NULL, started_at INTEGER NOT NULL,
     elapsed_ms INTEGER NOT NULL, rows INTEGER, status TEXT NOT NULL, error TEXT);
   CREATE INDEX query_history_owner ON query_history (owner, id);
   CREATE TABLE saved_queries (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, sql TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
     owner TEXT NOT NULL, owner_name TEXT NOT NULL, shared INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
   CREATE INDEX saved_queries_owner ON saved_queries (owner);`,
  // Scheduled reports (src/reports/schedules.ts).
  `CREATE TABLE report_schedules (
     id TEXT PRIMARY KEY, site TEXT NOT NULL, report TEXT NOT NULL, params TEXT NOT NULL,
     cadence TEXT NOT NULL, hour INTEGER NOT NULL, weekday INTEGER, channel TEXT NOT NULL,
     target TEXT NOT NULL, secret TEXT, created_by TEXT NOT NULL, created_at INTEGER NOT NULL,
     next_run_at INTEGER NOT NULL, last_run_at INTEGER, last_status TEXT, last_error TEXT,
     failures INTEGER NOT NULL DEFAULT 0);
   CREATE INDEX report_schedules_due ON report_schedules (next_run_at);`,
  // Products a store marked unavailable (out of stock, withdrawn): recommendations leave them out
  // (src/recs/availability.ts).
  `CREATE TABLE unavailable_products (
     site_id TEXT NOT NULL, product_id TEXT NOT NULL, since INTEGER NOT NULL,
     PRIMARY KEY (site_id, product_id)) WITHOUT ROWID;`,
];

/**
 * Operational metadata (sites, API keys, visitor-id salts) in `<dataDir>/meta.sqlite`.
 * Several processes (server, CLI) may open it; WAL and a busy timeout make that safe.
 */
export function openMetaDb(dataDir: string): Database.Database {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, 'meta.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}
