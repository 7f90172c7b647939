import type { DayIndex } from '../index/day-index.js';
import type { LogIndex } from '../index/log-index.js';
import { type Compiled, compileQuery } from './query-language.js';

/**
 * Runs a compiled query over the day files of a time range: results newest first with paging,
 * a time histogram and top values, each computed over all matches. Days are disjoint in time,
 * so walking them newest first and concatenating keeps the order.
 */

export interface SearchRequest {
  siteId: string;
  q: string;
  /** ms since epoch, inclusive; null = the oldest day. */
  from: number | null;
  /** ms since epoch, exclusive; null = now and later. */
  to: number | null;
}

export interface LogHit {
  id: number;
  time: string;
  [field: string]: unknown;
}

const HIT_COLUMNS =
  'id, t, source, host, ip, method, path, query, protocol, status, bytes, referrer, user_agent, browser, os, device_type, is_bot, response_time_ms, level, message, product_id, category_id, fields, raw, parse_error';

interface Where {
  sql: string;
  params: (string | number)[];
}

function whereOf(req: SearchRequest, c: Compiled): Where {
  const parts = ['site_id = ?'];
  const params: (string | number)[] = [req.siteId];
  if (req.from !== null) {
    parts.push('t >= ?');
    params.push(req.from);
  }
  if (req.to !== null) {
    parts.push('t < ?');
    params.push(req.to);
  }
  if (c.fts) {
    parts.push('id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)');
    params.push(c.fts);
  }
  if (c.sql) {
    parts.push(`(${c.sql})`);
    params.push(...c.params);
  }
  return { sql: parts.join(' AND '), params };
}

function toHit(row: Record<string, unknown>): LogHit {
  const { t, is_bot, fields, ...rest } = row;
  return {
    ...(rest as { id: number }),
    time: new Date(t as number).toISOString(),
    is_bot: is_bot === 1,
    fields: typeof fields === 'string' ? JSON.parse(fields) : null,
  };
}

export interface SearchPage {
  hits: LogHit[];
  page: number;
  size: number;
  hasMore: boolean;
  tookMs: number;
}

export function searchLogs(index: LogIndex, req: SearchRequest, page = 0, size = 50): SearchPage {
  const started = performance.now();
  const compiled = compileQuery(req.q);
  const want = page * size + size + 1;
  const rows: Record<string, unknown>[] = [];
  for (const day of index.daysBetween(req.from, req.to)) {
    rows.push(...pageOfDay(day, req, compiled, want - rows.length));
    if (rows.length >= want) break;
  }
  return {
    hits: rows.slice(page * size, page * size + size).map(toHit),
    page,
    size,
    hasMore: rows.length > page * size + size,
    tookMs: Math.round((performance.now() - started) * 10) / 10,
  };
}

/** FTS matches read per step of the newest-first walk; each further step reads four times more. */
const FIRST_CANDIDATES = 2_000;
/** More rows than this arriving out of time order send the page to the exhaustive query. */
const MAX_LATE = 20_000;

/**
 * The newest `limit` matches of one day, by (t desc, id desc). Without free text the (site_id, t)
 * index walks time backwards and stops after `limit`. With free text, materialising every FTS
 * match first (a common word matches millions of lines) is what makes a first page slow, so the
 * matches are read newest position first, K at a time — FTS5 walks its doclists backwards and
 * stops — and the page comes from those candidates. Ids are stream positions, so this is exact
 * once rows that arrived late are accounted for: every FTS match with id ≥ a (the smallest
 * candidate id) is a candidate, and a match with id < a can only belong on the page if its time is
 * at least that of the page's last row, so those rows (t ≥ that time and id < a: few, as lines
 * arrive roughly in time order) are checked one by one.
 */
