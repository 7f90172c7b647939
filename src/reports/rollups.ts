import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../lake/writer.js';
import type { LakeDay, LakeDayLister } from './lake-days.js';
import { fixVisitorDays, VISITOR_TABLES, visitorDaysSql } from './visitor-days.js';

/**
 * Daily rollups of the events lake, the tables every report reads. Scanning 40 M raw events
 * takes tens of seconds on two cores; these tables hold per-day sums (sessions by device,
 * landing referrer and UTM tags; visitors; categories by hour; brands by category; products left
 * in carts) — thousands of rows where the lake has millions — so a report over months answers
 * in a fraction of a second. Sessions are built per batch of days in temp tables and dropped.
 *
 * They stay exact because each day is rebuilt from scratch whenever that day's Parquet files
 * change: `rollup_days` keeps a signature (names, sizes, modification times) of the files a
 * day was built from, and `refresh` rebuilds every day in the asked range whose files differ
 * (new flushes, compaction, a re-import, a removed partition). A day is replaced in one
 * transaction. Sessions end at midnight UTC (types.ts), which is what makes a day complete in
 * itself.
 *
 * Distinct visitors, buyers and abandoners over any period come from `visitor_days` and
 * `visitor_counts` (visitor-days.ts), kept exact the same way.
 *
 * Bump ROLLUP_VERSION whenever a definition below changes: older tables are dropped and rebuilt.
 */
export const ROLLUP_VERSION = 4;

const MONEY = 'DECIMAL(18,2)';
const COUNTS = 'views BIGINT, carts BIGINT, purchases BIGINT, revenue DECIMAL(18,2)';
const KEY = 'site_id VARCHAR, dt DATE, is_bot BOOLEAN';

const TABLES: Record<string, string> = {
  rollup_days:
    'dt DATE PRIMARY KEY, signature VARCHAR NOT NULL, events BIGINT NOT NULL, built_at TIMESTAMP NOT NULL',
  rollup_state: 'dirty_from DATE',
  ...VISITOR_TABLES,
  // The sessions summed per day and the attributes reports group by: most reports read these few
  // thousand rows instead of millions of sessions.
  session_groups: `${KEY}, device VARCHAR, referrer VARCHAR, utm_source VARCHAR, utm_campaign VARCHAR,
    sessions BIGINT, view_sessions BIGINT, cart_sessions BIGINT, purchase_sessions BIGINT, abandoned_sessions BIGINT,
    events BIGINT, page_views BIGINT, views BIGINT, carts BIGINT, purchases BIGINT, orders BIGINT, units BIGINT,
    revenue ${MONEY}, value_left ${MONEY}`,
  // Per day and category / brand: event counts and sessions with such an event of a product in it.
  product_dims: `${KEY}, dim VARCHAR, value VARCHAR, sessions BIGINT, view_sessions BIGINT, cart_sessions BIGINT,
    purchase_sessions BIGINT, ${COUNTS}`,
  category_hours: `${KEY}, hour TINYINT, category VARCHAR, ${COUNTS}`,
  brand_categories: `${KEY}, brand VARCHAR, category VARCHAR, ${COUNTS}`,
  // Products / brands left in abandoned carts.
  abandoned: `${KEY}, dim VARCHAR, value VARCHAR, brand VARCHAR, category VARCHAR, sessions BIGINT, units BIGINT,
    value_left ${MONEY}`,
};
const DAY_TABLES = Object.keys(TABLES).filter((t) => t !== 'rollup_days' && t !== 'rollup_state');

/** Creates the tables, dropping them first when they were built by another ROLLUP_VERSION. */
export async function prepareRollups(conn: DuckDBConnection): Promise<void> {
  await conn.run('CREATE TABLE IF NOT EXISTS rollup_info (version INTEGER)');
  const rows = (await conn.runAndReadAll('SELECT max(version) FROM rollup_info')).getRowsJS();
  if (rows[0]?.[0] !== ROLLUP_VERSION) {
    for (const t of Object.keys(TABLES)) await conn.run(`DROP TABLE IF EXISTS ${t}`);
    await conn.run('DELETE FROM rollup_info');
    await conn.run(`INSERT INTO rollup_info VALUES (${ROLLUP_VERSION})`);
  }
  for (const [t, cols] of Object.entries(TABLES)) await conn.run(`CREATE TABLE IF NOT EXISTS ${t} (${cols})`);
  await conn.run('INSERT INTO rollup_state SELECT NULL WHERE NOT EXISTS (SELECT 1 FROM rollup_state)');
}

