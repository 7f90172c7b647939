import { mkdirSync } from 'node:fs';
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBPreparedStatement,
  JsonDuckDBValueConverter,
  StatementType,
} from '@duckdb/node-api';
import { hasParquet, LAKE_TABLES, lakeDir, tableDir } from '../lake/lake.js';
import { sqlString } from '../lake/writer.js';

export class QueryError extends Error {
  override name = 'QueryError';
  constructor(
    message: string,
    readonly code: 'refused' | 'invalid' | 'timeout' | 'cancelled' | 'failed',
  ) {
    super(message);
  }
}

export interface QueryResult {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
  truncated: boolean;
  elapsedMs: number;
}

export interface SandboxOptions {
  dataDir: string;
  timeoutMs: number;
  maxRows: number;
  memoryLimit?: string;
  threads?: number;
}

export interface QueryOptions {
  /** May lower (not raise) the configured row cap. */
  maxRows?: number;
  /** May lower (not raise) the configured time limit. */
  timeoutMs?: number;
  /** Aborting it interrupts the query; it then fails with code `cancelled`. */
  signal?: AbortSignal;
}

/** The view over a lake table; an empty, typed relation until the first file exists. */
export function viewSql(dataDir: string, name: keyof typeof LAKE_TABLES): string {
  const table = LAKE_TABLES[name];
  const dir = tableDir(dataDir, name);
  if (!hasParquet(dir)) {
    const cols = table.columns.map(([c, t]) => `CAST(NULL AS ${t}) AS ${c}`).join(', ');
    return `CREATE OR REPLACE VIEW ${name} AS SELECT ${cols}, CAST(NULL AS DATE) AS dt, CAST(NULL AS INTEGER) AS hour WHERE false`;
  }
  // union_by_name: files written before a column existed read it as NULL instead of failing.
  return `CREATE OR REPLACE VIEW ${name} AS SELECT * FROM read_parquet(${sqlString(`${dir}/*/*/*.parquet`)},
    hive_partitioning = true, hive_types = {'dt': DATE, 'hour': INTEGER}, union_by_name = true)`;
}

/** (Re)creates the lake views on a connection, so new files and partitions are seen. */
export async function refreshViews(conn: DuckDBConnection, dataDir: string): Promise<void> {
  for (const name of Object.keys(LAKE_TABLES) as (keyof typeof LAKE_TABLES)[]) {
    await conn.run(viewSql(dataDir, name));
  }
}

/**
 * A DuckDB instance that may read only `dirs` (external access off, then configuration locked
 * so SQL cannot undo it). Extensions are never installed or loaded on demand.
 */
export async function lockedInstance(
  dirs: string[],
  o: { threads?: number; memoryLimit?: string },
): Promise<DuckDBInstance> {
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(o.threads ?? 2),
    memory_limit: o.memoryLimit ?? '2GB',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await instance.connect();
  try {
    await conn.run(`SET allowed_directories = [${dirs.map((d) => sqlString(`${d}/`)).join(', ')}]`);
    await conn.run('SET enable_external_access = false');
    await conn.run('SET lock_configuration = true');
  } finally {
    conn.closeSync();
  }
  return instance;
}

/**
 * Parses user SQL and prepares it only if it is exactly one SELECT; anything else is a
 * QueryError. Preparing binds the statement, so unknown columns are reported here.
 */
export async function prepareSelect(conn: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
  let extracted: Awaited<ReturnType<DuckDBConnection['extractStatements']>>;
  try {
    extracted = await conn.extractStatements(sql);
  } catch (err) {
    throw new QueryError(cleanMessage(err), 'invalid');
  }
  if (extracted.count !== 1) {
    throw new QueryError(`send exactly one SQL statement (got ${extracted.count})`, 'refused');
  }
  let prepared: DuckDBPreparedStatement;
  try {
    prepared = await extracted.prepare(0);
  } catch (err) {
    throw refusalOrInvalid(err);
  }
  if (prepared.statementType !== StatementType.SELECT) {
    const kind = StatementType[prepared.statementType] ?? 'this statement';
    throw new QueryError(
      `only SELECT queries are allowed here (got ${kind}); the lake is read-only through SQL`,
      'refused',
    );
  }
  return prepared;
}

/**
 * Interrupts a connection when the time limit passes or the caller aborts. DuckDB forgets an
 * interrupt that arrives between statements, so it is repeated until the work ends, and each
 * step checks `stopped()` too.
 */
