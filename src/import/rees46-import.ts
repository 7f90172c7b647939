import { createHash, randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { BadRecord } from '../events/model.js';
import { REES46_HEADER } from '../events/rees46.js';
import { LAKE_TABLES, listPartitions, publishFile, tableDir } from '../lake/lake.js';
import { LakeWriter, sqlString } from '../lake/writer.js';

export interface ImportOptions {
  dataDir: string;
  siteId: string;
  maxFutureMs: number;
  threads?: number;
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

/**
 * The REES46 → canonical mapping in SQL (the same mapping as events/rees46.ts fromRees46Row,
 * which a test keeps in step). Rows that parse but break a rule get kind = 'bad' and their
 * reason in props, and are moved to bad_records after the pass.
 */
function importSql(
  file: string,
  tag: string,
  siteId: string,
  receivedAt: number,
  maxFutureMs: number,
): string {
  const reason = `CASE
      WHEN event_time IS NULL THEN 'event_time is empty'
      WHEN event_type IS NULL THEN 'event_type is empty'
      WHEN product_id IS NULL THEN 'product_id is empty'
      WHEN event_time < TIMESTAMP '2000-01-01' THEN 'event time is before 2000-01-01'
      WHEN event_time > epoch_ms(${receivedAt + maxFutureMs}) THEN 'event time is in the future; check the exporter''s clock'
      WHEN price < 0 THEN 'price is negative'
    END`;
  return `SELECT
      CASE WHEN reason IS NULL THEN 'ok' ELSE 'bad' END AS kind,
      ${sqlString(`${tag}-`)} || rn AS event_id,
      event_time,
      epoch_ms(${receivedAt}) AS received_at,
      ${sqlString(siteId)} AS site_id,
      event_type::VARCHAR AS event_type,
      NULL::VARCHAR AS event_name,
      'import' AS source,
      product_id::VARCHAR AS product_id,
      category_id::VARCHAR AS category_id,
      category_code, brand, price,
      CASE WHEN event_type = 'purchase' THEN 1 END::INTEGER AS quantity,
      NULL::VARCHAR AS currency, NULL::VARCHAR AS order_id,
      CASE WHEN event_type = 'purchase' THEN price END AS revenue,
      user_id::VARCHAR AS user_id, user_session,
      coalesce(user_id::VARCHAR, user_session, ${sqlString(`${tag}-`)} || rn) AS visitor_id,
      NULL::VARCHAR AS url, NULL::VARCHAR AS path, NULL::VARCHAR AS referrer, NULL::VARCHAR AS referrer_host,
      NULL::VARCHAR AS utm_source, NULL::VARCHAR AS utm_medium, NULL::VARCHAR AS utm_campaign,
      NULL::VARCHAR AS utm_term, NULL::VARCHAR AS utm_content,
      NULL::VARCHAR AS user_agent, NULL::VARCHAR AS browser, NULL::VARCHAR AS browser_version, NULL::VARCHAR AS os,
      'other' AS device_type, false AS is_bot, NULL::VARCHAR AS ip,
      CASE WHEN reason IS NOT NULL THEN json_object('reason', reason, 'row', rn,
        'raw', concat_ws(',', coalesce(strftime(event_time, '%Y-%m-%d %H:%M:%S UTC'), ''), coalesce(event_type::VARCHAR, ''),
          coalesce(product_id::VARCHAR, ''), coalesce(category_id::VARCHAR, ''), coalesce(category_code, ''),
          coalesce(brand, ''), coalesce(price::VARCHAR, ''), coalesce(user_id::VARCHAR, ''), coalesce(user_session, '')))::VARCHAR
        END AS props,
      CASE WHEN reason IS NULL THEN event_time::DATE ELSE epoch_ms(${receivedAt})::DATE END AS dt,
      CASE WHEN reason IS NULL THEN hour(event_time) ELSE hour(epoch_ms(${receivedAt})) END AS hour
    FROM (
      SELECT *, ${reason} AS reason, row_number() OVER () AS rn
      FROM read_csv(${sqlString(file)}, header = true, delim = ',', quote = '"', escape = '"',
        timestampformat = '%Y-%m-%d %H:%M:%S UTC', columns = ${CSV_COLUMNS},
        store_rejects = true, rejects_table = 'import_rejects', rejects_scan = 'import_reject_scans')
    )`;
}

/**
 * `storepulse import FILE --format rees46`: one streaming DuckDB pass from CSV (or .csv.gz)
 * to Hive-partitioned Parquet in the lake. Rows DuckDB cannot parse, and rows that break a
 * rule, go to bad_records with their line and reason. Imports write straight to the lake
 * (history does not need the live stream) with names that make a re-import idempotent.
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

  const db = await DuckDBInstance.create(':memory:', {
    threads: String(o.threads ?? 2),
    temp_directory: join(scratch, 'spill'),
  });
  const conn = await db.connect();
  await conn.run('SET enable_progress_bar = true; SET enable_progress_bar_print = false');
  const timer = o.onProgress
    ? setInterval(() => {
        const p = conn.progress;
        if (p.percentage >= 0) o.onProgress?.(Math.min(1, p.percentage / 100));
      }, 200)
    : null;
  const out = join(scratch, 'out');
  const T0 = performance.now(); console.error('setup', Math.round(T0-started));
  try {
    await conn.run(
      `COPY (${importSql(file, tag, o.siteId, receivedAt, o.maxFutureMs)}) TO ${sqlString(out)}
        (FORMAT parquet, PARTITION_BY (kind, dt, hour), WRITE_PARTITION_COLUMNS false)`,
    );
  } finally {
    if (timer) clearInterval(timer);
  }
  o.onProgress?.(1);
  const T1 = performance.now(); console.error('copy', Math.round(T1-T0));

  const filesWritten = publishImport(o.dataDir, join(out, 'kind=ok'), tag);
  const bad = await collectBadRows(conn, join(out, 'kind=bad'), file, o.siteId, receivedAt);
  const T2 = performance.now(); console.error('publish+bad', Math.round(T2-T1));
  const loaded = await countRows(conn, o.dataDir, tag);
  console.error('count', Math.round(performance.now()-T2));
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
  conn.closeSync();
  db.closeSync();
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

/** Moves `kind=ok/dt=…/hour=H/*.parquet` into the lake as `import-<tag>-<n>.parquet`, replacing an earlier import of the same file. */
function publishImport(dataDir: string, okDir: string, tag: string): number {
  const events = tableDir(dataDir, 'events');
  for (const [partition, files] of listPartitions(events)) {
    for (const f of files) if (f.name.startsWith(`import-${tag}-`)) rmSync(join(events, partition, f.name));
  }
  if (!existsSync(okDir)) return 0;
  let n = 0;
  for (const dt of readdirSync(okDir)) {
    for (const hourDir of readdirSync(join(okDir, dt))) {
      const hour = hourDir.replace(/^hour=(\d)$/, 'hour=0$1');
      for (const f of readdirSync(join(okDir, dt, hourDir)).filter((x) => x.endsWith('.parquet'))) {
        publishFile(join(okDir, dt, hourDir, f), join(events, dt, hour), `import-${tag}-${n++}.parquet`);
      }
    }
  }
  return n;
}

async function collectBadRows(
  conn: DuckDBConnection,
  badDir: string,
  file: string,
  siteId: string,
  receivedAt: number,
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
  if (existsSync(badDir)) {
    const rows = await conn.runAndReadAll(
      `SELECT props FROM read_parquet(${sqlString(`${badDir}/*/*/*.parquet`)}, hive_partitioning = false)`,
    );
    for (const [props] of rows.getRowsJS()) {
      const p = JSON.parse(String(props)) as { reason: string; row: number; raw: string };
      // row counts parsed rows only; add the header and every rejected line before it.
      let line = Number(p.row) + 1;
      for (const r of rejectLines) if (r <= line) line++;
      bad.push(record(`line ${line}: ${p.reason}`, p.raw, line));
    }
  }
  return bad;
}

async function countRows(conn: DuckDBConnection, dataDir: string, tag: string): Promise<number> {
  const events = tableDir(dataDir, 'events');
  const files = [...listPartitions(events)].flatMap(([partition, fs]) =>
    fs.filter((f) => f.name.startsWith(`import-${tag}-`)).map((f) => join(events, partition, f.name)),
  );
  if (files.length === 0) return 0;
  const r = await conn.runAndReadAll(
    `SELECT count(*) FROM read_parquet([${files.map(sqlString).join(', ')}])`,
  );
  return Number(r.getRowsJS()[0][0]);
}
