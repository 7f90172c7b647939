import { type DuckDBConnection, JsonDuckDBValueConverter } from '@duckdb/node-api';
import { sqlString } from '../lake/writer.js';

/**
 * Test oracle for reports.integration.test.ts: every report computed again, by hand, straight
 * from REES46 CSV files with DuckDB's read_csv — no lake, no rollups, no code shared with
 * src/reports. It follows the definitions in src/reports/types.ts as they apply to REES46 rows:
 * a visitor is user_id (else the session), a purchase row is one unit at `price`, an order is a
 * session's purchases at one instant, imports carry no referrer, UTM tags or bots, and their
 * device is 'other'.
 */
export async function loadRees46(conn: DuckDBConnection, files: Record<string, string>): Promise<void> {
  const cols = `{'event_time': 'VARCHAR', 'event_type': 'VARCHAR', 'product_id': 'VARCHAR', 'category_id': 'VARCHAR',
    'category_code': 'VARCHAR', 'brand': 'VARCHAR', 'price': 'VARCHAR', 'user_id': 'VARCHAR', 'user_session': 'VARCHAR'}`;
  const parts = Object.entries(files).map(
    ([site, file]) =>
      `SELECT ${sqlString(site)} AS site, * FROM read_csv(${sqlString(file)}, header = true, columns = ${cols})`,
  );
  await conn.run(`CREATE TABLE csv AS ${parts.join(' UNION ALL ')}`);
  await conn.run(`CREATE VIEW ev AS SELECT site,
      strptime(event_time, '%Y-%m-%d %H:%M:%S UTC') AS ts, strptime(event_time, '%Y-%m-%d %H:%M:%S UTC')::DATE AS day,
      event_type AS type, product_id AS product, coalesce(category_code, category_id) AS category, brand,
      price::DOUBLE AS price, coalesce(user_id, user_session) AS visitor, coalesce(user_session, '') AS session
    FROM csv`);
}

const IN = `site = $site AND day >= $from::DATE AND day < $to::DATE`;
const DAYS = `SELECT d::DATE AS day FROM generate_series($from::DATE, $to::DATE - 1, INTERVAL 1 DAY) t(d)`;
const cents = (x: string) => `${x}::DECIMAL(18,2)`;
const r4 = (a: string, b: string) => `round(${a} / nullif(${b}, 0), 4)`;
/** One row per session: (day, visitor, session). */
const SESSIONS = `SELECT day, visitor, session, count(*) AS events, count(*) FILTER (type = 'view') AS views,
    count(*) FILTER (type = 'cart') AS carts, count(*) FILTER (type = 'purchase') AS buys,
    count(DISTINCT ts) FILTER (type = 'purchase') AS orders, coalesce(sum(${cents('price')}) FILTER (type = 'purchase'), 0) AS revenue
  FROM ev WHERE ${IN} GROUP BY day, visitor, session`;
/** Products left in the carts of sessions that carted and bought nothing. */
const LINES = `SELECT e.day, e.visitor, e.session, e.product, max(e.brand) FILTER (e.type = 'cart') AS brand,
    max(e.category) FILTER (e.type = 'cart') AS category,
    greatest(count(*) FILTER (e.type = 'cart') - count(*) FILTER (e.type = 'remove_from_cart'), 0) AS units,
    max(e.price) FILTER (e.type = 'cart') AS price
  FROM ev e JOIN (${SESSIONS}) s USING (day, visitor, session)
  WHERE s.carts > 0 AND s.buys = 0 AND e.type IN ('cart', 'remove_from_cart')
  GROUP BY ALL HAVING count(*) FILTER (e.type = 'cart') > 0`;
const LINE_VALUE = `units * ${cents('coalesce(price, 0)')}`;

const period = (grain: string, d: string) => (grain === 'day' ? d : `date_trunc('${grain}', ${d})::DATE`);