function pageOfDay(day: DayIndex, req: SearchRequest, c: Compiled, limit: number): Record<string, unknown>[] {
  const exhaustive = () => {
    const where = whereOf(req, c);
    return day.db
      .prepare(`SELECT ${HIT_COLUMNS} FROM logs WHERE ${where.sql} ORDER BY t DESC, id DESC LIMIT ?`)
      .all(...where.params, limit) as Record<string, unknown>[];
  };
  if (!c.fts) return exhaustive();
  const rest = whereOf(req, { ...c, fts: null });
  const candidates = day.db.prepare(
    `SELECT ${HIT_COLUMNS} FROM logs WHERE ${rest.sql} AND id IN ` +
      '(SELECT rowid FROM logs_fts WHERE logs_fts MATCH ? ORDER BY rowid DESC LIMIT ?) ORDER BY t DESC, id DESC LIMIT ?',
  );
  const span = day.db.prepare(
    'SELECT count(*) AS n, min(rowid) AS a FROM (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ? ORDER BY rowid DESC LIMIT ?)',
  );
  for (let k = FIRST_CANDIDATES; ; k *= 4) {
    const { n, a } = span.get(c.fts, k) as { n: number; a: number | null };
    const got = candidates.all(...rest.params, c.fts, k, limit) as Record<string, unknown>[];
    // Fewer FTS matches than asked for: every match was a candidate, so the page is exact.
    if (n < k || a === null) return got;
    if (got.length < limit) continue; // not enough candidates pass the other conditions yet
    const last = got[got.length - 1] as { t: number };
    const late = day.db
      .prepare(`SELECT id FROM logs WHERE ${rest.sql} AND t >= ? AND id < ? LIMIT ${MAX_LATE + 1}`)
      .all(...rest.params, last.t, a) as { id: number }[];
    if (late.length === 0) return got;
    if (late.length > MAX_LATE) return exhaustive();
    // `rowid = ?` next to MATCH ignores the bound rowid (SQLite 3.53, a plain number parameter); a range does not.
    const matches = day.db.prepare(
      'SELECT rowid FROM logs_fts WHERE logs_fts MATCH ? AND rowid BETWEEN ? AND ?',
    );
    const fetch = day.db.prepare(`SELECT ${HIT_COLUMNS} FROM logs WHERE id = ?`);
    const extra = late
      .filter((r) => matches.get(c.fts, r.id, r.id) !== undefined)
      .map((r) => fetch.get(r.id) as Record<string, unknown>);
    return [...got, ...extra]
      .sort((x, y) => (y.t as number) - (x.t as number) || (y.id as number) - (x.id as number))
      .slice(0, limit);
  }
}

const INTERVALS = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10800, 43200, 86400, 604800].map((s) => s * 1000);

function spanOf(days: DayIndex[], req: SearchRequest): [number, number] | null {
  if (req.from !== null && req.to !== null) return [req.from, req.to];
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const d of days) {
    const r = d.db
      .prepare('SELECT min(t) AS lo, max(t) AS hi FROM logs WHERE site_id = ?')
      .get(req.siteId) as {
      lo: number | null;
      hi: number | null;
    };
    if (r.lo !== null && r.hi !== null) {
      lo = Math.min(lo, r.lo);
      hi = Math.max(hi, r.hi);
    }
  }
  if (!Number.isFinite(lo)) return null;
  return [req.from ?? lo, req.to ?? hi + 1];
}

export interface Histogram {
  total: number;
  intervalMs: number;
  buckets: { time: string; count: number }[];
}

/** Matches per time bucket (about `target` buckets over the range) and the total. */
export function histogramOf(index: LogIndex, req: SearchRequest, target = 60): Histogram {
  const where = whereOf(req, compileQuery(req.q));
  const days = index.daysBetween(req.from, req.to);
  const span = spanOf(days, req);
  if (!span) return { total: 0, intervalMs: 60_000, buckets: [] };
  const interval =
    INTERVALS.find((i) => (span[1] - span[0]) / i <= target) ?? INTERVALS[INTERVALS.length - 1];
  const counts = new Map<number, number>();
  let total = 0;
  for (const d of days) {
    const rows = d.db
      // The interval is one of INTERVALS (an integer literal): a bound number would divide as REAL.
      .prepare(
        `SELECT (t / ${interval}) * ${interval} AS b, count(*) AS n FROM logs WHERE ${where.sql} GROUP BY b`,
      )
      .all(...where.params) as { b: number; n: number }[];
    for (const r of rows) {
      counts.set(r.b, (counts.get(r.b) ?? 0) + r.n);
      total += r.n;
    }
  }
  const buckets: Histogram['buckets'] = [];
  for (let b = Math.floor(span[0] / interval) * interval; b < span[1]; b += interval)
    buckets.push({ time: new Date(b).toISOString(), count: counts.get(b) ?? 0 });
  return { total, intervalMs: interval, buckets };
}

export const TOP_FIELDS = ['status', 'path', 'ip', 'user_agent'] as const;

/** The most frequent values of each field over all matches. */
export function topValues(
  index: LogIndex,
  req: SearchRequest,
  limit = 10,
): Record<(typeof TOP_FIELDS)[number], { value: string | number | null; count: number }[]> {
  const where = whereOf(req, compileQuery(req.q));
  const days = index.daysBetween(req.from, req.to);
  const out = {} as Record<(typeof TOP_FIELDS)[number], { value: string | number | null; count: number }[]>;
  for (const field of TOP_FIELDS) {
    const counts = new Map<string | number | null, number>();
    for (const d of days) {
      const rows = d.db
        .prepare(`SELECT ${field} AS v, count(*) AS n FROM logs WHERE ${where.sql} GROUP BY v`)
        .all(...where.params) as { v: string | number | null; n: number }[];
      for (const r of rows) counts.set(r.v, (counts.get(r.v) ?? 0) + r.n);
    }
    out[field] = [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([value, count]) => ({ value, count }));
  }
  return out;
}
