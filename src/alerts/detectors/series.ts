/**
 * Per-minute series of one site: what the detectors read. A closed minute is a set of named
 * values (`orders`, `revenue`, `errors.checkout`, …); minutes inside the covered range that
 * have no row are zero (a quiet minute), minutes outside it are unknown (no history).
 *
 * Values are kept as prefix sums in typed arrays, so any window sum — the seasonal baseline
 * asks for dozens per evaluation — costs two lookups, and weeks of minutes stay a few MB.
 */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const WEEK = 7 * DAY;

/** [engaged sessions, orders, revenue] of one segment. */
export type SegmentCounts = [number, number, number];
/** dimension (device, browser, os, source, category, ip16) → value → counts. */
export type Breakdown = Record<string, Record<string, SegmentCounts>>;

/** The facts of one closed minute of one site. */
export interface MinuteFacts {
  /** Start of the minute, epoch ms. */
  minute: number;
  /** Additive values: counts and sums (see METRICS). Absent = 0. */
  values: Record<string, number>;
  /** Error counts per key (e.g. `ip:1.2.3.0`, `user:42`) per error series, for per-account/IP rules. */
  keyedErrors?: Record<string, Record<string, number>>;
  /** Orders, revenue and sessions per segment, for root-cause hints. */
  breakdown?: Breakdown;
}

/** The additive values the aggregator fills; error series add `errors.<name>` and `requests.<name>`. */
export const METRICS = {
  requests: 'all events, bots included',
  bot_requests: 'events from user agents flagged as bots',
  bot_sessions: 'sessions of user agents flagged as bots, started',
  sessions: 'human sessions started',
  engaged_sessions: 'human sessions reaching their second event (bounces and flood requests have one)',
  views: 'human product views',
  page_views: 'human page views',
  carts: 'human add-to-cart events',
  checkouts: 'human checkouts started',
  purchases: 'purchase rows (one per product)',
  orders: 'orders (distinct order ids)',
  revenue: 'purchase revenue',
  revenue_sq: 'sum over orders of the squared order value (for the spread of order values)',
  late: 'events that arrived after their minute had closed (not counted above)',
} as const;

/** Ratios derived from two additive values over a window. */
export const RATIOS: Record<string, [string, string]> = {
  aov: ['revenue', 'orders'],
  conversion: ['orders', 'engaged_sessions'],
  bot_share: ['bot_requests', 'requests'],
};

/** error_rate.<series> = errors.<series> / requests.<series>. */
export function ratioOf(metric: string): [string, string] | null {
  if (RATIOS[metric]) return RATIOS[metric];
  if (metric.startsWith('error_rate.')) {
    const series = metric.slice('error_rate.'.length);
    return [`errors.${series}`, `requests.${series}`];
  }
  return null;
}

export const floorMinute = (t: number) => Math.floor(t / MINUTE) * MINUTE;

/** Read access to one site's series; MinuteSeries is the implementation. */
export interface SeriesView {
  /** First covered minute (NaN when empty). */
  readonly start: number;
  /** End of the covered range (exclusive): the minute after the last closed one. */
  readonly end: number;
  covers(from: number, to: number): boolean;
  /** Sum of a metric over [from, to) (minute starts), or null if part of it is not covered. */
  sum(metric: string, from: number, to: number): number | null;
}

const INITIAL_CAPACITY = 1024;

export class MinuteSeries implements SeriesView {
  private base = Number.NaN;
  private length = 0;
  private capacity = INITIAL_CAPACITY;
  /** prefix[i] = sum of the metric over the first i minutes. */
  private readonly prefix = new Map<string, Float64Array>();

  get start(): number {
    return this.base;
  }

  get end(): number {
    return Number.isNaN(this.base) ? Number.NaN : this.base + this.length * MINUTE;
  }

  get minutes(): number {
    return this.length;
  }

  metrics(): string[] {
    return [...this.prefix.keys()];
  }

