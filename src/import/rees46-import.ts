import { createHash, randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { BadRecord } from '../events/model.js';
import { REES46_HEADER } from '../events/rees46.js';
import { LAKE_TABLES, listPartitions, tableDir } from '../lake/lake.js';
import { LakeWriter, sqlString } from '../lake/writer.js';

export interface ImportOptions {
  dataDir: string;
  siteId: string;
  maxFutureMs: number;
  threads?: number;
  /** DuckDB's memory limit for the import (default 1GB); beyond it, work spills to the data dir. */
  memoryLimit?: string;
  /** Called a few times a second with the fraction of the file read. */
  onProgress?: (fraction: number) => void;
}

export interface ImportSummary {
  file: string;
  tag: string;
  loaded: number;
  rejected: number;
  reasons: { reason: string; count: number }[];
  examples: { line: number | null; reason: string; raw: string }[];
  elapsedMs: number;
  filesWritten: number;
}

/**
 * A stable identity for an import: name, size and the first MiB. The same file imported
 * again writes the same file names, replacing (never duplicating) its rows.
 */
export function importTag(file: string): string {
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(1 << 20);
  const n = readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  return createHash('sha256')
    .update(`${basename(file)}\0${statSync(file).size}\0`)
    .update(head.subarray(0, n))
    .digest('hex')
    .slice(0, 12);
}

const EVENT_TYPES_ENUM = "ENUM(''view'', ''cart'', ''remove_from_cart'', ''purchase'')";

/** Types make DuckDB's CSV reader itself refuse malformed rows, with their line and a reason (store_rejects). */
const CSV_COLUMNS = `{'event_time': 'TIMESTAMP', 'event_type': '${EVENT_TYPES_ENUM}', 'product_id': 'BIGINT',
  'category_id': 'UBIGINT', 'category_code': 'VARCHAR', 'brand': 'VARCHAR', 'price': 'DOUBLE', 'user_id': 'BIGINT',
  'user_session': 'VARCHAR'}`;

/** Why a parsed row breaks a rule, or NULL; the same rules as events/rees46.ts fromRees46Row. */
function reasonSql(receivedAt: number, maxFutureMs: number): string {
  return `CASE
      WHEN event_time IS NULL THEN 'event_time is empty'
      WHEN event_type IS NULL THEN 'event_type is empty'
      WHEN product_id IS NULL THEN 'product_id is empty'
      WHEN event_time < TIMESTAMP '2000-01-01' THEN 'event time is before 2000-01-01'
      WHEN event_time > epoch_ms(${receivedAt + maxFutureMs}) THEN 'event time is in the future; check the exporter''s clock'
      WHEN price < 0 THEN 'price is negative'
    END`;
}

/**
 * Every parsed row of the file with its rule check and its row number. `rowid` of the parsed
 * table is the row's position among the rows DuckDB could parse (the table is filled in file
 * order, see importRees46), which is what makes event ids deterministic per (file, row).
 */
function checkedRowsSql(receivedAt: number, maxFutureMs: number): string {
  return `(SELECT *, ${reasonSql(receivedAt, maxFutureMs)} AS reason, rowid + 1 AS rn FROM parsed)`;
}

/**
 * The REES46 → canonical mapping in SQL (the same mapping as events/rees46.ts fromRees46Row;
 * rees46-import.test.ts keeps them in step), for the rows that pass every rule. Constant and
 * few-valued text columns are written from ENUMs: Parquet gets the same dictionary-encoded
 * strings (they read back as VARCHAR), without hashing every value to build the dictionary.
 */
function mappedSql(tag: string, siteId: string, receivedAt: number, maxFutureMs: number): string {
  const id = `${sqlString(`${tag}-`)} || rn`;
  return `SELECT
      ${id} AS event_id,
      event_time,
      epoch_ms(${receivedAt}) AS received_at,
      ${sqlString(siteId)}::ENUM(${sqlString(siteId)}) AS site_id,
      event_type,
      NULL::VARCHAR AS event_name,
      'import'::ENUM('import') AS source,
      product_id::VARCHAR AS product_id,
      category_id::VARCHAR AS category_id,
      category_code, brand, price,
      CASE WHEN event_type = 'purchase' THEN 1 END::INTEGER AS quantity,
      NULL::VARCHAR AS currency, NULL::VARCHAR AS order_id,
      CASE WHEN event_type = 'purchase' THEN price END AS revenue,
      uid AS user_id, user_session,
      coalesce(uid, user_session, ${id}) AS visitor_id,
      NULL::VARCHAR AS url, NULL::VARCHAR AS path, NULL::VARCHAR AS referrer, NULL::VARCHAR AS referrer_host,
      NULL::VARCHAR AS utm_source, NULL::VARCHAR AS utm_medium, NULL::VARCHAR AS utm_campaign,
      NULL::VARCHAR AS utm_term, NULL::VARCHAR AS utm_content,
      NULL::VARCHAR AS user_agent, NULL::VARCHAR AS browser, NULL::VARCHAR AS browser_version, NULL::VARCHAR AS os,
      'other'::ENUM('other') AS device_type, false AS is_bot, NULL::VARCHAR AS ip,
      NULL::VARCHAR AS props,
      event_time::DATE AS dt,
      hour(event_time) AS hour
    FROM (SELECT *, user_id::VARCHAR AS uid FROM ${checkedRowsSql(receivedAt, maxFutureMs)} WHERE reason IS NULL)`;
}

/** The rows that parse but break a rule, with their row number and the row rebuilt as text. */
function ruleBreakersSql(receivedAt: number, maxFutureMs: number): string {
  return `SELECT rn, reason, concat_ws(',', coalesce(strftime(event_time, '%Y-%m-%d %H:%M:%S UTC'), ''),
        coalesce(event_type::VARCHAR, ''), coalesce(product_id::VARCHAR, ''), coalesce(category_id::VARCHAR, ''),
        coalesce(category_code, ''), coalesce(brand, ''), coalesce(price::VARCHAR, ''), coalesce(user_id::VARCHAR, ''),
        coalesce(user_session, '')) AS raw
    FROM ${checkedRowsSql(receivedAt, maxFutureMs)} WHERE reason IS NOT NULL ORDER BY rn`;
}

/**
 * `storepulse import FILE --format rees46`: DuckDB parses the CSV (or .csv.gz) in parallel into
 * a scratch table, then maps and writes it as Hive-partitioned Parquet into the lake. Rows DuckDB
 * cannot parse, and rows that break a rule, go to bad_records with their line and reason.
 * Imports write straight to the lake (history does not need the live stream) with names that
 * make a re-import idempotent.
 *
 * Why two statements: event ids and line numbers need each row's position in the file. A
 * `row_number() OVER ()` in the same pipeline as the reader makes DuckDB run the whole pipeline
 * (parse, map, partition, write) on one thread. Filling a table instead keeps the parse parallel
 * and, with preserve_insertion_order, keeps file order, so the table's rowid is the position;
 * the second statement (map + partitioned write) is parallel too. See bench/import.ts.
 */
export async function importRees46(fileArg: string, o: ImportOptions): Promise<ImportSummary> {
  const file = resolve(fileArg);
  if (!existsSync(file)) throw new Error(`no such file: ${file}`);
  checkHeader(file);
  const started = performance.now();
  const tag = importTag(file);
  const receivedAt = Date.now();
  const scratch = join(o.dataDir, 'tmp', `import-${tag}-${process.pid}`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });

  // The parsed rows live in a scratch database file, not in memory: with a memory limit DuckDB
  // keeps only a bounded buffer pool, so a multi-gigabyte month imports in constant memory.
  const db = await DuckDBInstance.create(join(scratch, 'parsed.duckdb'), {
    threads: String(o.threads ?? 2),
    memory_limit: o.memoryLimit ?? '1GB',
    temp_directory: join(scratch, 'spill'),
    // rowid = position in the file relies on this (it is DuckDB's default; stated to be sure).
    preserve_insertion_order: 'true',
  });
  const conn = await db.connect();
  const out = join(scratch, 'out');
  let loaded: number;
  let bad: BadRecord[];
  let filesWritten: number;
  try {
    // Progress: parsing is about 40% of the work, mapping and writing the rest.
    let phase: [number, number] = [0, 0.4];
    if (o.onProgress) await conn.run('SET enable_progress_bar = true; SET enable_progress_bar_print = false');
    const timer = o.onProgress
      ? setInterval(() => {
          const p = conn.progress;
          if (p.percentage >= 0)
            o.onProgress?.(Math.min(1, phase[0] + (phase[1] - phase[0]) * (p.percentage / 100)));
        }, 200)
      : null;
    try {
      await conn.run(
        `CREATE TABLE parsed AS SELECT * FROM read_csv(${sqlString(file)}, header = true, delim = ',', quote = '"',
          escape = '"', timestampformat = '%Y-%m-%d %H:%M:%S UTC', columns = ${CSV_COLUMNS},
          store_rejects = true, rejects_table = 'import_rejects', rejects_scan = 'import_reject_scans')`,
      );
      phase = [0.4, 1];
      const copied = await conn.run(
        `COPY (${mappedSql(tag, o.siteId, receivedAt, o.maxFutureMs)}) TO ${sqlString(out)}
          (FORMAT parquet, PARTITION_BY (dt, hour), WRITE_PARTITION_COLUMNS false)`,
      );
      loaded = Number(copied.rowsChanged);
    } finally {
      if (timer) clearInterval(timer);
    }
    bad = await collectBadRows(conn, file, o.siteId, receivedAt, o.maxFutureMs);
    await conn.run('DROP TABLE parsed');
    filesWritten = await publishImport(o.dataDir, out, tag);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  o.onProgress?.(1);

  if (bad.length > 0) {
    const writer = await LakeWriter.open(o.dataDir);
    try {
      await writer.write(
        LAKE_TABLES.bad_records,
        bad.map((b) => JSON.stringify(b)),
        `import-${tag}.parquet`,
      );
    } finally {
      writer.close();
    }
  }
  rmSync(scratch, { recursive: true, force: true });

  const counts = new Map<string, number>();
  for (const b of bad) {
    const key = b.reason.replace(/^line \d+: /, '').replace(/"[^"]*"/g, '"…"');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return {
    file,
    tag,
    loaded,
    rejected: bad.length,
    reasons: [...counts].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
    examples: bad.slice(0, 5).map((b) => ({ line: b.line, reason: b.reason, raw: b.raw })),
    elapsedMs: Math.round(performance.now() - started),
    filesWritten,
  };
}

function checkHeader(file: string): void {
  if (file.endsWith('.gz')) return; // DuckDB checks the columns as it reads
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(512);
  const n = readSync(fd, buf, 0, buf.length, 0);
  closeSync(fd);
  const first = buf.subarray(0, n).toString('utf8').split(/\r?\n/)[0].trim();
  if (first !== REES46_HEADER) {
    throw new Error(
      `${basename(file)} does not start with the REES46 header.\n  expected: ${REES46_HEADER}\n  found:    ${first.slice(0, 200)}`,
    );
  }
}

/**
 * Moves `dt=…/hour=H/*.parquet` into the lake as `import-<tag>-<n>.parquet`, replacing an
 * earlier import of the same file. Same durability as lake.publishFile (file fsynced before
 * the rename, directory after), but the fsyncs of all files, then of all directories, run
 * concurrently on libuv's pool instead of one after another: an import writes hundreds.
 */
async function publishImport(dataDir: string, outDir: string, tag: string): Promise<number> {
  const events = tableDir(dataDir, 'events');
  const previous = new Set<string>();
  for (const [partition, files] of listPartitions(events)) {
    for (const f of files)
      if (f.name.startsWith(`import-${tag}-`)) previous.add(join(events, partition, f.name));
  }
  const moves: { from: string; dir: string; to: string }[] = [];
  if (existsSync(outDir)) {
    for (const dt of readdirSync(outDir).sort()) {
      for (const hourDir of readdirSync(join(outDir, dt)).sort()) {
        const hour = hourDir.replace(/^hour=(\d)$/, 'hour=0$1');
        for (const f of readdirSync(join(outDir, dt, hourDir)).filter((x) => x.endsWith('.parquet'))) {
          const dir = join(events, dt, hour);
          moves.push({
            from: join(outDir, dt, hourDir, f),
            dir,
            to: join(dir, `import-${tag}-${moves.length}.parquet`),
          });
        }
      }
    }
  }
  await eachConcurrently(moves, 16, (m) => fsyncPathAsync(m.from));
  const dirs = new Set<string>();
  for (const m of moves) {
    if (!dirs.has(m.dir)) {
      mkdirSync(m.dir, { recursive: true });
      dirs.add(m.dir);
      dirs.add(dirname(m.dir));
    }
    renameSync(m.from, m.to);
    previous.delete(m.to);
  }
  if (dirs.size > 0) dirs.add(events);
  await eachConcurrently([...dirs], 16, fsyncPathAsync);
  // A re-import that wrote fewer files than last time: the rest of the old import goes.
  for (const old of previous) rmSync(old, { force: true });
  return moves.length;
}

async function fsyncPathAsync(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function eachConcurrently<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function collectBadRows(
  conn: DuckDBConnection,
  file: string,
  siteId: string,
  receivedAt: number,
  maxFutureMs: number,
): Promise<BadRecord[]> {
  const bad: BadRecord[] = [];
  const record = (reason: string, raw: string, line: number | null): BadRecord => ({
    bad_id: randomUUID(),
    received_at: receivedAt,
    site_id: siteId,
    source: 'import',
    reason,
    raw,
    line,
    file,
  });
  const rejects = await conn.runAndReadAll(
    `SELECT line, column_name, error_type, error_message, csv_line FROM import_rejects ORDER BY line`,
  );
  // DuckDB may report several errors for one line; keep one bad record per line with every reason.
  const byLine = new Map<number, { reasons: string[]; raw: string }>();
  for (const [line, column, type, message, csvLine] of rejects.getRowsJS()) {
    const l = Number(line);
    const what = `${column ? `column ${column}: ` : ''}${String(message ?? type).split('\n')[0]}`;
    const entry = byLine.get(l) ?? { reasons: [], raw: String(csvLine ?? '') };
    if (
      !entry.reasons.some((r) => r.includes('Expected Number of Columns')) ||
      !what.includes('Expected Number of Columns')
    ) {
      entry.reasons.push(what);
    }
    byLine.set(l, entry);
  }
  const rejectLines = [...byLine.keys()].sort((a, b) => a - b);
  for (const l of rejectLines) {
    const e = byLine.get(l)!;
    bad.push(record(`line ${l}: ${e.reasons.join('; ')}`, e.raw, l));
  }
  // Rows that parsed but break a rule, in row order. Row n is line n + 1 (the header) plus
  // every rejected line before it; both lists are sorted, so one walk maps them all.
  const rows = await conn.runAndReadAll(ruleBreakersSql(receivedAt, maxFutureMs));
  let skipped = 0;
  for (const [rn, reason, raw] of rows.getRowsJS()) {
    let line = Number(rn) + 1 + skipped;
    while (skipped < rejectLines.length && rejectLines[skipped] <= line) {
      skipped++;
      line++;
    }
    bad.push(record(`line ${line}: ${reason}`, String(raw), line));
  }
  return bad;
}
