import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, JsonDuckDBValueConverter } from '@duckdb/node-api';
import { hasParquet, LAKE_TABLES, tableDir } from '../lake/lake.js';
import { sqlString } from '../lake/writer.js';
import type { OrderEvent } from './order-model.js';
import type { OrderStore } from './order-store.js';

export interface BackfillOptions {
  dataDir: string;
  /** Only this site's events (default: every site). */
  site?: string;
  /** DuckDB's memory limit; the activity pass sorts the lake and spills beyond it. */
  memoryLimit?: string;
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (p: { pass: 'orders' | 'activity'; rows: number }) => void;
}

export interface BackfillSummary {
  /** Purchase and refund rows read from the lake, and how many were new to the store. */
  orderRows: number;
  newLines: number;
  /** Recent-activity rows read (the newest per customer) and how many were new. */
  activityRows: number;
  newActivity: number;
  customers: number;
  elapsedMs: number;
}

const COLUMNS = [
  'event_id',
  'epoch_ms(event_time)::DOUBLE AS event_time',
  'site_id',
  'event_type::VARCHAR AS event_type',
  'event_name',
  'product_id',
  'category_code',
  'brand',
  'price',
  'quantity',
  'currency',
  'order_id',
  'revenue',
  'user_id',
  'visitor_id',
  'path',
  'is_bot',
].join(', ');

/** Same rule as keepsActivity() in order-model.ts: anonymous bot traffic is nobody's activity. */
const ACTIVITY_FILTER = 'NOT (coalesce(is_bot, false) AND user_id IS NULL)';

/**
 * Loads the lake's `events` into the order store: every purchase and refund (in event-time
 * order, so refunds find their orders), then the newest `activityCap` events of each customer
 * with their first and last seen. Everything merges by event id, so running it again, or while
 * the stream consumer runs, adds only what is missing. Bulk imports reach the order history
 * this way, since they write the lake directly.
 */
export async function backfillFromLake(store: OrderStore, o: BackfillOptions): Promise<BackfillSummary> {
  const started = performance.now();
  const summary: BackfillSummary = {
    orderRows: 0,
    newLines: 0,
    activityRows: 0,
    newActivity: 0,
    customers: 0,
    elapsedMs: 0,
  };
  const dir = tableDir(o.dataDir, LAKE_TABLES.events.name);
  if (!hasParquet(dir)) return summary;
  const tmp = join(o.dataDir, 'tmp', `orders-backfill-${process.pid}`);
  const instance = await DuckDBInstance.create(':memory:', {
    threads: '2',
    memory_limit: o.memoryLimit ?? '1GB',
    temp_directory: tmp,
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await instance.connect();
  // Stopping the server mid-backfill interrupts DuckDB too (a sort over the lake can take minutes).
  const interrupt = () => conn.interrupt();
  o.signal?.addEventListener('abort', interrupt, { once: true });
  try {
    const source = `read_parquet(${sqlString(`${dir}/*/*/*.parquet`)}, union_by_name = true)`;
    const site = o.site ? `AND site_id = ${sqlString(o.site)}` : '';
    const size = o.batchSize ?? 5000;

    await readBatches(
      conn,
      `SELECT ${COLUMNS} FROM ${source}
        WHERE event_type::VARCHAR IN ('purchase', 'refund') ${site}
        ORDER BY event_time, event_id`,
      size,
      o.signal,
      (rows) => {
        const r = store.apply(rows as unknown as OrderEvent[], { activity: false });
        summary.orderRows += rows.length;
        summary.newLines += r.lines;
        o.onProgress?.({ pass: 'orders', rows: summary.orderRows });
      },
    );

    await readBatches(
      conn,
      `SELECT ${COLUMNS}, epoch_ms(first_seen)::DOUBLE AS first_seen, rn FROM (
         SELECT *, min(event_time) OVER w AS first_seen, row_number() OVER (w ORDER BY event_time DESC, event_id DESC) AS rn
           FROM ${source} WHERE ${ACTIVITY_FILTER} ${site}
         WINDOW w AS (PARTITION BY site_id, coalesce(user_id, visitor_id)))
        WHERE rn <= ${store.activityCap}`,
      size,
      o.signal,
      (rows) => {
        const r = store.apply(rows as unknown as OrderEvent[], { lines: false });
        // Older events were not loaded: the first one still sets "first seen".
        const firsts = rows.filter((row) => Number(row.rn) === 1);
        store.seen(
          firsts.map((row) => ({
            site: row.site_id as string,
            customer: (row.user_id ?? row.visitor_id) as string,
            userId: (row.user_id as string | undefined) ?? null,
            first: row.first_seen as number,
          })),
        );
        summary.customers += firsts.length;
        summary.activityRows += rows.length;
        summary.newActivity += r.activity;
        o.onProgress?.({ pass: 'activity', rows: summary.activityRows });
      },
    );
  } finally {
    o.signal?.removeEventListener('abort', interrupt);
    conn.closeSync();
    instance.closeSync();
    rmSync(tmp, { recursive: true, force: true });
  }
  summary.elapsedMs = Math.round(performance.now() - started);
  return summary;
}

/** Streams a query's rows (nulls left out, as on the stream) to `each` in batches of `size`. */
async function readBatches(
  conn: DuckDBConnection,
  sql: string,
  size: number,
  signal: AbortSignal | undefined,
  each: (rows: Record<string, unknown>[]) => void,
): Promise<void> {
  const result = await conn.stream(sql);
  const names = result.columnNames();
  let batch: Record<string, unknown>[] = [];
  for (;;) {
    signal?.throwIfAborted();
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const values of chunk.convertRows(JsonDuckDBValueConverter)) {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) if (values[i] !== null) row[names[i]] = values[i];
      batch.push(row);
    }
    if (batch.length >= size) {
      each(batch);
      batch = [];
    }
  }
  if (batch.length > 0) each(batch);
}
