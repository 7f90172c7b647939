import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { type LakeTable, publishFile, TIMESTAMP_COLUMNS, tableDir } from './lake.js';

export const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** DuckDB's read_json `columns` for a table, reading timestamps as epoch-ms integers. */
function jsonColumns(table: LakeTable): string {
  return `{${table.columns.map(([c, t]) => `${c}: '${TIMESTAMP_COLUMNS.has(c) ? 'BIGINT' : t}'`).join(', ')}}`;
}

function selectList(table: LakeTable): string {
  return table.columns.map(([c]) => (TIMESTAMP_COLUMNS.has(c) ? `epoch_ms(${c}) AS ${c}` : c)).join(', ');
}

/**
 * Writes records (canonical JSON, one per line) into the lake as Parquet, split by the hour
 * of the table's time column. DuckDB does the JSON → Parquet work; we only move finished
 * files into place, so each is published atomically.
 */
export class LakeWriter {
  private constructor(
    private readonly dataDir: string,
    private readonly conn: DuckDBConnection,
    private readonly scratch: string,
  ) {}

  static async open(dataDir: string): Promise<LakeWriter> {
    const scratch = join(dataDir, 'tmp', `lake-writer-${process.pid}`);
    rmSync(scratch, { recursive: true, force: true });
    mkdirSync(scratch, { recursive: true });
    const db = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '1GB' });
    return new LakeWriter(dataDir, await db.connect(), scratch);
  }

  /**
   * Writes the lines under `<partition>/<fileName>` in each hour they touch. Same lines and
   * name → same files (a replay overwrites, never duplicates). Returns files written.
   */
  async write(table: LakeTable, lines: string[], fileName: string): Promise<string[]> {
    if (lines.length === 0) return [];
    return this.exclusive(() => this.writeNow(table, lines, fileName));
  }

  /** One operation at a time: they share the scratch directory and the connection. */
  private queue: Promise<unknown> = Promise.resolve();
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private async writeNow(table: LakeTable, lines: string[], fileName: string): Promise<string[]> {
    const input = join(this.scratch, 'batch.ndjson');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const out = join(this.scratch, 'out');
    rmSync(out, { recursive: true, force: true });
    await this.conn.run(
      `COPY (SELECT ${selectList(table)},
          strftime(epoch_ms(${table.timeColumn}), '%Y-%m-%d') AS dt,
          strftime(epoch_ms(${table.timeColumn}), '%H') AS hour
        FROM read_json(${sqlString(input)}, format = 'newline_delimited', columns = ${jsonColumns(table)}))
      TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (dt, hour), WRITE_PARTITION_COLUMNS false)`,
    );
    return this.publishTree(table, out, fileName);
  }

  /** Runs a COPY … TO a scratch directory partitioned by (dt, hour) and publishes the files. */
  async copyPartitioned(table: LakeTable, selectSql: string, fileName: string): Promise<string[]> {
    return this.exclusive(async () => {
      const out = join(this.scratch, 'out');
      rmSync(out, { recursive: true, force: true });
      await this.conn.run(
        `COPY (${selectSql}) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (dt, hour), WRITE_PARTITION_COLUMNS false)`,
      );
      return this.publishTree(table, out, fileName);
    });
  }

  private publishTree(table: LakeTable, out: string, fileName: string): string[] {
    const written: string[] = [];
    for (const dt of readdirSync(out)) {
      for (const hour of readdirSync(join(out, dt))) {
        const files = readdirSync(join(out, dt, hour)).filter((f) => f.endsWith('.parquet'));
        files.forEach((f, i) => {
          const name = files.length === 1 ? fileName : fileName.replace(/\.parquet$/, `-${i}.parquet`);
          publishFile(join(out, dt, hour, f), join(tableDir(this.dataDir, table.name), dt, hour), name);
          written.push(`${dt}/${hour}/${name}`);
        });
      }
    }
    rmSync(out, { recursive: true, force: true });
    return written;
  }

  /** Merges files of one partition into one, keeping the first copy of each id. */
  async compact(table: LakeTable, partition: string, inputs: string[], fileName: string): Promise<void> {
    return this.exclusive(async () => {
      const dir = join(tableDir(this.dataDir, table.name), partition);
      const tmp = join(this.scratch, 'compact.parquet');
      const list = `[${inputs.map((f) => sqlString(join(dir, f))).join(', ')}]`;
      await this.conn.run(
        `COPY (SELECT * FROM read_parquet(${list}, union_by_name = true)
          QUALIFY row_number() OVER (PARTITION BY ${table.idColumn} ORDER BY received_at) = 1
          ORDER BY ${table.timeColumn})
        TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      publishFile(tmp, dir, fileName);
      for (const f of inputs) if (f !== fileName) rmSync(join(dir, f), { force: true });
    });
  }

  get connection(): DuckDBConnection {
    return this.conn;
  }

  close(): void {
    this.conn.closeSync();
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