export interface RefreshSummary {
  rebuilt: string[];
  removed: string[];
  ms: number;
}

/** Days are rebuilt together up to about this much Parquet (~2–3 M events): fewer statements, bounded memory. */
const BATCH_BYTES = 128 * 2 ** 20;

/**
 * Rebuilds the days in [from, to) (from = null: from the first day) whose files changed since
 * they were rolled up, and removes days whose files are gone.
 */
export async function refreshRollups(
  conn: DuckDBConnection,
  lister: LakeDayLister,
  from: string | null,
  to: string,
  onProgress?: (day: string, done: number, total: number) => void,
): Promise<RefreshSummary> {
  const started = performance.now();
  const lake = lister.list(from, to);
  const built = new Map<string, string>();
  const reader = await conn.runAndReadAll(
    "SELECT strftime(dt, '%Y-%m-%d'), signature FROM rollup_days WHERE ($from IS NULL OR dt >= $from::DATE) AND dt < $to::DATE",
    { from, to },
  );
  for (const [d, sig] of reader.getRowsJS()) built.set(String(d), String(sig));
  const stale = lake.filter((d) => built.get(d.day) !== d.signature);
  const rebuilt: string[] = [];
  for (let i = 0; i < stale.length; ) {
    const batch = [stale[i++]];
    let bytes = batch[0].bytes;
    while (i < stale.length && bytes + stale[i].bytes <= BATCH_BYTES) {
      bytes += stale[i].bytes;
      batch.push(stale[i++]);
    }
    onProgress?.(batch[0].day, rebuilt.length, stale.length);
    await buildDays(conn, lister, batch);
    rebuilt.push(...batch.map((d) => d.day));
  }
  const present = new Set(lake.map((d) => d.day));
  const removed = [...built.keys()].filter((day) => !present.has(day));
  if (removed.length > 0) await replaceDays(conn, removed, null);
  await fixVisitorDays(conn);
  return { rebuilt, removed, ms: Math.round(performance.now() - started) };
}

async function replaceDays(
  conn: DuckDBConnection,
  days: string[],
  fill: (() => Promise<void>) | null,
): Promise<void> {
  await conn.run('BEGIN TRANSACTION');
  try {
    for (const day of days)
      for (const t of [...DAY_TABLES, 'rollup_days'])
        await conn.run(`DELETE FROM ${t} WHERE dt = $day::DATE`, { day });
    await conn.run(
      'UPDATE rollup_state SET dirty_from = least(coalesce(dirty_from, $min::DATE), $min::DATE)',
      {
        min: [...days].sort()[0],
      },
    );
    if (fill) await fill();
    await conn.run('COMMIT');
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => {});
    throw err;
  }
}

/**
 * Rolls up a batch of days from exactly the files their signatures describe. A file can vanish
 * between listing and reading (compaction replaced it): the batch is then listed and read again.
 */
async function buildDays(conn: DuckDBConnection, lister: LakeDayLister, batch: LakeDay[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await buildDaysOnce(conn, batch);
      return;
    } catch (err) {
      if (attempt >= 3 || !/No files found|No such file|Cannot open file/i.test(String(err))) throw err;
      const now = new Map(lister.list().map((d) => [d.day, d]));
      batch = batch.map((d) => now.get(d.day) ?? { ...d, files: [], bytes: 0 });
    }
  }
}

