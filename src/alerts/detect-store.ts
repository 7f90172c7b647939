import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { addBreakdown, type Breakdown, MINUTE, type MinuteFacts } from './detectors/series.js';
import type { BreakdownStore, SiteCheckpoint } from './site-detection.js';

/**
 * `<dataDir>/detect.sqlite`: the detection engine's checkpoint. Closed minutes (values,
 * per-key errors, breakdowns), each site's watermark, evaluation cursors, firing state and
 * offenders, and the stream position they reflect — written in one transaction, so after a
 * crash the state is exactly "every record up to this position, each once". Sliding counters
 * and open minutes are not saved: they are rebuilt from the stream tail from `tailFrom`.
 */

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sites (site TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS minutes (
  site TEXT NOT NULL, minute INTEGER NOT NULL, vals TEXT NOT NULL, keyed TEXT,
  PRIMARY KEY (site, minute)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS breakdowns (
  site TEXT NOT NULL, minute INTEGER NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY (site, minute)) WITHOUT ROWID;
`;

export interface DetectCheckpoint {
  /** Last stream position applied. */
  position: number;
  /** First stream position to replay into the rebuilt (sliding) state after a restart. */
  tailFrom: number;
  sites: SiteCheckpoint[];
  /** Minutes closed since the last checkpoint. */
  minutes: { site: string; facts: MinuteFacts }[];
  /** Minutes before this are deleted (retention). */
  retainFrom?: number;
}

export class DetectStore {
  private readonly db: Database.Database;
  /** Breakdowns of closed minutes not yet saved, per site. */
  private readonly pending = new Map<string, Map<number, Breakdown>>();

  constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
  }

  meta(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as
      | { value: string }
      | undefined;
    return row?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  position(): number {
    return Number(this.meta('position') ?? 0);
  }

  tailFrom(): number {
    return Number(this.meta('tail_from') ?? this.position() + 1);
  }

  save(cp: DetectCheckpoint): void {
    const setMeta = this.db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
    const site = this.db.prepare(
      'INSERT INTO sites (site, state) VALUES (?, ?) ON CONFLICT(site) DO UPDATE SET state = excluded.state',
    );
    const minute = this.db.prepare(
      'INSERT OR REPLACE INTO minutes (site, minute, vals, keyed) VALUES (?, ?, ?, ?)',
    );
    const breakdown = this.db.prepare(
      'INSERT OR REPLACE INTO breakdowns (site, minute, data) VALUES (?, ?, ?)',
    );
    this.db.transaction(() => {
      setMeta.run('position', String(cp.position));
      setMeta.run('tail_from', String(cp.tailFrom));
      for (const s of cp.sites) site.run(s.site, JSON.stringify(s));
      for (const { site: id, facts } of cp.minutes) {
        minute.run(
          id,
          facts.minute,
          JSON.stringify(facts.values),
          facts.keyedErrors ? JSON.stringify(facts.keyedErrors) : null,
        );
        if (facts.breakdown) breakdown.run(id, facts.minute, JSON.stringify(facts.breakdown));
      }
      if (cp.retainFrom !== undefined) {
        this.db.prepare('DELETE FROM minutes WHERE minute < ?').run(cp.retainFrom);
        this.db.prepare('DELETE FROM breakdowns WHERE minute < ?').run(cp.retainFrom);
      }
    })();
    for (const { site: id, facts } of cp.minutes) this.pending.get(id)?.delete(facts.minute);
  }

  /** Writes history minutes (from the lake) outside the checkpoint; they never overlap stream minutes. */
  saveHistory(site: string, facts: MinuteFacts[]): void {
    this.save({
      position: this.position(),
      tailFrom: this.tailFrom(),
      sites: [],
      minutes: facts.map((f) => ({ site, facts: f })),
    });
  }

  siteStates(): SiteCheckpoint[] {
    const rows = this.db.prepare('SELECT state FROM sites').all() as { state: string }[];
    return rows.map((r) => JSON.parse(r.state) as SiteCheckpoint);
  }

  siteIds(): string[] {
    const rows = this.db.prepare('SELECT DISTINCT site FROM minutes UNION SELECT site FROM sites').all() as {
      site: string;
    }[];
    return rows.map((r) => r.site);
  }

  /** A site's closed minutes in time order (without breakdowns, which stay on disk). */
  *minutes(site: string): Generator<MinuteFacts> {
    const rows = this.db
      .prepare('SELECT minute, vals, keyed FROM minutes WHERE site = ? ORDER BY minute')
      .iterate(site) as Iterable<{ minute: number; vals: string; keyed: string | null }>;
    for (const r of rows)
      yield {
        minute: r.minute,
        values: JSON.parse(r.vals),
        ...(r.keyed ? { keyedErrors: JSON.parse(r.keyed) } : {}),
      };
  }

  /** The breakdown source of one site: saved minutes from disk, newer ones from memory. */
  breakdowns(site: string): BreakdownStore {
    const pending = this.pending.get(site) ?? new Map<number, Breakdown>();
    this.pending.set(site, pending);
    const range = this.db.prepare(
      'SELECT data FROM breakdowns WHERE site = ? AND minute >= ? AND minute < ?',
    );
    return {
      put: (minute, b) => pending.set(minute, b),
      breakdown: (from, to) => {
        const out: Breakdown = {};
        for (const r of range.all(site, from, to) as { data: string }[])
          addBreakdown(out, JSON.parse(r.data));
        for (let m = from; m < to; m += MINUTE) addBreakdown(out, pending.get(m));
        return out;
      },
    };
  }

  close(): void {
    this.db.close();
  }
}
