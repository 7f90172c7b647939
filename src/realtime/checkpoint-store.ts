import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { FeedItem } from './metrics.js';
import type { AbnormalCounts, Resolution } from './windows.js';

/**
 * The realtime checkpoint: window state and the stream positions it reflects, written in one
 * SQLite transaction, so after a crash the state on disk is exactly "every record up to these
 * positions, each once". Only windows changed since the last checkpoint are written, so a
 * checkpoint costs what the last second changed, not the whole history.
 *
 * synchronous=NORMAL in WAL mode may lose the last commits on power loss but never tears
 * one: the state falls back to an older, still consistent checkpoint and the stream redelivers
 * from there.
 */

export interface WindowRow {
  site: string;
  resolution: Resolution;
  start: number;
  closed: boolean;
  state: Buffer;
}

export interface AbnormalRow extends AbnormalCounts {
  site: string;
  resolution: Resolution;
  start: number;
}

export interface SiteRow {
  site: string;
  watermark: number;
  feed: FeedItem[];
}

export interface Checkpoint {
  positions: Record<string, number>;
  sites: SiteRow[];
  windows: WindowRow[];
  abnormal: AbnormalRow[];
  /** Per site, windows starting before these are deleted (retention). */
  retainFrom: { site: string; minute: number; hour: number }[];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS positions (topic TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sites (site TEXT PRIMARY KEY, watermark INTEGER NOT NULL, feed TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS windows (
  site TEXT NOT NULL, resolution TEXT NOT NULL, start INTEGER NOT NULL, closed INTEGER NOT NULL, state BLOB NOT NULL,
  PRIMARY KEY (site, resolution, start)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS abnormal (
  site TEXT NOT NULL, resolution TEXT NOT NULL, start INTEGER NOT NULL,
  late INTEGER NOT NULL, quarantined INTEGER NOT NULL, invalid INTEGER NOT NULL,
  PRIMARY KEY (site, resolution, start)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL, count INTEGER NOT NULL);
`;

function prepare(db: Database.Database) {
  return {
    position: db.prepare(
      'INSERT INTO positions (topic, position) VALUES (?, ?) ON CONFLICT(topic) DO UPDATE SET position = excluded.position',
    ),
    site: db.prepare(
      `INSERT INTO sites (site, watermark, feed) VALUES (?, ?, ?)
       ON CONFLICT(site) DO UPDATE SET watermark = excluded.watermark, feed = excluded.feed`,
    ),
    window: db.prepare(
      `INSERT INTO windows (site, resolution, start, closed, state) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(site, resolution, start) DO UPDATE SET closed = excluded.closed, state = excluded.state`,
    ),
    abnormal: db.prepare(
      `INSERT INTO abnormal (site, resolution, start, late, quarantined, invalid) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(site, resolution, start) DO UPDATE SET
         late = excluded.late, quarantined = excluded.quarantined, invalid = excluded.invalid`,
    ),
    dropWindows: db.prepare('DELETE FROM windows WHERE site = ? AND resolution = ? AND start < ?'),
    dropAbnormal: db.prepare('DELETE FROM abnormal WHERE site = ? AND resolution = ? AND start < ?'),
    stamp: db.prepare(
      `INSERT INTO checkpoints (id, at, count) VALUES (1, ?, 1)
       ON CONFLICT(id) DO UPDATE SET at = excluded.at, count = count + 1`,
    ),
    range: db.prepare(
      `SELECT site, resolution, start, closed, state FROM windows
       WHERE site = ? AND resolution = ? AND start >= ? AND start < ? ORDER BY start`,
    ),
  };
}

export class CheckpointStore {
  private readonly db: Database.Database;
  private readonly stmts: ReturnType<typeof prepare>;

  constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.stmts = prepare(this.db);
  }

  /** Writes one checkpoint atomically: positions, sites, changed windows, retention. */
  save(cp: Checkpoint): void {
    const s = this.stmts;
    this.db.transaction(() => {
      for (const [topic, position] of Object.entries(cp.positions)) s.position.run(topic, position);
      for (const site of cp.sites) s.site.run(site.site, site.watermark, JSON.stringify(site.feed));
      for (const w of cp.windows) s.window.run(w.site, w.resolution, w.start, w.closed ? 1 : 0, w.state);
      for (const a of cp.abnormal)
        s.abnormal.run(a.site, a.resolution, a.start, a.late, a.quarantined, a.invalid);
      for (const r of cp.retainFrom) {
        for (const res of ['minute', 'hour'] as const) {
          s.dropWindows.run(r.site, res, r[res]);
          s.dropAbnormal.run(r.site, res, r[res]);
        }
      }
      s.stamp.run(Date.now());
    })();
  }

  positions(): Record<string, number> {
    const rows = this.db.prepare('SELECT topic, position FROM positions').all() as {
      topic: string;
      position: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.topic, r.position]));
  }

  sites(): SiteRow[] {
    const rows = this.db.prepare('SELECT site, watermark, feed FROM sites').all() as {
      site: string;
      watermark: number;
      feed: string;
    }[];
    return rows.map((r) => ({
      site: r.site,
      watermark: r.watermark,
      feed: JSON.parse(r.feed) as FeedItem[],
    }));
  }

  /** Windows a restart needs in memory: every open one and the closed ones at or after the hot horizon. */
  hotWindows(site: string, horizon: Record<Resolution, number>): WindowRow[] {
    const rows = this.db
      .prepare(
        `SELECT site, resolution, start, closed, state FROM windows
         WHERE site = ? AND (closed = 0 OR (resolution = 'minute' AND start >= ?) OR (resolution = 'hour' AND start >= ?))`,
      )
      .all(site, horizon.minute, horizon.hour) as (Omit<WindowRow, 'closed'> & { closed: number })[];
    return rows.map((r) => ({ ...r, closed: r.closed === 1 }));
  }

  windows(site: string, resolution: Resolution, from: number, to: number): WindowRow[] {
    const rows = this.stmts.range.all(site, resolution, from, to) as (Omit<WindowRow, 'closed'> & {
      closed: number;
    })[];
    return rows.map((r) => ({ ...r, closed: r.closed === 1 }));
  }

  abnormal(site: string): AbnormalRow[] {
    return this.db
      .prepare('SELECT site, resolution, start, late, quarantined, invalid FROM abnormal WHERE site = ?')
      .all(site) as AbnormalRow[];
  }

  lastCheckpoint(): { at: number; count: number } | null {
    return (
      (this.db.prepare('SELECT at, count FROM checkpoints WHERE id = 1').get() as
        | { at: number; count: number }
        | undefined) ?? null
    );
  }

  /** Forgets all state and records where consumption restarts, in one transaction (for rebuild). */
  reset(positions: Record<string, number>): void {
    this.db.transaction(() => {
      this.db.exec('DELETE FROM windows; DELETE FROM abnormal; DELETE FROM sites; DELETE FROM positions;');
      for (const [topic, position] of Object.entries(positions)) this.stmts.position.run(topic, position);
    })();
  }

  close(): void {
    this.db.close();
  }
}