async function buildDaysOnce(conn: DuckDBConnection, batch: LakeDay[]): Promise<void> {
  const days = batch.filter((d) => d.files.length > 0);
  const files = days.flatMap((d) => d.files);
  if (files.length > 0) {
    // A view, not a table: each statement reads only its columns (and rows, for filters on event_type)
    // from Parquet, which costs less than materialising every column once.
    await conn.run(`CREATE OR REPLACE TEMP VIEW ev AS ${eventsSql(files)}`);
    await conn.run(`CREATE OR REPLACE TEMP TABLE s AS ${sessionsSql}`);
    await conn.run(`CREATE OR REPLACE TEMP TABLE lines AS ${abandonedLinesSql}`);
    await conn.run(`CREATE OR REPLACE TEMP TABLE sess AS ${sessionRowsSql}`);
  }
  await replaceDays(
    conn,
    batch.map((d) => d.day),
    files.length === 0
      ? null
      : async () => {
          await conn.run(`INSERT INTO session_groups ${sessionGroupsSql}`);
          await conn.run(`INSERT INTO visitor_days ${visitorDaysSql}`);
          await conn.run(`INSERT INTO product_dims ${productDimsSql}`);
          await conn.run(`INSERT INTO category_hours ${categoryHoursSql}`);
          await conn.run(`INSERT INTO brand_categories ${brandCategoriesSql}`);
          await conn.run(`INSERT INTO abandoned ${abandonedSql('product')}`);
          await conn.run(`INSERT INTO abandoned ${abandonedSql('brand')}`);
          for (const d of days) {
            await conn.run(
              'INSERT INTO rollup_days SELECT $day::DATE, $signature, (SELECT coalesce(sum(events), 0) FROM sess WHERE dt = $day::DATE), now()::TIMESTAMP',
              { day: d.day, signature: d.signature },
            );
          }
        },
  );
  await conn.run('DROP VIEW IF EXISTS ev');
  for (const t of ['s', 'lines', 'sess']) await conn.run(`DROP TABLE IF EXISTS ${t}`);
}

/** The batch's events with the definitions of types.ts applied once. */
const eventsSql = (files: string[]) => `
  SELECT site_id, event_time::DATE AS dt, coalesce(is_bot, false) AS is_bot, visitor_id, coalesce(user_session, '') AS session,
    event_time, event_id, event_type, product_id,
    coalesce(category_code, category_id) AS category, brand, price,
    coalesce(quantity, 1) AS qty,
    CASE WHEN event_type = 'purchase' THEN coalesce(revenue, price * coalesce(quantity, 1)) END::${MONEY} AS rev,
    CASE WHEN event_type = 'purchase' THEN coalesce(order_id, '@' || epoch_ms(event_time)) END AS order_key,
    hour(event_time)::TINYINT AS hour, device_type, referrer_host, url, utm_source, utm_campaign
  FROM read_parquet([${files.map(sqlString).join(', ')}], union_by_name = true)`;

const n = (type: string) => `count(*) FILTER (WHERE event_type = '${type}')`;

/** Host of a URL, as events/enrich.ts referrerHost gives it (lower case, no www.). */
const urlHost = (col: string) =>
  `regexp_replace(lower(regexp_extract(${col}, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#@]*@)?([^/?#:]+)', 1)), '^www\\.', '')`;

/** One row per session; `first` is its first event's (by time, then id) device, referrer, URL and UTM tags. */
const sessionsSql = `
  SELECT site_id, dt, is_bot, visitor_id, session, row_number() OVER () AS sn,
    arg_min_null({'device': device_type, 'ref': referrer_host, 'url': url, 'utm_source': utm_source,
      'utm_campaign': utm_campaign}, (event_time, event_id)) AS first,
    count(*) AS events, ${n('page_view')} AS page_views, ${n('view')} AS views, ${n('cart')} AS carts,
    ${n('purchase')} AS purchases,
    coalesce(sum(qty) FILTER (WHERE event_type = 'purchase'), 0) AS units, coalesce(sum(rev), 0) AS revenue
  FROM ev GROUP BY site_id, dt, is_bot, visitor_id, session`;

/** Orders per session (few rows: purchases only). */
const ordersSql = `
  SELECT site_id, dt, is_bot, visitor_id, session, count(DISTINCT order_key) AS orders
  FROM ev WHERE event_type = 'purchase' GROUP BY site_id, dt, is_bot, visitor_id, session`;

/**
 * Per product of an abandoned session (carted, no purchase): units added minus removed, valued
 * at the product's cart price in that session (the highest, if it changed).
 */
const abandonedLinesSql = `
  SELECT s.site_id, s.dt, s.is_bot, s.sn, ev.product_id,
    max(ev.brand) FILTER (WHERE ev.event_type = 'cart') AS brand,
    max(ev.category) FILTER (WHERE ev.event_type = 'cart') AS category,
    greatest(sum(ev.qty) FILTER (WHERE ev.event_type = 'cart')
      - coalesce(sum(ev.qty) FILTER (WHERE ev.event_type = 'remove_from_cart'), 0), 0) AS units,
    max(ev.price) FILTER (WHERE ev.event_type = 'cart') AS price
  FROM ev JOIN s USING (site_id, dt, is_bot, visitor_id, session)
  WHERE s.carts > 0 AND s.purchases = 0 AND ev.event_type IN ('cart', 'remove_from_cart')
  GROUP BY s.site_id, s.dt, s.is_bot, s.sn, ev.product_id
  HAVING count(*) FILTER (WHERE ev.event_type = 'cart') > 0`;

