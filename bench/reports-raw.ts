/**
 * The baseline of bench/reports.ts: each store report written by hand as one DuckDB query
 * straight over the lake's Parquet files (no rollups, no code shared with src/reports), the way
 * an analyst would write it for DuckDB. The bench also checks that both give the same rows.
 *
 * Definitions (src/reports/types.ts): a session is (day, bot flag, visitor, user_session); its
 * landing referrer, device and UTM tags are its first event's; revenue is `revenue`, else
 * price × quantity, per purchase row, to the cent; orders are distinct order ids (else purchase
 * instants) per session; category is category_code, else category_id.
 */

export const rawEventsView = (glob: string) => `
  CREATE OR REPLACE VIEW raw_events AS
  SELECT *, dt AS day, coalesce(is_bot, false) AS bot, coalesce(user_session, '') AS sess,
    coalesce(category_code, category_id) AS cat, coalesce(quantity, 1) AS qty,
    CASE WHEN event_type = 'purchase' THEN coalesce(revenue, price * coalesce(quantity, 1)) END::DECIMAL(18,2) AS line_revenue
  FROM read_parquet('${glob.replaceAll("'", "''")}', hive_partitioning = true, hive_types = {'dt': DATE, 'hour': INTEGER})`;

const IN = `site_id = $site AND day >= $from::DATE AND day < $to::DATE AND ($bots OR NOT bot)`;
const DAYS = `SELECT d::DATE AS day FROM generate_series($from::DATE, $to::DATE - 1, INTERVAL 1 DAY) t(d)`;
const r4 = (a: string, b: string) => `round(${a} / nullif(${b}, 0), 4)`;
const host = (u: string) =>
  `regexp_replace(lower(split_part(split_part(split_part(split_part(${u}, '://', 2), '/', 1), '?', 1), '#', 1)), '^www\\.', '')`;

/** One row per session. */
const SESSIONS = `
  SELECT day, bot, visitor_id, sess, count(*) AS events, count(*) FILTER (event_type = 'page_view') AS page_views,
    count(*) FILTER (event_type = 'view') AS views, count(*) FILTER (event_type = 'cart') AS carts,
    count(*) FILTER (event_type = 'purchase') AS buys,
    count(DISTINCT coalesce(order_id, '@' || epoch_ms(event_time))) FILTER (event_type = 'purchase') AS orders,
    coalesce(sum(qty) FILTER (event_type = 'purchase'), 0) AS units, coalesce(sum(line_revenue), 0) AS revenue,
    arg_min_null(device_type, (event_time, event_id)) AS device, arg_min_null(referrer_host, (event_time, event_id)) AS ref,
    arg_min_null(url, (event_time, event_id)) AS landing, arg_min_null(utm_source, (event_time, event_id)) AS src,
    arg_min_null(utm_campaign, (event_time, event_id)) AS camp
  FROM raw_events WHERE ${IN} GROUP BY day, bot, visitor_id, sess`;

const LINES = `
  SELECT e.day, e.bot, e.visitor_id, e.sess, e.product_id, max(e.brand) FILTER (e.event_type = 'cart') AS brand,
    max(e.cat) FILTER (e.event_type = 'cart') AS cat,
    greatest(sum(e.qty) FILTER (e.event_type = 'cart') - coalesce(sum(e.qty) FILTER (e.event_type = 'remove_from_cart'), 0), 0) AS units,
    max(e.price) FILTER (e.event_type = 'cart') AS price
  FROM raw_events e SEMI JOIN (SELECT day, bot, visitor_id, sess FROM (${SESSIONS}) WHERE carts > 0 AND buys = 0) s
    USING (day, bot, visitor_id, sess)
  WHERE e.site_id = $site AND e.day >= $from::DATE AND e.day < $to::DATE AND e.event_type IN ('cart', 'remove_from_cart')
  GROUP BY ALL HAVING count(*) FILTER (e.event_type = 'cart') > 0`;
