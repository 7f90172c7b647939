import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { LogRecord } from '../log-record.js';

/**
 * One day of logs in one SQLite file, `<dataDir>/logs-index/YYYY-MM-DD.sqlite` (UTC day of the
 * line's time), so retention drops whole files. Rows carry every parsed field; an FTS5 index
 * over the raw line (external content: the text is stored once) serves free text and
 * pre-filters field matches.
 *
 * Row ids are stream positions, and the highest position applied is saved in the same
 * transaction as the rows: a redelivered batch is skipped row by row, so each line is indexed
 * exactly once. Imports (which bypass the stream) take negative ids and record their tag.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS logs (
  id INTEGER PRIMARY KEY,
  t INTEGER NOT NULL,
  site_id TEXT NOT NULL,
  source TEXT NOT NULL,
  host TEXT, ip TEXT, method TEXT, path TEXT, query TEXT, protocol TEXT,
  status INTEGER, bytes INTEGER, referrer TEXT, user_agent TEXT, browser TEXT, os TEXT,
  device_type TEXT, is_bot INTEGER NOT NULL, response_time_ms REAL, level TEXT, message TEXT,
  product_id TEXT, category_id TEXT, fields TEXT, raw TEXT NOT NULL, parse_error TEXT,
  log_id TEXT NOT NULL, received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_site_t ON logs (site_id, t);
CREATE INDEX IF NOT EXISTS logs_status ON logs (site_id, status, t);
CREATE VIRTUAL TABLE IF NOT EXISTS logs_fts USING fts5 (raw, content = 'logs', content_rowid = 'id', columnsize = 0);
CREATE TABLE IF NOT EXISTS applied (topic TEXT PRIMARY KEY, position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS imports (tag TEXT PRIMARY KEY, rows INTEGER NOT NULL, at INTEGER NOT NULL);
`;

/** Column order of `logs` after `id`, as written. */
const COLS = [
  't',
  'site_id',
  'source',
  'host',
  'ip',
  'method',
  'path',
  'query',
  'protocol',
  'status',
  'bytes',
  'referrer',
  'user_agent',
  'browser',
  'os',
  'device_type',
  'is_bot',
  'response_time_ms',
  'level',
  'message',
  'product_id',
  'category_id',
  'fields',
  'raw',
  'parse_error',
  'log_id',
  'received_at',
] as const;

const rowOf = (id: number, r: LogRecord) => [
  id,
  r.log_time,
  r.site_id,
  r.source,
  r.host,
  r.ip,
  r.method,
  r.path,
  r.query,
  r.protocol,
  r.status,
  r.bytes,
  r.referrer,
  r.user_agent,
  r.browser,
  r.os,
  r.device_type,
  r.is_bot ? 1 : 0,
  r.response_time_ms,
  r.level,
  r.message,
  r.product_id,
  r.category_id,
  r.fields,
  r.raw,
  r.parse_error,
  r.log_id,
  r.received_at,
];

/** A stored row: the record plus its id. */
export type LogRow = { id: number } & Record<(typeof COLS)[number], unknown>;

export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export class DayIndex {
  readonly db: Database.Database;
  private readonly insertRow: Database.Statement;
  private readonly insertFts: Database.Statement;

  constructor(
    readonly dir: string,
    readonly day: string,
  ) {
    mkdirSync(dir, { recursive: true });
    this.db = new Database(join(dir, `${day}.sqlite`));
    this.db.pragma('journal_mode = WAL');
    // A crash may lose the newest commits, never tear one; the stream redelivers from the
    // position saved with them.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 10000');
    this.db.pragma('cache_size = -65536');
    const fresh = !this.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'logs_fts'").get();
    this.db.exec(SCHEMA);
    // Results are ordered by time, never by relevance, so no per-row sizes (columnsize = 0, above);
    // and segments merge in larger steps: ~20% faster inserts for a few more segments to read.
    if (fresh)
      this.db.exec(
        "INSERT INTO logs_fts (logs_fts, rank) VALUES ('automerge', 8); INSERT INTO logs_fts (logs_fts, rank) VALUES ('crisismerge', 64);",
      );
    this.insertRow = this.db.prepare(
      `INSERT INTO logs (id, ${COLS.join(', ')}) VALUES (${COLS.map(() => '?').join(', ')}, ?)`,
    );
    this.insertFts = this.db.prepare('INSERT INTO logs_fts (rowid, raw) VALUES (?, ?)');
  }

  appliedPosition(topic: string): number {
    const row = this.db.prepare('SELECT position FROM applied WHERE topic = ?').get(topic) as
      | { position: number }
      | undefined;
    return row?.position ?? 0;
  }

  /** Adds records at their stream positions, skipping those this file already holds. Returns rows added. */
  applyFromStream(topic: string, batch: { position: number; record: LogRecord }[]): number {
    return this.db.transaction(() => {
      const applied = this.appliedPosition(topic);
      let added = 0;
      let last = applied;
      for (const { position, record } of batch) {
        if (position <= applied) continue;
        this.insertRow.run(rowOf(position, record));
        this.insertFts.run(position, record.raw);
        added++;
        if (position > last) last = position;
      }
      if (last > applied)
        this.db
          .prepare(
            'INSERT INTO applied (topic, position) VALUES (?, ?) ON CONFLICT (topic) DO UPDATE SET position = excluded.position',
          )
          .run(topic, last);
      return added;
    })();
  }

  /** Adds imported records once per tag (a file's identity). Returns rows added (0 if already imported). */
  applyImport(tag: string, records: LogRecord[]): number {
    return this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM imports WHERE tag = ?').get(tag)) return 0;
      const min = (this.db.prepare('SELECT min(id) AS m FROM logs').get() as { m: number | null }).m;
      let id = Math.min(0, min ?? 0);
      for (const r of records) {
        id--;
        this.insertRow.run(rowOf(id, r));
        this.insertFts.run(id, r.raw);
      }
      this.db
        .prepare('INSERT INTO imports (tag, rows, at) VALUES (?, ?, ?)')
        .run(tag, records.length, Date.now());
      return records.length;
    })();
  }

  /** Deletes a source's rows older than `before` (ms), keeping the full-text index in step. */
  deleteSource(source: string, before: number): number {
    return this.db.transaction(() => {
      const gone = this.db
        .prepare('SELECT id, raw FROM logs WHERE source = ? AND t < ?')
        .all(source, before) as { id: number; raw: string }[];
      const del = this.db.prepare("INSERT INTO logs_fts (logs_fts, rowid, raw) VALUES ('delete', ?, ?)");
      const delRow = this.db.prepare('DELETE FROM logs WHERE id = ?');
      for (const g of gone) {
        del.run(g.id, g.raw);
        delRow.run(g.id);
      }
      return gone.length;
    })();
  }

  /** Bytes of raw text per source in this day, for size retention. */
  sourceBytes(): Map<string, number> {
    const rows = this.db.prepare('SELECT source, sum(length(raw)) AS b FROM logs GROUP BY source').all() as {
      source: string;
      b: number;
    }[];
    return new Map(rows.map((r) => [r.source, r.b]));
  }

  close(): void {
    this.db.close();
  }
}
