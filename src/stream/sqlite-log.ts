import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type {
  AppendRecord,
  AppendResult,
  BatchHandler,
  ConsumeOptions,
  EventLog,
  StartFrom,
  StoredRecord,
  Subscription,
  TopicStats,
} from './event-log.js';

interface Pending {
  topic: string;
  records: AppendRecord[];
  resolve: (r: AppendResult) => void;
  reject: (e: Error) => void;
}

const TOPIC_RE = /^[a-z][a-z0-9_]{0,62}$/;
/** How often a consumer looks for records written by another process (same-process appends wake it at once). */
const POLL_MS = 250;

/**
 * The embedded stream: one SQLite database in WAL mode, one table per topic. Appends from
 * the same tick are committed together in one transaction (group commit); with `fsync`
 * (default) the commit is fsynced before any of the appends resolve, so an acknowledged
 * record survives a crash or power cut.
 */
export class SqliteEventLog implements EventLog {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly pending: Pending[] = [];
  private flushScheduled = false;
  private readonly wake = new EventEmitter();
  private readonly topics = new Set<string>();
  private closed = false;
  private readonly subs = new Set<Subscription>();
  private readonly addBytes: Database.Statement;

  constructor(opts: { dir: string; fsync?: boolean; file?: string }) {
    mkdirSync(opts.dir, { recursive: true });
    this.db = new Database(join(opts.dir, opts.file ?? 'stream.sqlite'));
    this.db.pragma('journal_mode = WAL');
    // FULL fsyncs the WAL at every commit: the durability the ack promises. NORMAL can lose
    // the last commits on power loss, so it is only used when fsync is switched off.
    this.db.pragma(`synchronous = ${opts.fsync === false ? 'NORMAL' : 'FULL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS consumer_groups (
      topic TEXT NOT NULL, grp TEXT NOT NULL, position INTEGER NOT NULL, updated_at INTEGER NOT NULL,
      PRIMARY KEY (topic, grp)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS topic_bytes (topic TEXT PRIMARY KEY, bytes INTEGER NOT NULL) WITHOUT ROWID;`);
    this.wake.setMaxListeners(0);
    this.addBytes = this.db.prepare('UPDATE topic_bytes SET bytes = bytes + ? WHERE topic = ?');
  }

  private table(topic: string): string {
    if (!TOPIC_RE.test(topic)) throw new Error(`invalid topic name "${topic}"`);
    if (!this.topics.has(topic)) {
      this.db.exec(`CREATE TABLE IF NOT EXISTS "t_${topic}" (
        position INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE, ts INTEGER NOT NULL, value TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS "t_${topic}_ts" ON "t_${topic}"(ts);`);
      // Size is kept as a running total so stats() and size retention need no full scan.
      this.db
        .prepare(
          `INSERT OR IGNORE INTO topic_bytes (topic, bytes)
           SELECT ?, coalesce(sum(octet_length(value) + coalesce(octet_length(key), 0) + 16), 0) FROM "t_${topic}"`,
        )
        .run(topic);
      this.topics.add(topic);
    }
    return `"t_${topic}"`;
  }