const lineValue = `(units * coalesce(price, 0)::${MONEY})`;

const sessionRowsSql = `
  SELECT s.site_id, s.dt, s.is_bot, s.visitor_id, s.first.device AS device,
    CASE WHEN s.first.ref IS NULL THEN '(direct)' WHEN s.first.ref = ${urlHost('s.first.url')} THEN '(internal)'
      ELSE s.first.ref END AS referrer,
    coalesce(s.first.utm_source, '(none)') AS utm_source, coalesce(s.first.utm_campaign, '(none)') AS utm_campaign,
    s.events, s.page_views, s.views, s.carts, s.purchases, coalesce(o.orders, 0) AS orders, s.units, s.revenue,
    coalesce(l.value_left, 0) AS value_left
  FROM s LEFT JOIN (SELECT sn, sum(${lineValue}) AS value_left FROM lines GROUP BY sn) l USING (sn)
    LEFT JOIN (${ordersSql}) o USING (site_id, dt, is_bot, visitor_id, session)`;

const sessionGroupsSql = `
  SELECT site_id, dt, is_bot, device, referrer, utm_source, utm_campaign, count(*), count(*) FILTER (WHERE views > 0),
    count(*) FILTER (WHERE carts > 0), count(*) FILTER (WHERE purchases > 0),
    count(*) FILTER (WHERE carts > 0 AND purchases = 0), sum(events), sum(page_views), sum(views), sum(carts),
    sum(purchases), sum(orders), sum(units), sum(revenue), sum(value_left)
  FROM sess GROUP BY ALL`;

/**
 * Per category and per brand: sessions with a view / cart / purchase of a product in it, and event
 * counts. First per session and value (both dimensions in one pass), then per value.
 */
const productDimsSql = `
  SELECT site_id, dt, is_bot, dim, value, count(*), count(*) FILTER (WHERE v > 0), count(*) FILTER (WHERE c > 0),
    count(*) FILTER (WHERE p > 0), sum(v), sum(c), sum(p), sum(r)
  FROM (
    SELECT site_id, dt, is_bot, CASE WHEN GROUPING(brand) = 0 THEN 'brand' ELSE 'category' END AS dim,
      CASE WHEN GROUPING(brand) = 0 THEN brand ELSE category END AS value,
      ${n('view')} AS v, ${n('cart')} AS c, ${n('purchase')} AS p, coalesce(sum(rev), 0) AS r
    FROM ev WHERE event_type IN ('view', 'cart', 'purchase')
    GROUP BY GROUPING SETS ((site_id, dt, is_bot, visitor_id, session, brand),
      (site_id, dt, is_bot, visitor_id, session, category)))
  GROUP BY site_id, dt, is_bot, dim, value`;

const categoryHoursSql = `
  SELECT site_id, dt, is_bot, hour, category, ${n('view')}, ${n('cart')}, ${n('purchase')}, coalesce(sum(rev), 0)
  FROM ev WHERE event_type IN ('view', 'cart', 'purchase') AND category IS NOT NULL
  GROUP BY site_id, dt, is_bot, hour, category`;

const brandCategoriesSql = `
  SELECT site_id, dt, is_bot, brand, category, ${n('view')}, ${n('cart')}, ${n('purchase')}, coalesce(sum(rev), 0)
  FROM ev WHERE event_type IN ('view', 'cart', 'purchase')
  GROUP BY site_id, dt, is_bot, brand, category`;

const abandonedSql = (dim: 'product' | 'brand') => `
  SELECT site_id, dt, is_bot, '${dim}', ${dim === 'product' ? 'product_id, max(brand), max(category)' : 'brand, brand, NULL'},
    count(DISTINCT sn), sum(units), sum(${lineValue})
  FROM lines WHERE units > 0
  GROUP BY site_id, dt, is_bot, ${dim === 'product' ? 'product_id' : 'brand'}`;