const VALUE = `units * coalesce(price, 0)::DECIMAL(18,2)`;

export function rawReportSql(id: string, p: Record<string, string>): string {
  const limit = Number(p.limit ?? 50);
  switch (id) {
    case 'visitors': {
      const g = p.grain ?? 'day';
      const per = (d: string) => (g === 'day' ? d : `date_trunc('${g}', ${d})::DATE`);
      return `WITH p AS (SELECT ${per('day')} AS period, min(day) AS f, max(day) AS l FROM (${DAYS}) GROUP BY 1),
        e AS (SELECT ${per('day')} AS period, count(DISTINCT visitor_id) AS v, count(DISTINCT (day, bot, visitor_id, sess)) AS s,
          count(*) AS n, count(*) FILTER (event_type = 'page_view') AS pv, count(*) FILTER (event_type = 'view') AS pr
          FROM raw_events WHERE ${IN} GROUP BY 1)
        SELECT period, f, l, coalesce(v, 0), coalesce(s, 0), coalesce(n, 0), coalesce(pv, 0), coalesce(pr, 0)
        FROM p LEFT JOIN e USING (period) ORDER BY period`;
    }
    case 'cart-abandonment':
      if (p.by === 'product')
        return `SELECT product_id, max(brand), max(cat), count(*) AS n, sum(units), sum(${VALUE}) AS v FROM (${LINES})
          WHERE units > 0 GROUP BY product_id ORDER BY n DESC, v DESC, product_id LIMIT ${limit}`;
      if (p.by === 'brand')
        return `SELECT brand, count(DISTINCT (day, bot, visitor_id, sess)) AS n, sum(units), sum(${VALUE}) AS v FROM (${LINES})
          WHERE units > 0 GROUP BY brand ORDER BY n DESC, v DESC, brand NULLS LAST LIMIT ${limit}`;
      return `WITH s AS (${SESSIONS}),
        a AS (SELECT day, count(*) FILTER (carts > 0) AS c, count(*) FILTER (carts > 0 AND buys = 0) AS ab,
          count(DISTINCT visitor_id) FILTER (carts > 0 AND buys = 0) AS vis FROM s GROUP BY day),
        v AS (SELECT day, sum(${VALUE}) AS v FROM (${LINES}) GROUP BY day)
        SELECT day, coalesce(c, 0), coalesce(ab, 0), ${r4('ab', 'c')}, coalesce(vis, 0), coalesce(v, 0)
        FROM (${DAYS}) LEFT JOIN a USING (day) LEFT JOIN v USING (day) ORDER BY day`;
    case 'category-heatmap': {
      const m = p.metric ?? 'views';
      const metric =
        m === 'revenue' ? 'sum(line_revenue)' : `count(*) FILTER (event_type = '${m.replace(/s$/, '')}')`;
      const slot = p.by === 'weekday' ? 'isodow(day)' : 'hour(event_time)';
      const slots = p.by === 'weekday' ? 'range(1, 8)' : 'range(0, 24)';
      return `WITH e AS (SELECT cat, ${slot} AS slot, event_type, line_revenue FROM raw_events
          WHERE ${IN} AND event_type IN ('view', 'cart', 'purchase') AND cat IS NOT NULL),
        top AS (SELECT cat, row_number() OVER (ORDER BY coalesce(${metric}, 0) DESC, cat) AS rank FROM e GROUP BY cat
          QUALIFY rank <= ${Number(p.top ?? 10)}),
        agg AS (SELECT cat, slot, count(*) FILTER (event_type = 'view') AS v, count(*) FILTER (event_type = 'cart') AS c,
          count(*) FILTER (event_type = 'purchase') AS pu, sum(line_revenue) AS r FROM e WHERE cat IN (SELECT cat FROM top) GROUP BY ALL)
        SELECT top.cat, top.rank, s.range ${p.by === 'weekday' ? `, ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][s.range]` : ''},
          coalesce(v, 0), coalesce(c, 0), coalesce(pu, 0), coalesce(r, 0)
        FROM top CROSS JOIN ${slots} s LEFT JOIN agg ON agg.cat = top.cat AND agg.slot = s.range ORDER BY top.rank, s.range`;
    }
    case 'brand-marketing':
      return brandMarketing(p);
    case 'funnel':
      return funnel(p.dimension ?? 'day', limit);
    case 'revenue':
      return `WITH b AS (SELECT DISTINCT day, visitor_id FROM raw_events
          WHERE site_id = $site AND day < $to::DATE AND ($bots OR NOT bot) AND event_type = 'purchase'),
        f AS (SELECT visitor_id, min(day) AS first FROM b GROUP BY visitor_id),
        bd AS (SELECT day, count(*) AS buyers, count(*) FILTER (first = day) AS new FROM b JOIN f USING (visitor_id)
          WHERE day >= $from::DATE GROUP BY day),
        m AS (SELECT day, sum(revenue) AS revenue, sum(orders) AS orders, sum(units) AS units FROM (${SESSIONS}) GROUP BY day)
        SELECT day, coalesce(revenue, 0), coalesce(orders, 0), round(revenue / nullif(orders, 0), 2), coalesce(units, 0),
          coalesce(buyers, 0), coalesce(new, 0), coalesce(buyers - new, 0)
        FROM (${DAYS}) LEFT JOIN m USING (day) LEFT JOIN bd USING (day) ORDER BY day`;
    case 'traffic-sources': {
      const keys = p.by === 'campaign' ? ['src', 'camp'] : p.by === 'utm_source' ? ['src'] : ['ref'];
      return `WITH s AS (SELECT *, CASE WHEN ref IS NULL THEN '(direct)' WHEN ref = ${host('landing')} THEN '(internal)' ELSE ref END AS refl
          FROM (${SESSIONS}))
        SELECT ${keys.map((k) => (k === 'ref' ? 'refl' : `coalesce(${k}, '(none)') AS ${k}`)).join(', ')}, count(*) AS n,
          count(*) FILTER (buys > 0), ${r4('count(*) FILTER (buys > 0)', 'count(*)')},
          sum(orders), sum(revenue)
        FROM s GROUP BY ALL ORDER BY n DESC, ${keys.map((k) => (k === 'ref' ? 'refl' : k)).join(', ')} LIMIT ${limit}`;
    }
  }
  throw new Error(`no raw SQL for ${id}`);
}