  append(topic: string, records: AppendRecord[]): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('stream is closed'));
    try {
      this.table(topic);
    } catch (err) {
      return Promise.reject(err);
    }
    if (records.length === 0) return Promise.resolve({ positions: [], duplicates: 0 });
    return new Promise((resolve, reject) => {
      this.pending.push({ topic, records, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Group commit: every append queued since the last flush goes into one fsynced transaction. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    const results: AppendResult[] = [];
    const touched = new Set<string>();
    try {
      this.db.transaction(() => {
        for (const p of batch) {
          const t = this.table(p.topic);
          const insert = this.stmt(
            `INSERT INTO ${t} (key, ts, value) VALUES (?, ?, ?) ON CONFLICT(key) DO NOTHING`,
          );
          const findKey = this.stmt(`SELECT position FROM ${t} WHERE key = ?`);
          const now = Date.now();
          const positions: (number | null)[] = [];
          let duplicates = 0;
          let bytes = 0;
          for (const r of p.records) {
            const info = insert.run(r.key ?? null, r.timestamp ?? now, r.value);
            if (info.changes === 1) {
              positions.push(Number(info.lastInsertRowid));
              bytes += Buffer.byteLength(r.value) + (r.key ? Buffer.byteLength(r.key) : 0) + 16;
            } else {
              duplicates++;
              positions.push((findKey.get(r.key) as { position: number } | undefined)?.position ?? null);
            }
          }
          this.addBytes.run(bytes, p.topic);
          results.push({ positions, duplicates });
          touched.add(p.topic);
        }
      })();
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
      return;
    }
    for (const [i, p] of batch.entries()) p.resolve(results[i]);
    for (const t of touched) this.wake.emit(t);
  }

  private resolveStart(topic: string, from: StartFrom): number {
    const t = this.table(topic);
    if (from === 'earliest') return 0;
    if (from === 'latest')
      return (this.db.prepare(`SELECT max(position) AS p FROM ${t}`).get() as { p: number | null }).p ?? 0;
    if ('position' in from) return Math.max(0, from.position - 1);
    const row = this.db.prepare(`SELECT min(position) AS p FROM ${t} WHERE ts >= ?`).get(from.time) as {
      p: number | null;
    };
    if (row.p !== null) return row.p - 1;
    return (this.db.prepare(`SELECT max(position) AS p FROM ${t}`).get() as { p: number | null }).p ?? 0;
  }

  /** Prepared statements are reused: preparing costs more than a small insert. */
  private readonly statements = new Map<string, Database.Statement>();
  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private readAfter(topic: string, after: number, limit: number): StoredRecord[] {
    const t = this.table(topic);
    return this.stmt(
      `SELECT position, key, ts AS timestamp, value FROM ${t} WHERE position > ? ORDER BY position LIMIT ?`,
    ).all(after, limit) as StoredRecord[];
  }

  async read(topic: string, from: StartFrom, limit: number): Promise<StoredRecord[]> {
    return this.readAfter(topic, this.resolveStart(topic, from), limit);
  }

  async committed(topic: string, group: string): Promise<number> {
    return this.committedSync(topic, group) ?? 0;
  }

  private committedSync(topic: string, group: string): number | null {
    const row = this.db
      .prepare('SELECT position FROM consumer_groups WHERE topic = ? AND grp = ?')
      .get(topic, group) as { position: number } | undefined;
    return row ? row.position : null;
  }

  private commit(topic: string, group: string, position: number): void {
    this.db
      .prepare(`INSERT INTO consumer_groups (topic, grp, position, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT(topic, grp) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`)
      .run(topic, group, position, Date.now());
  }

  async seek(topic: string, group: string, from: StartFrom): Promise<void> {
    this.commit(topic, group, this.resolveStart(topic, from));
  }

  consume(topic: string, group: string, handler: BatchHandler, opts: ConsumeOptions = {}): Subscription {
    const maxBatch = opts.maxBatch ?? 1000;
    const maxWaitMs = opts.maxWaitMs ?? 0;
    this.table(topic);
    let stopped = false;
    let wakeUp: (() => void) | null = null;
    const onWake = () => wakeUp?.();
    this.wake.on(topic, onWake);
    const sleep = (ms: number) =>
      new Promise<void>((r) => {
        const timer = setTimeout(() => {
          wakeUp = null;
          r();
        }, ms);
        wakeUp = () => {
          clearTimeout(timer);
          wakeUp = null;
          r();
        };
      });

    const loop = async () => {
      let position = this.committedSync(topic, group);
      if (position === null) {
        position = this.resolveStart(topic, opts.startFrom ?? 'earliest');
        this.commit(topic, group, position);
      }
      while (!stopped) {
        let records = this.readAfter(topic, position, maxBatch);
        if (records.length === 0) {
          await sleep(POLL_MS);
          continue;
        }
        if (records.length < maxBatch && maxWaitMs > 0) {
          const deadline = Date.now() + maxWaitMs;
          while (!stopped && records.length < maxBatch && Date.now() < deadline) {
            await sleep(Math.min(POLL_MS, deadline - Date.now()));
            // Read only what arrived since: re-reading the whole pending batch on every wake-up
            // made a waiting consumer cost more than the appends it waited for.
            const more = this.readAfter(
              topic,
              records[records.length - 1].position,
              maxBatch - records.length,
            );
            records = records.concat(more);
          }
        }
        await handler(records);
        position = records[records.length - 1].position;
        if (!this.closed) this.commit(topic, group, position);
      }
    };
    const done = loop().finally(() => this.wake.off(topic, onWake));
    const sub: Subscription = {
      done,
      stop: async () => {
        stopped = true;
        wakeUp?.();
        this.subs.delete(sub);
        await done.catch(() => {});
      },
    };
    this.subs.add(sub);
    return sub;
  }

  async stats(topic: string): Promise<TopicStats> {
    const t = this.table(topic);
    const row = this.db
      .prepare(
        `SELECT coalesce(min(position), 0) AS firstPosition, coalesce(max(position), 0) AS lastPosition,
         count(*) AS records FROM ${t}`,
      )
      .get() as Omit<TopicStats, 'topic' | 'bytes'>;
    const seqRow = this.db.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').get(`t_${topic}`) as
      | { seq: number }
      | undefined;
    const { bytes } = this.db.prepare('SELECT bytes FROM topic_bytes WHERE topic = ?').get(topic) as {
      bytes: number;
    };
    return { topic, ...row, bytes, lastPosition: Math.max(row.lastPosition, seqRow?.seq ?? 0) };
  }

  /** Deletes matching rows and takes their size off the running total, in one transaction. */
  private drop(topic: string, where: string, arg: number): number {
    const t = this.table(topic);
    return this.db.transaction(() => {
      const sizes = this.db
        .prepare(
          `DELETE FROM ${t} WHERE ${where} RETURNING octet_length(value) + coalesce(octet_length(key), 0) + 16 AS size`,
        )
        .all(arg) as { size: number }[];
      this.addBytes.run(-sizes.reduce((sum, r) => sum + r.size, 0), topic);
      return sizes.length;
    })();
  }

  async enforceRetention(topic: string, policy: { maxAgeMs?: number; maxBytes?: number }): Promise<number> {
    const t = this.table(topic);
    let dropped = 0;
    if (policy.maxAgeMs !== undefined) dropped += this.drop(topic, 'ts < ?', Date.now() - policy.maxAgeMs);
    if (policy.maxBytes !== undefined) {
      const { bytes } = await this.stats(topic);
      if (bytes > policy.maxBytes) {
        // Walk from the oldest record, dropping until what is left fits.
        let excess = bytes - policy.maxBytes;
        let cutoff = 0;
        const it = this.db
          .prepare(
            `SELECT position, octet_length(value) + coalesce(octet_length(key), 0) + 16 AS size FROM ${t} ORDER BY position`,
          )
          .iterate() as IterableIterator<{ position: number; size: number }>;
        for (const r of it) {
          cutoff = r.position;
          excess -= r.size;
          if (excess <= 0) break;
        }
        if (cutoff > 0) dropped += this.drop(topic, 'position <= ?', cutoff);
      }
    }
    return dropped;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.subs].map((s) => s.stop()));
    this.flush();
    this.closed = true;
    this.db.close();
  }
}
