import { mkdirSync } from 'node:fs';
import {
  type DuckDBConnection,
  DuckDBInstance,
  JsonDuckDBValueConverter,
  StatementType,
} from '@duckdb/node-api';
import { hasParquet, LAKE_TABLES, lakeDir, tableDir } from '../lake/lake.js';
import { sqlString } from '../lake/writer.js';

export class QueryError extends Error {
  override name = 'QueryError';
  constructor(
    message: string,
    readonly code: 'refused' | 'invalid' | 'timeout' | 'failed',
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

/** The view over a lake table; an empty, typed relation until the first file exists. */
function viewSql(dataDir: string, name: keyof typeof LAKE_TABLES): string {
  const table = LAKE_TABLES[name];
  const dir = tableDir(dataDir, name);
  if (!hasParquet(dir)) {
    const cols = table.columns.map(([c, t]) => `CAST(NULL AS ${t}) AS ${c}`).join(', ');
    return `CREATE OR REPLACE VIEW ${name} AS SELECT ${cols}, CAST(NULL AS DATE) AS dt, CAST(NULL AS INTEGER) AS hour WHERE false`;
  }
  return `CREATE OR REPLACE VIEW ${name} AS SELECT * FROM read_parquet(${sqlString(`${dir}/*/*/*.parquet`)},
    hive_partitioning = true, hive_types = {'dt': DATE, 'hour': INTEGER}, union_by_name = true)`;
}

/**
 * User SQL over the lake, sandboxed as DESIGN.md says: one read-only statement (checked on the
 * prepared statement's type, since DuckDB allows COPY … TO inside allowed directories), no
 * file access outside the lake (enable_external_access=false + allowed_directories, then
 * lock_configuration so SET cannot undo it), a time limit and a row cap.
 */
export class QuerySandbox {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly o: SandboxOptions,
  ) {}

  static async open(o: SandboxOptions): Promise<QuerySandbox> {
    const lake = lakeDir(o.dataDir);
    mkdirSync(lake, { recursive: true });
    const instance = await DuckDBInstance.create(':memory:', {
      threads: String(o.threads ?? 2),
      memory_limit: o.memoryLimit ?? '2GB',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    const conn = await instance.connect();
    await conn.run(`SET allowed_directories = [${sqlString(`${lake}/`)}]`);
    await conn.run('SET enable_external_access = false');
    await conn.run('SET lock_configuration = true');
    conn.closeSync();
    return new QuerySandbox(instance, o);
  }

  private async refreshViews(conn: DuckDBConnection): Promise<void> {
    for (const name of Object.keys(LAKE_TABLES) as (keyof typeof LAKE_TABLES)[]) {
      await conn.run(viewSql(this.o.dataDir, name));
    }
  }

  /** Runs one read-only statement; `maxRows` may lower (not raise) the configured cap. */
  async query(sql: string, opts: { maxRows?: number; timeoutMs?: number } = {}): Promise<QueryResult> {
    const started = performance.now();
    const maxRows = Math.min(opts.maxRows ?? this.o.maxRows, this.o.maxRows);
    const timeoutMs = Math.min(opts.timeoutMs ?? this.o.timeoutMs, this.o.timeoutMs);
    const conn = await this.instance.connect();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      conn.interrupt();
    }, timeoutMs);
    try {
      await this.refreshViews(conn);
      let extracted: Awaited<ReturnType<DuckDBConnection['extractStatements']>>;
      try {
        extracted = await conn.extractStatements(sql);
      } catch (err) {
        throw new QueryError(cleanMessage(err), 'invalid');
      }
      if (extracted.count !== 1) {
        throw new QueryError(`send exactly one SQL statement (got ${extracted.count})`, 'refused');
      }
      let prepared: Awaited<ReturnType<DuckDBConnection['prepare']>>;
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
      let result: Awaited<ReturnType<typeof prepared.stream>>;
      try {
        result = await prepared.stream();
      } catch (err) {
        throw timedOut ? timeoutError(timeoutMs) : refusalOrInvalid(err);
      }
      const names = result.columnNames();
      const types = result.columnTypes().map((t) => t.toString());
      const rows: Record<string, unknown>[] = [];
      let truncated = false;
      try {
        while (rows.length <= maxRows) {
          const chunk = await result.fetchChunk();
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
        throw timedOut ? timeoutError(timeoutMs) : new QueryError(cleanMessage(err), 'failed');
      }
      return {
        columns: names.map((name, i) => ({ name, type: types[i] })),
        rows,
        truncated,
        elapsedMs: Math.round(performance.now() - started),
      };
    } finally {
      clearTimeout(timer);
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

function cleanMessage(err: unknown): string {
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

function refusalOrInvalid(err: unknown): QueryError {
  const msg = cleanMessage(err);
  if (/Permission Error|disabled|not allowed|lock_configuration|Cannot change|extension/i.test(msg)) {
    return new QueryError(`refused: ${msg}`, 'refused');
  }
  return new QueryError(msg, 'invalid');
}