export function oracleSql(report: string, p: Record<string, string>): string {
  switch (report) {
    case 'visitors': {
      const g = p.grain ?? 'day';
      return `WITH p AS (SELECT ${period(g, 'day')} AS period, min(day) AS first_day, max(day) AS last_day FROM (${DAYS}) GROUP BY 1),
        e AS (SELECT ${period(g, 'day')} AS period, count(DISTINCT visitor) AS visitors,
          count(DISTINCT (day, visitor, session)) AS sessions, count(*) AS events,
          count(*) FILTER (type = 'page_view') AS page_views, count(*) FILTER (type = 'view') AS views
          FROM ev WHERE ${IN} GROUP BY 1)
        SELECT p.*, coalesce(visitors, 0), coalesce(sessions, 0), coalesce(events, 0), coalesce(page_views, 0),
          coalesce(views, 0) FROM p LEFT JOIN e USING (period) ORDER BY period`;
    }
    case 'cart-abandonment':
      if (p.by === 'product')
        return `SELECT product, max(brand), max(category), count(*) AS n, sum(units), sum(${LINE_VALUE}) AS v
          FROM (${LINES}) WHERE units > 0 GROUP BY product ORDER BY n DESC, v DESC, product LIMIT ${Number(p.limit ?? 50)}`;
      if (p.by === 'brand')
        return `SELECT brand, count(DISTINCT (day, visitor, session)) AS n, sum(units), sum(${LINE_VALUE}) AS v
          FROM (${LINES}) WHERE units > 0 GROUP BY brand ORDER BY n DESC, v DESC, brand NULLS LAST LIMIT ${Number(p.limit ?? 50)}`;
      return `WITH s AS (${SESSIONS}),
        a AS (SELECT day, count(*) FILTER (carts > 0) AS c, count(*) FILTER (carts > 0 AND buys = 0) AS ab,
          count(DISTINCT visitor) FILTER (carts > 0 AND buys = 0) AS vis FROM s GROUP BY day),
        v AS (SELECT day, sum(${LINE_VALUE}) AS v FROM (${LINES}) GROUP BY day)
        SELECT day, coalesce(c, 0), coalesce(ab, 0), ${r4('ab', 'c')}, coalesce(vis, 0), coalesce(v, 0)
        FROM (${DAYS}) LEFT JOIN a USING (day) LEFT JOIN v USING (day) ORDER BY day`;
    case 'category-heatmap': {
      const type = (p.metric ?? 'views').replace(/s$/, ''); // views → view, carts → cart, purchases → purchase
      const metric =
        type === 'revenue'
          ? `sum(${cents('price')}) FILTER (type = 'purchase')`
          : `count(*) FILTER (type = '${type}')`;
      const slot = p.by === 'weekday' ? 'isodow(day)' : 'hour(ts)';
      const slots = p.by === 'weekday' ? 'range(1, 8)' : 'range(0, 24)';
      const names = p.by === 'weekday' ? `, ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][s.range]` : '';
      return `WITH e AS (SELECT * FROM ev WHERE ${IN} AND type IN ('view', 'cart', 'purchase') AND category IS NOT NULL),
        top AS (SELECT category, row_number() OVER (ORDER BY coalesce(${metric}, 0) DESC, category) AS rank
          FROM e GROUP BY category QUALIFY rank <= ${Number(p.top ?? 10)})
        SELECT top.category, top.rank, s.range ${names},
          (SELECT count(*) FROM e WHERE e.category = top.category AND ${slot} = s.range AND type = 'view'),
          (SELECT count(*) FROM e WHERE e.category = top.category AND ${slot} = s.range AND type = 'cart'),
          (SELECT count(*) FROM e WHERE e.category = top.category AND ${slot} = s.range AND type = 'purchase'),
          (SELECT coalesce(sum(${cents('price')}), 0) FROM e WHERE e.category = top.category AND ${slot} = s.range AND type = 'purchase')
        FROM top, ${slots} s ORDER BY top.rank, s.range`;
    }
    case 'brand-marketing':
      return brandMarketing(p);
    case 'funnel':
      return funnel(p.dimension ?? 'day', Number(p.limit ?? 50));
    case 'revenue':
      return `WITH b AS (SELECT DISTINCT day, visitor FROM ev WHERE site = $site AND day < $to::DATE AND type = 'purchase'),
        f AS (SELECT visitor, min(day) AS first FROM b GROUP BY visitor),
        bd AS (SELECT day, count(*) AS buyers, count(*) FILTER (first = day) AS new FROM b JOIN f USING (visitor) GROUP BY day),
        m AS (SELECT day, sum(revenue) AS revenue, sum(orders) AS orders, sum(buys) AS units FROM (${SESSIONS}) GROUP BY day)
        SELECT day, coalesce(revenue, 0), coalesce(orders, 0), round(revenue / nullif(orders, 0), 2), coalesce(units, 0),
          coalesce(buyers, 0), coalesce(new, 0), coalesce(buyers - new, 0)
        FROM (${DAYS}) LEFT JOIN m USING (day) LEFT JOIN bd USING (day) ORDER BY day`;
    case 'traffic-sources': {
      // REES46 rows have no referrer or UTM tags: every session arrives '(direct)' with '(none)'.
      const keys =
        p.by === 'campaign' ? `'(none)', '(none)'` : p.by === 'utm_source' ? `'(none)'` : `'(direct)'`;
      return `SELECT ${keys}, count(*), count(*) FILTER (buys > 0), ${r4('count(*) FILTER (buys > 0)', 'count(*)')},
          sum(orders), sum(revenue) FROM (${SESSIONS}) HAVING count(*) > 0`;
    }
  }
  throw new Error(`no oracle for ${report}`);
}