  /**
   * Adds a closed minute at or after the end; minutes skipped in between become zero (covered,
   * quiet). A minute before the end is refused: closed minutes never change.
   */
  append(facts: MinuteFacts): void {
    const minute = floorMinute(facts.minute);
    if (Number.isNaN(this.base)) this.base = minute;
    const index = (minute - this.base) / MINUTE;
    if (index < this.length)
      throw new RangeError(`minute ${new Date(minute).toISOString()} is already closed`);
    this.extendTo(index + 1);
    for (const [name, v] of Object.entries(facts.values)) {
      if (!v) continue;
      const p = this.column(name);
      for (let i = index + 1; i <= this.length; i++) p[i] += v;
    }
  }

  /** Marks minutes up to `end` (exclusive) as covered and quiet. */
  coverUntil(end: number): void {
    if (Number.isNaN(this.base)) this.base = floorMinute(end);
    const n = (floorMinute(end) - this.base) / MINUTE;
    if (n > this.length) this.extendTo(n);
  }

  covers(from: number, to: number): boolean {
    return !Number.isNaN(this.base) && from >= this.base && to <= this.end && from <= to;
  }

  sum(metric: string, from: number, to: number): number | null {
    if (!this.covers(from, to)) return null;
    const p = this.prefix.get(metric);
    if (!p) return 0;
    return p[(to - this.base) / MINUTE] - p[(from - this.base) / MINUTE];
  }

  value(metric: string, minute: number): number | null {
    return this.sum(metric, minute, minute + MINUTE);
  }

  /** Forgets minutes before `minute` (retention). Copies the arrays, so call it rarely (e.g. hourly). */
  trimBefore(minute: number): void {
    if (Number.isNaN(this.base) || minute <= this.base) return;
    const drop = Math.min(this.length, (floorMinute(minute) - this.base) / MINUTE);
    for (const [name, p] of this.prefix) {
      const next = new Float64Array(this.capacity + 1);
      const offset = p[drop];
      for (let i = drop; i <= this.length; i++) next[i - drop] = p[i] - offset;
      this.prefix.set(name, next);
    }
    this.base += drop * MINUTE;
    this.length -= drop;
  }

  private column(name: string): Float64Array {
    let p = this.prefix.get(name);
    if (!p) {
      p = new Float64Array(this.capacity + 1);
      this.prefix.set(name, p);
    }
    return p;
  }

  private extendTo(length: number): void {
    if (length > this.capacity) {
      while (length > this.capacity) this.capacity *= 2;
      for (const [name, p] of this.prefix) {
        const next = new Float64Array(this.capacity + 1);
        next.set(p.subarray(0, this.length + 1));
        this.prefix.set(name, next);
      }
    }
    // New minutes carry the running total forward (they add nothing).
    for (const p of this.prefix.values()) p.fill(p[this.length], this.length + 1, length + 1);
    this.length = length;
  }
}

/** Adds `b` into `a` (breakdowns of several minutes). */
export function addBreakdown(a: Breakdown, b: Breakdown | undefined, scale = 1): Breakdown {
  if (!b) return a;
  for (const [dim, values] of Object.entries(b)) {
    a[dim] ??= {};
    const into = a[dim];
    for (const [value, c] of Object.entries(values)) {
      into[value] ??= [0, 0, 0];
      const t = into[value];
      t[0] += c[0] * scale;
      t[1] += c[1] * scale;
      t[2] += c[2] * scale;
    }
  }
  return a;
}

/** Where root-cause hints read breakdowns of past minutes from (the detect store, or memory when scoring). */
export interface BreakdownSource {
  /** Summed breakdown of the closed minutes in [from, to). */
  breakdown(from: number, to: number): Breakdown;
}

/** Median and MAD (median absolute deviation) of a non-empty list. */
export function medianMad(xs: number[]): { median: number; mad: number } {
  const sorted = [...xs].sort((a, b) => a - b);
  const median = middle(sorted);
  const dev = sorted.map((x) => Math.abs(x - median)).sort((a, b) => a - b);
  return { median, mad: middle(dev) };
}

function middle(sorted: number[]): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? sorted[n >> 1] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}
