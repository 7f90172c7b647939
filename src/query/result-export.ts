import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { StatementType } from '@duckdb/node-api';
import { lakeDir } from '../lake/lake.js';
import { sqlString } from '../lake/writer.js';
import {
  cleanMessage,
  lockedInstance,
  prepareSelect,
  QueryError,
  refreshViews,
  refusalOrInvalid,
  stopWatch,
} from './sandbox.js';

export type ExportFormat = 'csv' | 'parquet';
export const isExportFormat = (v: unknown): v is ExportFormat => v === 'csv' || v === 'parquet';

/** A download holds at most this many rows, so one query cannot fill the disk. */
export const EXPORT_MAX_ROWS = 1_000_000;

export interface ExportOptions {
  dataDir: string;
  sql: string;
  format: ExportFormat;
  timeoutMs: number;
  memoryLimit?: string;
  maxRows?: number;
  signal?: AbortSignal;
}

export interface ExportedFile {
  path: string;
  rows: number;
  /** The file stopped at the row limit; the query may have more rows. */
  limitReached: boolean;
  contentType: string;
  /** Removes the file and its private directory. */
  cleanup(): void;
}

const FORMATS: Record<ExportFormat, { options: string; contentType: string }> = {
  csv: { options: 'FORMAT csv, HEADER true', contentType: 'text/csv; charset=utf-8' },
  parquet: { options: 'FORMAT parquet, COMPRESSION zstd', contentType: 'application/vnd.apache.parquet' },
};

export const exportsDir = (dataDir: string) => join(dataDir, 'tmp', 'exports');

/** Files of downloads cut short by a crash: nothing else uses this directory. */
export function removeStaleExports(dataDir: string): void {
  rmSync(exportsDir(dataDir), { recursive: true, force: true });
}

/**
 * Writes a query's whole result (up to EXPORT_MAX_ROWS) as CSV or Parquet, for a download.
 *
 * The user's SQL stays sandboxed although the export must write a file:
 * - it is first checked on its own, exactly as POST /api/v1/query checks it (one statement, a
 *   SELECT), so the text is a complete, balanced statement; it is then put, unchanged, inside
 *   `COPY (FROM (<sql>\n) LIMIT n) TO '<our file>'`, and that text must again parse as one COPY;
 * - the COPY runs in a DuckDB instance of its own, made for this one export, whose only
 *   readable and writable places are the lake and a fresh, empty, private (0700) directory
 *   outside it; external access is off and the configuration locked, as in the sandbox.
 *   Another user's download, the data dir and the rest of the disk are out of its reach;
 * - the time limit and cancellation apply as to any query, and the file is deleted once sent.
 */
export async function exportQueryResult(o: ExportOptions): Promise<ExportedFile> {
  const root = exportsDir(o.dataDir);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const dir = mkdtempSync(join(root, 'x-'));
  chmodSync(dir, 0o700);
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const path = join(dir, `result.${o.format}`);
  const limit = Math.min(o.maxRows ?? EXPORT_MAX_ROWS, EXPORT_MAX_ROWS);
  const instance = await lockedInstance([lakeDir(o.dataDir), dir], {
    threads: 2,
    memoryLimit: o.memoryLimit,
  });
  const conn = await instance.connect();
  const watch = stopWatch(conn, o.timeoutMs, o.signal);
  const stopped = (err: unknown, otherwise: (e: unknown) => QueryError) =>
    watch.stoppedError() ?? (err instanceof QueryError ? err : otherwise(err));
  try {
    let copy: Awaited<ReturnType<typeof prepareSelect>>;
    try {
      await refreshViews(conn, o.dataDir);
      (await prepareSelect(conn, o.sql)).destroySync();
      const body = o.sql.trim().replace(/;+\s*$/, '');
      const wrapped = `COPY (FROM (\n${body}\n) LIMIT ${limit}) TO ${sqlString(path)} (${FORMATS[o.format].options})`;
      const extracted = await conn.extractStatements(wrapped).catch(() => null);
      const prepared = extracted?.count === 1 ? await extracted.prepare(0).catch(() => null) : null;
      if (!prepared || prepared.statementType !== StatementType.COPY) {
        throw new QueryError(
          'this query cannot be exported as it is written; remove trailing comments or semicolons',
          'invalid',
        );
      }
      copy = prepared;
    } catch (err) {
      throw stopped(err, refusalOrInvalid);
    }
    let rows: number;
    try {
      rows = Number((await copy.run()).rowsChanged);
    } catch (err) {
      throw stopped(err, (e) => new QueryError(cleanMessage(e), 'failed'));
    }
    const late = watch.stoppedError();
    if (late) throw late;
    return { path, rows, limitReached: rows >= limit, contentType: FORMATS[o.format].contentType, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  } finally {
    watch.done();
    conn.closeSync();
    instance.closeSync();
  }
}