export function stopWatch(conn: DuckDBConnection, timeoutMs: number, signal?: AbortSignal) {
  let reason: 'timeout' | 'cancelled' | null = null;
  let repeat: ReturnType<typeof setInterval> | undefined;
  const started = performance.now();
  const halt = (why: 'timeout' | 'cancelled') => {
    if (reason) return;
    reason = why;
    conn.interrupt();
    repeat = setInterval(() => conn.interrupt(), 50);
  };
  const timer = setTimeout(() => halt('timeout'), timeoutMs);
  const onAbort = () => halt('cancelled');
  if (signal?.aborted) halt('cancelled');
  signal?.addEventListener('abort', onAbort, { once: true });
  return {
    /** The error to throw instead of whatever DuckDB said, once stopped. */
    stoppedError(): QueryError | null {
      if (reason === 'timeout') return timeoutError(timeoutMs);
      if (reason === 'cancelled') {
        const ms = Math.round(performance.now() - started);
        return new QueryError(`query cancelled after ${ms} ms (Cancel was pressed)`, 'cancelled');
      }
      return null;
    },
    done() {
      clearTimeout(timer);
      clearInterval(repeat);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * User SQL over the lake, sandboxed as DESIGN.md says: one read-only statement (checked on the
 * prepared statement's type, since DuckDB allows COPY … TO inside allowed directories), no
 * file access outside the lake (enable_external_access=false + allowed_directories, then
 * lock_configuration so SET cannot undo it), a time limit, a row cap, and cancellation.
 */
export class QuerySandbox {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly o: SandboxOptions,
  ) {}

  static async open(o: SandboxOptions): Promise<QuerySandbox> {
    const lake = lakeDir(o.dataDir);
    mkdirSync(lake, { recursive: true });
    return new QuerySandbox(await lockedInstance([lake], o), o);
  }

  get options(): Readonly<SandboxOptions> {
    return this.o;
  }

  /** Runs one read-only statement; each call has its own connection, so one can be interrupted alone. */
  async query(sql: string, opts: QueryOptions = {}): Promise<QueryResult> {
    const started = performance.now();
    const maxRows = Math.min(opts.maxRows ?? this.o.maxRows, this.o.maxRows);
    const timeoutMs = Math.min(opts.timeoutMs ?? this.o.timeoutMs, this.o.timeoutMs);
    const conn = await this.instance.connect();
    const watch = stopWatch(conn, timeoutMs, opts.signal);
    const stopped = (err: unknown, otherwise: (err: unknown) => QueryError) =>
      watch.stoppedError() ?? (err instanceof QueryError ? err : otherwise(err));
    try {
      let prepared: DuckDBPreparedStatement;
      try {
        await refreshViews(conn, this.o.dataDir);
        prepared = await prepareSelect(conn, sql);
        const early = watch.stoppedError();
        if (early) throw early;
      } catch (err) {
        throw stopped(err, refusalOrInvalid);
      }
      let result: Awaited<ReturnType<typeof prepared.stream>>;
      try {
        result = await prepared.stream();
      } catch (err) {
        throw stopped(err, refusalOrInvalid);
      }
      const names = result.columnNames();
      const types = result.columnTypes().map((t) => t.toString());
      const rows: Record<string, unknown>[] = [];
      let truncated = false;
      try {
        while (rows.length <= maxRows) {
          const chunk = await result.fetchChunk();
          const late = watch.stoppedError();
          if (late) throw late;
          if (!chunk || chunk.rowCount === 0) break;
          for (const values of chunk.convertRows(JsonDuckDBValueConverter)) {
            const row = Object.fromEntries(names.map((n, i) => [n, bigintAsNumber(values[i], types[i])]));
            if (rows.length === maxRows) {
              truncated = true;
              break;
            }
            rows.push(row);
          }
          if (truncated) break;
        }
      } catch (err) {
        throw stopped(err, (e) => new QueryError(cleanMessage(e), 'failed'));
      }
      return {
        columns: names.map((name, i) => ({ name, type: types[i] })),
        rows,
        truncated,
        elapsedMs: Math.round(performance.now() - started),
      };
    } finally {
      watch.done();
      conn.closeSync();
    }
  }

  close(): void {
    this.instance.closeSync();
  }
}

/** DuckDB's JSON form gives 64-bit integers as text; counts and sums fit in a JS number, so send numbers when exact. */
function bigintAsNumber(v: unknown, type: string): unknown {
  if (typeof v !== 'string' || !/^(BIGINT|HUGEINT|UBIGINT|UHUGEINT)$/.test(type)) return v;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
}

export function cleanMessage(err: unknown): string {
  return String((err as Error)?.message ?? err)
    .replace(/\n+LINE \d+:.*$/s, '')
    .trim();
}

function timeoutError(ms: number): QueryError {
  return new QueryError(
    `query cancelled after ${ms} ms (the time limit); narrow the time range or add a LIMIT`,
    'timeout',
  );
}

export function refusalOrInvalid(err: unknown): QueryError {
  const msg = cleanMessage(err);
  if (/Permission Error|disabled|not allowed|lock_configuration|Cannot change|extension/i.test(msg)) {
    return new QueryError(`refused: ${msg}`, 'refused');
  }
  return new QueryError(msg, 'invalid');
}