function funnel(dim: string, limit: number): string {
  const cols = 'n, vs, cs, ps, v, c, pu, rev';
  const rates = `${r4('cs', 'vs')}, ${r4('ps', 'cs')}, ${r4('ps', 'n')}`;
  if (dim === 'category' || dim === 'brand') {
    const col = dim === 'category' ? 'cat' : 'brand';
    const sess = (t: string) => `count(DISTINCT (day, bot, visitor_id, sess)) FILTER (event_type = '${t}')`;
    return `SELECT ${col}, ${cols}, ${rates} FROM (
        SELECT ${col}, count(DISTINCT (day, bot, visitor_id, sess)) AS n, ${sess('view')} AS vs, ${sess('cart')} AS cs,
          ${sess('purchase')} AS ps, count(*) FILTER (event_type = 'view') AS v, count(*) FILTER (event_type = 'cart') AS c,
          count(*) FILTER (event_type = 'purchase') AS pu, coalesce(sum(line_revenue), 0) AS rev
        FROM raw_events WHERE ${IN} AND event_type IN ('view', 'cart', 'purchase') GROUP BY ${col})
      ORDER BY n DESC, ${col} NULLS LAST LIMIT ${limit}`;
  }
  const agg = `count(*) AS n, count(*) FILTER (views > 0) AS vs, count(*) FILTER (carts > 0) AS cs, count(*) FILTER (buys > 0) AS ps,
    sum(views) AS v, sum(carts) AS c, sum(buys) AS pu, sum(revenue) AS rev`;
  if (dim === 'day')
    return `SELECT day, ${cols
      .split(', ')
      .map((c) => `coalesce(${c}, 0)`)
      .join(', ')}, ${rates}
      FROM (${DAYS}) LEFT JOIN (SELECT day, ${agg} FROM (${SESSIONS}) GROUP BY day) USING (day) ORDER BY day`;
  const key =
    dim === 'device'
      ? 'device'
      : `CASE WHEN ref IS NULL THEN '(direct)' WHEN ref = ${host('landing')} THEN '(internal)' ELSE ref END`;
  return `SELECT k, ${cols}, ${rates} FROM (SELECT ${key} AS k, ${agg} FROM (${SESSIONS}) GROUP BY 1)
    ORDER BY n DESC, k NULLS LAST LIMIT ${limit}`;
}

