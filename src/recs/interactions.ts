import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { hasParquet, LAKE_TABLES, tableDir } from '../lake/lake.js';
import { sqlString } from '../lake/writer.js';
import { DEFAULT_WEIGHTS, type EventWeights } from './params.js';

export { DEFAULT_WEIGHTS, type EventWeights };

/**
 * Reads the lake's product events into compact arrays for training: one row per (user, item)
 * with a confidence weight summed over its events (view < cart < purchase), in CSR form
 * (Int32Array/Float32Array), so tens of millions of interactions fit without one JS object
 * per interaction. DuckDB does the grouping and the id → index mapping.
 *
 * Who is a user: the shop's `user_id` when the visitor was logged in; a visitor who logged in
 * at least once in the range is that user on their anonymous visits too (their visitor_id is
 * stitched to the user_id); anyone else is their `visitor_id`. Bots are left out.
 */

/** Sparse rows: row r's columns are indices[indptr[r] .. indptr[r+1]), with values. */
export interface Csr {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

export interface ItemMeta {
  categoryCode: (string | null)[];
  brand: (string | null)[];
  price: Float64Array; // NaN when unknown
}

export interface Interactions {
  userIds: string[];
  itemIds: string[];
  items: ItemMeta;
  /** users × items, weighted. */
  matrix: Csr;
  /** users × items, value = purchases (rows sorted by item index). */
  purchased: Csr;
  /** Number of raw events read. */
  events: number;
  /** Visitor ids stitched to a user id (visitor → user), so serving finds them by either. */
  aliases: [string, string][];
}

export interface LakeRange {
  dataDir: string;
  site?: string;
  /** ISO times; events with from ≤ event_time < to. */
  from?: string;
  to?: string;
  memoryLimit?: string;
}

export interface LakeEvents {
  conn: DuckDBConnection;
  close: () => void;
}

/** One DuckDB connection with a `recs_events` table of the lake's product events in range. */
export async function openLakeEvents(r: LakeRange): Promise<LakeEvents> {
  const dir = tableDir(r.dataDir, LAKE_TABLES.events.name);
  if (!hasParquet(dir)) throw new Error(`no events in the lake at ${dir}: import or backfill some first`);
  const instance = await DuckDBInstance.create(':memory:', {
    threads: '2',
    memory_limit: r.memoryLimit ?? '2GB',
    temp_directory: join(r.dataDir, 'tmp', `recs-${process.pid}`),
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await instance.connect();
  const source = `read_parquet(${sqlString(`${dir}/*/*/*.parquet`)}, union_by_name = true)`;
  const where = [
    `event_type IN ('view', 'cart', 'purchase')`,
    'product_id IS NOT NULL',
    'NOT coalesce(is_bot, false)',
    r.site ? `site_id = ${sqlString(r.site)}` : '',
    r.from ? `event_time >= ${sqlString(r.from)}::TIMESTAMPTZ` : '',
    r.to ? `event_time < ${sqlString(r.to)}::TIMESTAMPTZ` : '',
  ].filter(Boolean);
  // Materialised once: every later query (matrix, co-occurrence, popularity) reads it.
  await conn.run(`CREATE TEMP TABLE raw AS
    SELECT site_id, event_time, event_type, product_id, category_code, brand, price, user_id, visitor_id,
           coalesce(user_session, visitor_id) AS session
      FROM ${source} WHERE ${where.join(' AND ')}`);
  await conn.run(`CREATE TEMP TABLE stitched AS
    SELECT visitor_id, max(user_id) AS user_id FROM raw WHERE user_id IS NOT NULL GROUP BY visitor_id`);
  await conn.run(`CREATE TEMP TABLE recs_events AS
    SELECT r.site_id, r.event_time, r.event_type, r.product_id, r.category_code, r.brand, r.price, r.session,
           coalesce(r.user_id, s.user_id, r.visitor_id) AS user_key
      FROM raw r LEFT JOIN stitched s USING (visitor_id)`);
  await conn.run('DROP TABLE raw');
  let open = true;
  return {
    conn,
    close: () => {
      if (!open) return;
      open = false;
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/**
 * The site a model is for: the one asked for, or the only one in the events. A model mixes no
 * stores, so several sites without --site is an error that names them.
 */
export async function modelSite(conn: DuckDBConnection, site: string | undefined): Promise<string> {
  if (site) return site;
  const sites = (await conn.runAndReadAll('SELECT DISTINCT site_id FROM recs_events ORDER BY 1 LIMIT 11'))
    .getRows()
    .map((r) => String(r[0]));
  if (sites.length === 1) return sites[0];
  if (sites.length === 0) throw new Error('no view/cart/purchase events in that range of the lake');
  throw new Error(
    `the lake holds events of several sites (${sites.slice(0, 10).join(', ')}): choose one with --site`,
  );
}

/** Streams a query's rows chunk by chunk: `each(columns, rowCount)`. */
export async function eachChunk(
  conn: DuckDBConnection,
  sql: string,
  each: (columns: unknown[][], rows: number) => void,
): Promise<void> {
  const result = await conn.stream(sql);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const cols: unknown[][] = [];
    for (let c = 0; c < chunk.columnCount; c++) cols.push(chunk.getColumnValues(c) as unknown[]);
    each(cols, chunk.rowCount);
  }
}

export async function scalar(conn: DuckDBConnection, sql: string): Promise<number> {
  const reader = await conn.runAndReadAll(sql);
  return Number(reader.getRows()[0][0] ?? 0);
}

/**
 * Builds the user × item matrix from `recs_events` (see openLakeEvents). Also creates the
 * temp tables `users(user_key, u)` and `items(product_id, i)` that map ids to row/column.
 */
export async function loadInteractions(
  conn: DuckDBConnection,
  weights: EventWeights = DEFAULT_WEIGHTS,
  onProgress?: (read: number, total: number) => void,
): Promise<Interactions> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE items AS
    SELECT product_id, (row_number() OVER (ORDER BY product_id) - 1)::INTEGER AS i,
           category_code, brand, price FROM (
      SELECT product_id, arg_max(category_code, event_time) AS category_code,
             arg_max(brand, event_time) AS brand, arg_max(price, event_time) AS price
        FROM recs_events GROUP BY product_id)`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE users AS
    SELECT user_key, (row_number() OVER (ORDER BY user_key) - 1)::INTEGER AS u
      FROM (SELECT DISTINCT user_key FROM recs_events)`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE ui AS
    SELECT u.u, it.i,
           sum(CASE e.event_type WHEN 'view' THEN ${Number(weights.view)} WHEN 'cart' THEN ${Number(weights.cart)}
                                 ELSE ${Number(weights.purchase)} END)::FLOAT AS w,
           count(*) FILTER (WHERE e.event_type = 'purchase')::FLOAT AS bought
      FROM recs_events e JOIN users u USING (user_key) JOIN items it USING (product_id)
     GROUP BY u.u, it.i`);

  const nUsers = await scalar(conn, 'SELECT count(*) FROM users');
  const nItems = await scalar(conn, 'SELECT count(*) FROM items');
  const nnz = await scalar(conn, 'SELECT count(*) FROM ui');
  const nBought = await scalar(conn, 'SELECT count(*) FROM ui WHERE bought > 0');
  const events = await scalar(conn, 'SELECT count(*) FROM recs_events');

  const userIds: string[] = new Array(nUsers);
  await eachChunk(conn, 'SELECT user_key, u FROM users', (c, n) => {
    for (let r = 0; r < n; r++) userIds[c[1][r] as number] = String(c[0][r]);
  });
  const itemIds: string[] = new Array(nItems);
  const items: ItemMeta = {
    categoryCode: new Array(nItems).fill(null),
    brand: new Array(nItems).fill(null),
    price: new Float64Array(nItems).fill(Number.NaN),
  };
  await eachChunk(conn, 'SELECT product_id, i, category_code, brand, price FROM items', (c, n) => {
    for (let r = 0; r < n; r++) {
      const i = c[1][r] as number;
      itemIds[i] = String(c[0][r]);
      items.categoryCode[i] = (c[2][r] as string | null) ?? null;
      items.brand[i] = (c[3][r] as string | null) ?? null;
      items.price[i] = c[4][r] === null ? Number.NaN : Number(c[4][r]);
    }
  });

  const matrix = emptyCsr(nUsers, nItems, nnz);
  const purchased = emptyCsr(nUsers, nItems, nBought);
  let k = 0;
  let kb = 0;
  await eachChunk(conn, 'SELECT u, i, w, bought FROM ui ORDER BY u, i', (c, n) => {
    for (let r = 0; r < n; r++) {
      const u = c[0][r] as number;
      matrix.indptr[u + 1]++;
      matrix.indices[k] = c[1][r] as number;
      matrix.values[k++] = c[2][r] as number;
      const b = c[3][r] as number;
      if (b > 0) {
        purchased.indptr[u + 1]++;
        purchased.indices[kb] = c[1][r] as number;
        purchased.values[kb++] = b;
      }
    }
    onProgress?.(k, nnz);
  });
  for (let u = 0; u < nUsers; u++) {
    matrix.indptr[u + 1] += matrix.indptr[u];
    purchased.indptr[u + 1] += purchased.indptr[u];
  }
  const aliases: [string, string][] = [];
  await eachChunk(
    conn,
    `SELECT s.visitor_id, s.user_id FROM stitched s JOIN users u ON u.user_key = s.user_id
      WHERE s.visitor_id <> s.user_id AND s.visitor_id NOT IN (SELECT user_key FROM users)`,
    (c, n) => {
      for (let r = 0; r < n; r++) aliases.push([String(c[0][r]), String(c[1][r])]);
    },
  );
  return { userIds, itemIds, items, matrix, purchased, events, aliases };
}

export function emptyCsr(rows: number, cols: number, nnz: number): Csr {
  return {
    rows,
    cols,
    indptr: new Int32Array(rows + 1),
    indices: new Int32Array(nnz),
    values: new Float32Array(nnz),
  };
}

/** Builds a CSR from (row, col, value) triples; duplicates are summed. For tests and small data. */
export function csrFromTriples(rows: number, cols: number, triples: [number, number, number][]): Csr {
  const sorted = [...triples].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: [number, number, number][] = [];
  for (const t of sorted) {
    const last = merged[merged.length - 1];
    if (last && last[0] === t[0] && last[1] === t[1]) last[2] += t[2];
    else merged.push([...t]);
  }
  const m = emptyCsr(rows, cols, merged.length);
  merged.forEach(([r, c, v], k) => {
    m.indptr[r + 1]++;
    m.indices[k] = c;
    m.values[k] = v;
  });
  for (let r = 0; r < rows; r++) m.indptr[r + 1] += m.indptr[r];
  return m;
}

/** The transpose (items × users), rows sorted by column. */
export function transpose(m: Csr): Csr {
  const t = emptyCsr(m.cols, m.rows, m.indices.length);
  for (let k = 0; k < m.indices.length; k++) t.indptr[m.indices[k] + 1]++;
  for (let c = 0; c < m.cols; c++) t.indptr[c + 1] += t.indptr[c];
  const next = t.indptr.slice(0, m.cols);
  for (let r = 0; r < m.rows; r++) {
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) {
      const pos = next[m.indices[k]]++;
      t.indices[pos] = r;
      t.values[pos] = m.values[k];
    }
  }
  return t;
}
