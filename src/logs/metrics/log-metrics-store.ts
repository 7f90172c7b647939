import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type Histogram, merge } from './latency-histogram.js';

/**
 * `<dataDir>/log-metrics.sqlite`: log metrics per minute, site, host and path group, failed
 * logins per key and minute, and the `logs` stream position they reflect. Each batch's counts
 * and its last position are written in one transaction, so after a crash (even kill -9) the
 * rows hold every record up to the position exactly once.
 */

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS minutes (
  site TEXT NOT NULL, minute INTEGER NOT NULL, host TEXT NOT NULL, path_group TEXT NOT NULL,
  requests INTEGER NOT NULL, s2xx INTEGER NOT NULL, s3xx INTEGER NOT NULL, s4xx INTEGER NOT NULL,
  s5xx INTEGER NOT NULL, bytes INTEGER NOT NULL, hist TEXT,
  login_attempts INTEGER NOT NULL, login_failures INTEGER NOT NULL,
  PRIMARY KEY (site, minute, host, path_group)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS site_minutes (
  site TEXT NOT NULL, minute INTEGER NOT NULL, requests INTEGER NOT NULL, s5xx INTEGER NOT NULL,
  login_attempts INTEGER NOT NULL, login_failures INTEGER NOT NULL,
  PRIMARY KEY (site, minute)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS login_failures (
  site TEXT NOT NULL, minute INTEGER NOT NULL, key TEXT NOT NULL, failures INTEGER NOT NULL,
  PRIMARY KEY (site, minute, key)) WITHOUT ROWID;
`;

/** The counts of one minute, site, host and path group. */
export interface MinuteRow {
  site: string;
  minute: number;
  host: string;
  pathGroup: string;
  requests: number;
  s2xx: number;
  s3xx: number;
  s4xx: number;
  s5xx: number;
  bytes: number;
  /** Response times (log buckets); lines without one are not in it. */
  hist: Histogram;
  loginAttempts: number;
  loginFailures: number;
}

export const COUNTS = [
  'requests',
  's2xx',
  's3xx',
  's4xx',
  's5xx',
  'bytes',
  'loginAttempts',
  'loginFailures',
] as const;

export const emptyRow = (site: string, minute: number, host: string, pathGroup: string): MinuteRow => ({
  site,
  minute,
  host,
  pathGroup,
  requests: 0,
  s2xx: 0,
  s3xx: 0,
  s4xx: 0,
  s5xx: 0,
  bytes: 0,
  hist: {},
  loginAttempts: 0,
  loginFailures: 0,
});

export interface MetricsBatch {
  position: number;
  rows: MinuteRow[];
  failures: { site: string; minute: number; key: string; failures: number }[];
  /** Per-site detection state (watermark, evaluation cursor, firing keys). */
  sites: Record<string, unknown>;
}

interface DbRow {
  site: string;
  minute: number;
  host: string;
  path_group: string;
  requests: number;
  s2xx: number;
  s3xx: number;
  s4xx: number;
  s5xx: number;
  bytes: number;
  hist: string | null;
  login_attempts: number;
  login_failures: number;
}

const fromDb = (r: DbRow): MinuteRow => ({
  site: r.site,
  minute: r.minute,
  host: r.host,
  pathGroup: r.path_group,
  requests: r.requests,
  s2xx: r.s2xx,
  s3xx: r.s3xx,
  s4xx: r.s4xx,
  s5xx: r.s5xx,
  bytes: r.bytes,
  hist: r.hist ? (JSON.parse(r.hist) as Histogram) : {},
  loginAttempts: r.login_attempts,
  loginFailures: r.login_failures,
});

export class LogMetricsStore {
  private readonly db: Database.Database;
  private readonly getRow;
  private readonly putRow;
  private readonly addFailures;
  private readonly addTotals;
  private readonly setMetaStmt;

  constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.getRow = this.db.prepare(
      'SELECT * FROM minutes WHERE site = ? AND minute = ? AND host = ? AND path_group = ?',
    );
    this.putRow = this.db.prepare(
      `INSERT OR REPLACE INTO minutes (site, minute, host, path_group, requests, s2xx, s3xx, s4xx, s5xx,
         bytes, hist, login_attempts, login_failures) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.addFailures = this.db.prepare(
      `INSERT INTO login_failures (site, minute, key, failures) VALUES (?, ?, ?, ?)
       ON CONFLICT (site, minute, key) DO UPDATE SET failures = failures + excluded.failures`,
    );
    this.addTotals = this.db.prepare(
      `INSERT INTO site_minutes (site, minute, requests, s5xx, login_attempts, login_failures)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (site, minute) DO UPDATE SET
         requests = requests + excluded.requests, s5xx = s5xx + excluded.s5xx,
         login_attempts = login_attempts + excluded.login_attempts,
         login_failures = login_failures + excluded.login_failures`,
    );
    this.setMetaStmt = this.db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
  }

  meta(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as
      | { value: string }
      | undefined;
    return row?.value ?? null;
  }

  position(): number {
    return Number(this.meta('position') ?? 0);
  }

  sites(): Record<string, unknown> {
    return JSON.parse(this.meta('sites') ?? '{}') as Record<string, unknown>;
  }

  /** Adds a batch's counts to the stored minutes and moves the position, in one transaction. */
  apply(batch: MetricsBatch): void {
    this.db.transaction(() => {
      for (const r of batch.rows) {
        const old = this.getRow.get(r.site, r.minute, r.host, r.pathGroup) as DbRow | undefined;
        const m = old ? fromDb(old) : emptyRow(r.site, r.minute, r.host, r.pathGroup);
        for (const k of COUNTS) m[k] += r[k];
        merge(m.hist, r.hist);
        this.putRow.run(
          m.site,
          m.minute,
          m.host,
          m.pathGroup,
          m.requests,
          m.s2xx,
          m.s3xx,
          m.s4xx,
          m.s5xx,
          m.bytes,
          Object.keys(m.hist).length > 0 ? JSON.stringify(m.hist) : null,
          m.loginAttempts,
          m.loginFailures,
        );
        // What the error rules sum over a day of minutes: one row per site and minute.
        this.addTotals.run(r.site, r.minute, r.requests, r.s5xx, r.loginAttempts, r.loginFailures);
      }
      for (const f of batch.failures) this.addFailures.run(f.site, f.minute, f.key, f.failures);
      this.setMetaStmt.run('position', String(batch.position));
      this.setMetaStmt.run('sites', JSON.stringify(batch.sites));
    })();
  }

  saveSites(sites: Record<string, unknown>): void {
    this.setMetaStmt.run('sites', JSON.stringify(sites));
  }

  /** Rows of a site in [from, to), in minute order. */
  rows(site: string, from: number, to: number): MinuteRow[] {
    const rows = this.db
      .prepare('SELECT * FROM minutes WHERE site = ? AND minute >= ? AND minute < ? ORDER BY minute')
      .all(site, from, to) as DbRow[];
    return rows.map(fromDb);
  }

  /** Sum of one count column over [from, to) for a site (from the per-site minute totals). */
  sum(
    site: string,
    column: 'requests' | 's5xx' | 'login_attempts' | 'login_failures',
    from: number,
    to: number,
  ): number {
    const row = this.db
      .prepare(
        `SELECT COALESCE(SUM(${column}), 0) AS n FROM minutes WHERE site = ? AND minute >= ? AND minute < ?`,
      )
      .get(site, from, to) as { n: number };
    return row.n;
  }

  /** Per-minute values of one count column over [from, to), minutes without lines absent. */
  minuteTotals(
    site: string,
    column: 'requests' | 's5xx' | 'login_attempts' | 'login_failures',
    from: number,
    to: number,
  ): Map<number, number> {
    const rows = this.db
      .prepare(
        `SELECT minute, ${column} AS n FROM site_minutes WHERE site = ? AND minute >= ? AND minute < ?`,
      )
      .all(site, from, to) as { minute: number; n: number }[];
    return new Map(rows.map((r) => [r.minute, r.n]));
  }

  firstMinute(site: string): number | null {
    const row = this.db.prepare('SELECT MIN(minute) AS m FROM site_minutes WHERE site = ?').get(site) as {
      m: number | null;
    };
    return row.m;
  }

  /** 5xx per host over [from, to), busiest first. */
  errorsByHost(site: string, from: number, to: number): { host: string; errors: number }[] {
    return this.db
      .prepare(
        `SELECT host, SUM(s5xx) AS errors FROM minutes WHERE site = ? AND minute >= ? AND minute < ?
         GROUP BY host HAVING errors > 0 ORDER BY errors DESC LIMIT 5`,
      )
      .all(site, from, to) as { host: string; errors: number }[];
  }

  failuresByKey(site: string, from: number, to: number): Map<string, number> {
    const rows = this.db
      .prepare(
        'SELECT key, SUM(failures) AS n FROM login_failures WHERE site = ? AND minute >= ? AND minute < ? GROUP BY key',
      )
      .all(site, from, to) as { key: string; n: number }[];
    return new Map(rows.map((r) => [r.key, r.n]));
  }

  /** Distinct hosts and path groups a site has (for the bounded-cardinality naming). */
  names(site: string): { hosts: string[]; groups: string[] } {
    const hosts = this.db
      .prepare('SELECT DISTINCT host FROM minutes WHERE site = ?')
      .pluck()
      .all(site) as string[];
    const groups = this.db
      .prepare('SELECT DISTINCT path_group FROM minutes WHERE site = ?')
      .pluck()
      .all(site) as string[];
    return { hosts, groups };
  }

  siteIds(): string[] {
    return this.db.prepare('SELECT DISTINCT site FROM site_minutes').pluck().all() as string[];
  }

  deleteBefore(minute: number): void {
    this.db.prepare('DELETE FROM minutes WHERE minute < ?').run(minute);
    this.db.prepare('DELETE FROM site_minutes WHERE minute < ?').run(minute);
    this.db.prepare('DELETE FROM login_failures WHERE minute < ?').run(minute);
  }

  close(): void {
    this.db.close();
  }
}
