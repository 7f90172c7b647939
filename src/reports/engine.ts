import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBValue,
  JsonDuckDBValueConverter,
} from '@duckdb/node-api';
import { lakeDir } from '../lake/lake.js';
import { sqlString } from '../lake/writer.js';
import { describeReport, findReport, paramsOf, REPORTS } from './catalogue.js';
import { LakeDayLister } from './lake-days.js';
import { parseParams } from './params.js';
import { ReportError } from './report-error.js';
import { prepareRollups, type RefreshSummary, refreshRollups } from './rollups.js';
import type { Cell, ReportAnswer, ReportColumn, ReportInfo } from './types.js';

export interface ReportEngineOptions {
  dataDir: string;
  /** A report (not the rollup build behind it) is cancelled after this. */
  timeoutMs: number;
  memoryLimit?: string;
  threads?: number;
}

/**
 * Answers the reports of catalogue.ts from the rollups (rollups.ts), on its own DuckDB: a
 * database file under <dataDir>/reports holding the rollups, with a memory limit, two threads,
 * and no file access outside the lake (the same lock-down as the SQL sandbox). Before a report
 * runs, the days it covers are brought up to date with the lake; that work is shared and
 * continues in the background if a request gives up waiting for it.
 */
export class ReportEngine {
  /** Refreshes run one after another; each waits for the report queries already running. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly readers = new Set<Promise<unknown>>();
  private closed = false;
  private building: { day: string; done: number; total: number } | null = null;
  private readonly lister: LakeDayLister;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly o: ReportEngineOptions,
  ) {
    this.lister = new LakeDayLister(o.dataDir);
  }

  static async open(o: ReportEngineOptions): Promise<ReportEngine> {
    const lake = lakeDir(o.dataDir);
    const dir = join(o.dataDir, 'reports');
    mkdirSync(lake, { recursive: true });
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    const instance = await DuckDBInstance.create(join(dir, 'rollups.duckdb'), {
      threads: String(o.threads ?? 2),
      memory_limit: o.memoryLimit ?? '2GB',
      temp_directory: join(dir, 'tmp'),
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    const writer = await instance.connect();
    try {
      await writer.run(`SET allowed_directories = [${sqlString(`${lake}/`)}]`);
      await writer.run('SET enable_external_access = false');
      await writer.run('SET lock_configuration = true');
      await prepareRollups(writer);
    } catch (err) {
      writer.closeSync();
      instance.closeSync();
      throw err;
    }
    return new ReportEngine(instance, writer, o);
  }

  list(todayMs = Date.now()): ReportInfo[] {
    return REPORTS.map((r) => describeReport(r, todayMs));
  }

  /** Brings the rollups of [from, to) (from null: every day before `to`) up to date with the lake. */
  refresh(from: string | null, to: string): Promise<RefreshSummary> {
    const run = this.queue.then(async () => {
      if (this.closed) throw new Error('the report engine is closed');
      // A refresh commits day by day and fixes visitor_days at the end: no query may see the middle.
      await Promise.allSettled([...this.readers]);
      return refreshRollups(this.writer, this.lister, from, to, (day, done, total) => {
        this.building = done < total ? { day, done, total } : null;
      });
    });
    this.queue = run.catch(() => {}).finally(() => (this.building = null));
    return run;
  }

  /**
   * Runs report `id` for `site` with query-string parameters `raw` (validated here). Throws
   * ReportError for an unknown report, a bad parameter, or a time-out.
   */
  async run(
    site: string,
    id: string,
    raw: Record<string, unknown>,
    todayMs = Date.now(),
  ): Promise<ReportAnswer> {
    const started = performance.now();
    const def = findReport(id);
    if (!def) {
      throw new ReportError(
        `no report "${id.slice(0, 60)}"; reports: ${REPORTS.map((r) => r.id).join(', ')}`,
        'unknown_report',
      );
    }
    const { values, range, echo } = parseParams(paramsOf(def), raw, todayMs);
    const query = def.build(values, range);
    await this.waitForRollups(def.history ? null : range.from, range.to);

    const bound: Record<string, DuckDBValue> = {
      ...values,
      site,
      from: range.from,
      to: range.to,
      bots: range.includeBots,
    };
    const rows = await this.reading(() => this.query(query.sql, bound, query.columns));
    return {
      report: def.id,
      site,
      params: echo,
      columns: query.columns,
      rows,
      ...(query.rule ? { rule: query.rule } : {}),
      elapsedMs: Math.round(performance.now() - started),
    };
  }

  /** Runs `fn` once no refresh is queued; refreshes queued meanwhile wait for it. */
  private async reading<T>(fn: () => Promise<T>): Promise<T> {
    for (let tail = this.queue; ; tail = this.queue) {
      await tail;
      if (tail === this.queue) break;
    }
    const p = fn();
    this.readers.add(p);
    try {
      return await p;
    } finally {
      this.readers.delete(p);
    }
  }

  private async waitForRollups(from: string | null, to: string): Promise<void> {
    const refresh = this.refresh(from, to);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.o.timeoutMs);
    });
    try {
      if ((await Promise.race([refresh, timeout])) === 'timeout') {
        const b = this.building;
        throw new ReportError(
          `the report's data is still being prepared${b ? ` (day ${b.day}, ${b.done} of ${b.total} rolled up)` : ''}; try again in a minute`,
          'preparing',
        );
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** One statement with bound values, cancelled after the time limit. Only the values the SQL names are bound. */
  private async query(
    sql: string,
    all: Record<string, DuckDBValue>,
    columns: ReportColumn[],
  ): Promise<Record<string, Cell>[]> {
    const names = new Set([...sql.matchAll(/\$([a-z_]+)/g)].map((m) => m[1]));
    const values: Record<string, DuckDBValue> = {};
    for (const name of names) {
      if (!(name in all)) throw new Error(`bug: report SQL uses $${name}, which has no value`);
      values[name] = all[name];
    }
    const conn = await this.instance.connect();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      conn.interrupt();
    }, this.o.timeoutMs);
    try {
      const reader = await conn.runAndReadAll(sql, values);
      const got = reader.columnNames();
      if (got.join() !== columns.map((c) => c.name).join())
        throw new Error(
          `bug: report SQL returns ${got.join(', ')}, declared ${columns.map((c) => c.name).join(', ')}`,
        );
      return reader.convertRowObjects(JsonDuckDBValueConverter).map((row) => {
        const out: Record<string, Cell> = {};
        for (const c of columns) out[c.name] = cell(row[c.name], c.type);
        return out;
      });
    } catch (err) {
      if (timedOut) {
        throw new ReportError(
          `the report took longer than ${this.o.timeoutMs} ms and was cancelled; try a shorter range`,
          'timeout',
        );
      }
      throw err;
    } finally {
      clearTimeout(timer);
      conn.closeSync();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.writer.interrupt();
    await this.queue.catch(() => {});
    this.writer.closeSync();
    this.instance.closeSync();
  }
}

/** DuckDB's JSON form gives 64-bit integers and decimals as text; the API sends numbers. */
function cell(v: unknown, type: ReportColumn['type']): Cell {
  if (v === null || v === undefined) return null;
  if (type === 'date' || type === 'string') return String(v);
  return typeof v === 'number' ? v : Number(v);
}
