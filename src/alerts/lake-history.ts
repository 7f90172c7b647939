import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { hasParquet, LAKE_TABLES, tableDir } from '../lake/lake.js';
import { sqlString } from '../lake/writer.js';
import { LOGIN_FAILED_KINDS, LOGIN_KINDS, PAYMENT_ERROR_KINDS } from './detector-event.js';
import type { MinuteFacts } from './detectors/series.js';
import { IP16_PER_MINUTE, NONE, SESSION_TIMEOUT_MS } from './minute-aggregator.js';

/**
 * Per-minute history from the lake with DuckDB: the same facts minute-aggregator.ts makes
 * from live events (requests, sessions by source, orders, revenue spread, error series,
 * breakdowns), for weeks of baseline after `storepulse demo --mode backfill` or an import.
 * Events are read from every Parquet file of the `events` table, as the SQL console does.
 */

export interface LakeHistoryOptions {
  dataDir: string;
  /** event_time range [from, to), epoch ms. */
  from: number;
  to: number;
  /** Only these sites (default: all). */
  sites?: string[];
  memoryLimit?: string;
}

const list = (kinds: Set<string>) => [...kinds].map(sqlString).join(', ');

export async function loadLakeHistory(o: LakeHistoryOptions): Promise<Map<string, MinuteFacts[]>> {
  const out = new Map<string, MinuteFacts[]>();
  const dir = tableDir(o.dataDir, LAKE_TABLES.events.name);
  if (!hasParquet(dir)) return out;
  const tmp = join(o.dataDir, 'tmp', `detect-history-${process.pid}`);
  const instance = await DuckDBInstance.create(':memory:', {
    threads: '2',
    memory_limit: o.memoryLimit ?? '1GB',
    temp_directory: tmp,
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await instance.connect();
  try {
    const sites = o.sites ? `AND site_id IN (${o.sites.map(sqlString).join(', ')})` : '';
    await conn.run(`CREATE TEMP VIEW ev AS SELECT
        site_id AS site, event_id, epoch_ms(event_time) AS t, (epoch_ms(event_time) // 60000) * 60000 AS minute,
        CASE WHEN event_type = 'custom' AND event_name IS NOT NULL THEN event_name ELSE event_type END AS kind,
        user_session AS session, user_id, ip, coalesce(is_bot, false) AS bot,
        coalesce(device_type, '${NONE}') AS device, coalesce(browser, '${NONE}') AS browser, coalesce(os, '${NONE}') AS os,
        coalesce(utm_source, referrer_host) AS src,
        coalesce(split_part(category_code, '.', 1), '${NONE}') AS category,
        order_id, coalesce(revenue, 0) AS revenue,
        CASE WHEN ip IS NULL THEN '${NONE}'
             WHEN contains(ip, ':') THEN split_part(ip, ':', 1) || ':' || split_part(ip, ':', 2) || '::/32'
             ELSE split_part(ip, '.', 1) || '.' || split_part(ip, '.', 2) || '.0.0/16' END AS ip16
      FROM read_parquet(${sqlString(`${dir}/*/*/*.parquet`)}, union_by_name = true)
      WHERE event_time >= epoch_ms(${Math.floor(o.from)}::BIGINT) AND event_time < epoch_ms(${Math.floor(o.to)}::BIGINT) ${sites}`);
    // Human events with their session's start and source (a session starts at its first event or after 30 min idle).
    await conn.run(`CREATE TEMP TABLE h AS
      WITH marked AS (
        SELECT *, session IS NOT NULL AND (lag(t) OVER w IS NULL OR t - lag(t) OVER w > ${SESSION_TIMEOUT_MS}) AS starts
        FROM ev WHERE NOT bot
        WINDOW w AS (PARTITION BY site, session ORDER BY t, event_id))
      , visits AS (
        SELECT *, sum(starts::INTEGER) OVER (PARTITION BY site, session ORDER BY t, event_id ROWS UNBOUNDED PRECEDING) AS visit
        FROM marked)
      SELECT site, minute, t, event_id, kind, session, user_id, ip, device, browser, os, category, order_id, revenue, ip16, starts,
        session IS NOT NULL AND row_number() OVER v = 2 AS engaged,
        first_value(device) OVER v AS start_device, first_value(browser) OVER v AS start_browser, first_value(os) OVER v AS start_os,
        CASE WHEN session IS NULL THEN '${NONE}' ELSE coalesce(first_value(CASE WHEN starts THEN coalesce(src, 'direct') END) OVER v, '${NONE}') END AS source
      FROM visits
      WINDOW v AS (PARTITION BY site, session, visit ORDER BY t, event_id)`);
    const minuteIndex = new Map<string, number>();
    const facts = (site: string, minute: number): MinuteFacts => {
      let perSite = out.get(site);
      if (!perSite) {
        perSite = [];
        out.set(site, perSite);
      }
      const index = minuteIndex.get(`${site}\u0000${minute}`);
      if (index !== undefined) return perSite[index];
      const f: MinuteFacts = { minute, values: {} };
      minuteIndex.set(`${site}\u0000${minute}`, perSite.length);
      perSite.push(f);
      return f;
    };
    const set = (f: MinuteFacts, key: string, v: unknown) => {
      const n = Number(v);
      if (n) f.values[key] = (f.values[key] ?? 0) + n;
    };
    for (const r of await rows(
      conn,
      `WITH b AS (
         SELECT site, minute, bot, bot AND session IS NOT NULL AND (lag(t) OVER w IS NULL OR t - lag(t) OVER w > ${SESSION_TIMEOUT_MS}) AS starts
         FROM ev WINDOW w AS (PARTITION BY site, bot, session ORDER BY t, event_id))
       SELECT site, minute, count(*), count(*) FILTER (bot), count(*) FILTER (starts) FROM b GROUP BY ALL`,
    )) {
      const f = facts(r[0] as string, Number(r[1]));
      set(f, 'requests', r[2]);
      set(f, 'bot_requests', r[3]);
      set(f, 'bot_sessions', r[4]);
    }
    const human = await rows(
      conn,
      `SELECT site, minute, count(*) FILTER (starts), count(*) FILTER (engaged), count(*) FILTER (kind = 'view'), count(*) FILTER (kind = 'page_view'),
         count(*) FILTER (kind = 'cart'), count(*) FILTER (kind = 'checkout'), count(*) FILTER (kind = 'purchase'),
         sum(revenue) FILTER (kind = 'purchase'), count(*) FILTER (kind IN (${list(PAYMENT_ERROR_KINDS)})),
         count(*) FILTER (kind IN (${list(LOGIN_KINDS)})), count(*) FILTER (kind IN (${list(LOGIN_FAILED_KINDS)}))
       FROM h GROUP BY ALL`,
    );
    for (const r of human) {
      const f = facts(r[0] as string, Number(r[1]));
      [
        'sessions',
        'engaged_sessions',
        'views',
        'page_views',
        'carts',
        'checkouts',
        'purchases',
        'revenue',
      ].forEach((k, i) => {
        set(f, k, r[2 + i]);
      });
      set(f, 'errors.checkout', r[10]);
      set(f, 'requests.checkout', r[10]);
      set(f, 'requests.login', Number(r[11]) + Number(r[12]));
      set(f, 'errors.login', r[12]);
    }
    // Orders: one per (minute, order id), its dimensions those of its rows.
    const orders = await rows(
      conn,
      `WITH o AS (
         SELECT site, minute, coalesce(order_id, 'row:' || event_id) AS okey, sum(revenue) AS total,
           arg_min(device, t) AS device, arg_min(browser, t) AS browser, arg_min(os, t) AS os,
           arg_min(source, t) AS source, arg_min(ip16, t) AS ip16
         FROM h WHERE kind = 'purchase' GROUP BY ALL)
       SELECT site, minute, count(*), sum(total * total), list(device), list(browser), list(os), list(source), list(ip16), list(total)
       FROM o GROUP BY ALL`,
    );
    for (const r of orders) {
      const f = facts(r[0] as string, Number(r[1]));
      set(f, 'orders', r[2]);
      set(f, 'requests.checkout', r[2]);
      set(f, 'revenue_sq', r[3]);
      const totals = r[9] as number[];
      ['device', 'browser', 'os', 'source', 'ip16'].forEach((dim, d) => {
        (r[4 + d] as string[]).forEach((v, i) => {
          const c = segment(f, dim, v);
          c[1] += 1;
          c[2] += Number(totals[i]);
        });
      });
      capIp16(f);
    }
    for (const r of await rows(
      conn,
      `SELECT site, minute, 'device', start_device, count(*) FROM h WHERE engaged GROUP BY ALL
       UNION ALL SELECT site, minute, 'browser', start_browser, count(*) FROM h WHERE engaged GROUP BY ALL
       UNION ALL SELECT site, minute, 'os', start_os, count(*) FROM h WHERE engaged GROUP BY ALL
       UNION ALL SELECT site, minute, 'source', source, count(*) FROM h WHERE engaged GROUP BY ALL`,
    )) {
      segment(facts(r[0] as string, Number(r[1])), r[2] as string, r[3] as string)[0] += Number(r[4]);
    }
    for (const r of await rows(
      conn,
      `SELECT site, minute, category, count(*), sum(revenue) FROM h WHERE kind = 'purchase' GROUP BY ALL`,
    )) {
      const c = segment(facts(r[0] as string, Number(r[1])), 'category', r[2] as string);
      c[1] += Number(r[3]);
      c[2] += Number(r[4]);
    }
    for (const r of await rows(
      conn,
      `SELECT site, minute, 'user:' || user_id, count(*) FROM h WHERE kind IN (${list(LOGIN_FAILED_KINDS)}) AND user_id IS NOT NULL GROUP BY ALL
       UNION ALL SELECT site, minute, 'ip:' || ip, count(*) FROM h WHERE kind IN (${list(LOGIN_FAILED_KINDS)}) AND ip IS NOT NULL GROUP BY ALL`,
    )) {
      const f = facts(r[0] as string, Number(r[1]));
      f.keyedErrors ??= {};
      f.keyedErrors.login ??= {};
      f.keyedErrors.login[r[2] as string] = (f.keyedErrors.login[r[2] as string] ?? 0) + Number(r[3]);
    }
    for (const list of out.values()) list.sort((a, b) => a.minute - b.minute);
    return out;
  } finally {
    conn.closeSync();
    instance.closeSync();
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function rows(conn: DuckDBConnection, sql: string): Promise<unknown[][]> {
  const result = await conn.runAndReadAll(sql);
  return result.getRowsJS() as unknown[][];
}

function segment(f: MinuteFacts, dim: string, value: string): [number, number, number] {
  f.breakdown ??= {};
  f.breakdown[dim] ??= {};
  f.breakdown[dim][value] ??= [0, 0, 0];
  return f.breakdown[dim][value];
}

function capIp16(f: MinuteFacts): void {
  const ip16 = f.breakdown?.ip16;
  if (!ip16 || Object.keys(ip16).length <= IP16_PER_MINUTE) return;
  f.breakdown!.ip16 = Object.fromEntries(
    Object.entries(ip16)
      .sort((a, b) => b[1][1] - a[1][1] || a[0].localeCompare(b[0]))
      .slice(0, IP16_PER_MINUTE),
  );
}