function funnel(dim: string, limit: number): string {
  const rates = `${r4('cs', 'vs')}, ${r4('ps', 'cs')}, ${r4('ps', 'n')}`;
  const cols =
    'coalesce(n, 0), coalesce(vs, 0), coalesce(cs, 0), coalesce(ps, 0), coalesce(v, 0), coalesce(c, 0), coalesce(pu, 0), coalesce(rev, 0)';
  if (dim === 'category' || dim === 'brand') {
    const sess = (t: string) => `count(DISTINCT (day, visitor, session)) FILTER (type = '${t}')`;
    return `SELECT ${dim}, ${cols}, ${rates} FROM (
        SELECT ${dim}, count(DISTINCT (day, visitor, session)) AS n, ${sess('view')} AS vs, ${sess('cart')} AS cs,
          ${sess('purchase')} AS ps, count(*) FILTER (type = 'view') AS v, count(*) FILTER (type = 'cart') AS c,
          count(*) FILTER (type = 'purchase') AS pu, coalesce(sum(${cents('price')}) FILTER (type = 'purchase'), 0) AS rev
        FROM ev WHERE ${IN} AND type IN ('view', 'cart', 'purchase') GROUP BY ${dim})
      ORDER BY n DESC, ${dim} NULLS LAST LIMIT ${limit}`;
  }
  const agg = `count(*) AS n, count(*) FILTER (views > 0) AS vs, count(*) FILTER (carts > 0) AS cs,
    count(*) FILTER (buys > 0) AS ps, sum(views) AS v, sum(carts) AS c, sum(buys) AS pu, sum(revenue) AS rev`;
  if (dim === 'day')
    return `SELECT day, ${cols}, ${rates} FROM (${DAYS}) LEFT JOIN (SELECT day, ${agg} FROM (${SESSIONS}) GROUP BY day) USING (day) ORDER BY day`;
  const value = dim === 'device' ? `'other'` : `'(direct)'`; // imports: no user agent, no referrer
  return `SELECT ${value}, ${cols}, ${rates} FROM (SELECT ${agg} FROM (${SESSIONS})) WHERE n > 0`;
}

