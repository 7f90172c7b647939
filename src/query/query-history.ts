import type Database from 'better-sqlite3';

export type QueryStatus = 'ok' | 'error' | 'refused' | 'timeout' | 'cancelled';

export interface HistoryEntry {
  id: number;
  sql: string;
  startedAt: number;
  elapsedMs: number;
  rows: number | null;
  status: QueryStatus;
  error: string | null;
}

/** How many queries each user keeps; older ones are forgotten as new ones run. */
export const HISTORY_PER_USER = 100;

/** Each user's last queries (meta DB `query_history`), newest first. */
export class QueryHistory {
  private readonly insert: Database.Statement;
  private readonly trim: Database.Statement;
  private readonly select: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
      `INSERT INTO query_history (owner, sql, started_at, elapsed_ms, rows, status, error)
       VALUES (@owner, @sql, @startedAt, @elapsedMs, @rows, @status, @error)`,
    );
    // Keeps the newest HISTORY_PER_USER rows of one owner; the index makes this a short range scan.
    this.trim = db.prepare(
      `DELETE FROM query_history WHERE owner = ? AND id <= (
         SELECT id FROM query_history WHERE owner = ? ORDER BY id DESC LIMIT 1 OFFSET ${HISTORY_PER_USER})`,
    );
    this.select = db.prepare(
      `SELECT id, sql, started_at AS startedAt, elapsed_ms AS elapsedMs, rows, status, error
       FROM query_history WHERE owner = ? ORDER BY id DESC LIMIT ?`,
    );
  }

  record(owner: string, e: Omit<HistoryEntry, 'id'>): void {
    this.db.transaction(() => {
      this.insert.run({ owner, ...e });
      this.trim.run(owner, owner);
    })();
  }

  list(owner: string, limit = HISTORY_PER_USER): HistoryEntry[] {
    return this.select.all(owner, Math.min(Math.max(1, limit), HISTORY_PER_USER)) as HistoryEntry[];
  }
}