function brandMarketing(p: Record<string, string>): string {
  const minViews = Number(p.min_views ?? 100);
  const factor = Number(p.conversion_factor ?? 0.5);
  const falling = Number(p.falling_pct ?? 20) / 100;
  return `WITH e AS (SELECT brand, cat, event_type, line_revenue, day < $from::DATE + half AS h1, day >= $to::DATE - half AS h2
        FROM raw_events, (SELECT (($to::DATE - $from::DATE) // 2)::INTEGER AS half)
        WHERE ${IN} AND event_type IN ('view', 'cart', 'purchase')),
      bc AS (SELECT brand, cat, count(*) FILTER (event_type = 'view') AS v, count(*) FILTER (event_type = 'cart') AS c,
          count(*) FILTER (event_type = 'purchase') AS pu, coalesce(sum(line_revenue), 0) AS rev,
          count(*) FILTER (event_type = 'view' AND h1) AS v1, count(*) FILTER (event_type = 'view' AND h2) AS v2
        FROM e GROUP BY brand, cat),
      per_cat AS (SELECT cat, sum(v) AS v, sum(pu) AS pu, sum(v1) AS v1, sum(v2) AS v2 FROM bc WHERE cat IS NOT NULL GROUP BY cat),
      home AS (SELECT brand, cat FROM bc WHERE brand IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY brand ORDER BY v DESC, cat NULLS LAST) = 1),
      per_brand AS (SELECT brand, sum(v) AS v, sum(c) AS c, sum(pu) AS pu, sum(rev) AS rev, sum(v1) AS v1, sum(v2) AS v2
        FROM bc WHERE brand IS NOT NULL GROUP BY brand),
      y AS (SELECT b.*, h.cat, pc.v AS cv, pc.pu AS cpu, (b.v2 - b.v1) / nullif(b.v1, 0) AS ch, (pc.v2 - pc.v1) / nullif(pc.v1, 0) AS cch,
          b.v >= ${minViews} AND pc.v > 0 AND b.pu / b.v < ${factor} * (pc.pu / pc.v) AS low,
          b.v >= ${minViews} AND (b.v2 - b.v1) / nullif(b.v1, 0) <= -${falling}
            AND (pc.v1 IS NULL OR pc.v1 = 0 OR (b.v2 - b.v1) / b.v1 < (pc.v2 - pc.v1) / pc.v1) AS fall
        FROM per_brand b JOIN home h USING (brand) LEFT JOIN per_cat pc ON pc.cat = h.cat)
    SELECT brand, cat, v, c, pu, rev, ${r4('c', 'v')}, ${r4('pu', 'c')}, ${r4('pu', 'v')}, ${r4('cpu', 'cv')}, v1, v2,
      round(ch, 4), round(cch, 4), concat_ws(',', CASE WHEN low THEN 'low_conversion' END, CASE WHEN fall THEN 'falling_views' END)
    FROM y ORDER BY coalesce(low, false)::INT + coalesce(fall, false)::INT DESC, v DESC, brand LIMIT ${Number(p.limit ?? 200)}`;
}