function brandMarketing(p: Record<string, string>): string {
  const minViews = Number(p.min_views ?? 100);
  const factor = Number(p.conversion_factor ?? 0.5);
  const falling = Number(p.falling_pct ?? 20) / 100;
  return `WITH e AS (SELECT *, day < $from::DATE + half AS h1, day >= $to::DATE - half AS h2
          FROM ev, (SELECT (($to::DATE - $from::DATE) // 2)::INTEGER AS half) WHERE ${IN} AND type IN ('view', 'cart', 'purchase')),
      per_cat AS (SELECT category, count(*) FILTER (type = 'view') AS v, count(*) FILTER (type = 'purchase') AS pu,
          count(*) FILTER (type = 'view' AND h1) AS v1, count(*) FILTER (type = 'view' AND h2) AS v2
        FROM e WHERE category IS NOT NULL GROUP BY category),
      home AS (SELECT brand, category FROM e WHERE brand IS NOT NULL AND type = 'view' GROUP BY brand, category
        QUALIFY row_number() OVER (PARTITION BY brand ORDER BY count(*) DESC, category NULLS LAST) = 1),
      viewed AS (SELECT DISTINCT brand FROM e WHERE brand IS NOT NULL),
      per_brand AS (SELECT brand, count(*) FILTER (type = 'view') AS v, count(*) FILTER (type = 'cart') AS c,
          count(*) FILTER (type = 'purchase') AS pu, coalesce(sum(${cents('price')}) FILTER (type = 'purchase'), 0) AS rev,
          count(*) FILTER (type = 'view' AND h1) AS v1, count(*) FILTER (type = 'view' AND h2) AS v2
        FROM e WHERE brand IS NOT NULL GROUP BY brand),
      x AS (SELECT b.*, coalesce(h.category, (SELECT min(category) FROM e WHERE e.brand = b.brand)) AS cat FROM per_brand b LEFT JOIN home h USING (brand)),
      y AS (SELECT x.*, pc.v AS cv, pc.pu AS cpu, (x.v2 - x.v1) / nullif(x.v1, 0) AS ch, (pc.v2 - pc.v1) / nullif(pc.v1, 0) AS cch,
          x.v >= ${minViews} AND pc.v > 0 AND x.pu / x.v < ${factor} * (pc.pu / pc.v) AS low,
          x.v >= ${minViews} AND (x.v2 - x.v1) / nullif(x.v1, 0) <= -${falling}
            AND (pc.v1 = 0 OR pc.v1 IS NULL OR (x.v2 - x.v1) / x.v1 < (pc.v2 - pc.v1) / pc.v1) AS fall
        FROM x LEFT JOIN per_cat pc ON pc.category = x.cat)
    SELECT brand, cat, v, c, pu, rev, ${r4('c', 'v')}, ${r4('pu', 'c')}, ${r4('pu', 'v')}, ${r4('cpu', 'cv')}, v1, v2,
      round(ch, 4), round(cch, 4),
      concat_ws(',', CASE WHEN low THEN 'low_conversion' END, CASE WHEN fall THEN 'falling_views' END)
    FROM y WHERE brand IN (SELECT brand FROM viewed)
    ORDER BY coalesce(low, false)::INT + coalesce(fall, false)::INT DESC, v DESC, brand LIMIT ${Number(p.limit ?? 200)}`;
}

/** Runs an oracle query with the site and range bound; rows as arrays of JSON-ish values. */
export async function oracleRows(
  conn: DuckDBConnection,
  report: string,
  site: string,
  p: Record<string, string>,
): Promise<unknown[][]> {
  const sql = oracleSql(report, p);
  const all: Record<string, string> = { site, from: p.from, to: p.to };
  const values = Object.fromEntries(
    [...new Set([...sql.matchAll(/\$([a-z]+)/g)].map((m) => m[1]))].map((n) => [n, all[n]]),
  );
  const reader = await conn.runAndReadAll(sql, values);
  return reader.convertRows(JsonDuckDBValueConverter) as unknown[][];
}
