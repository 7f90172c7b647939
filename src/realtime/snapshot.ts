import type { AggregateOptions, FeedItem, WindowCounts, WindowSummary } from './metrics.js';
import { WindowAggregate } from './metrics.js';
import {
  type AbnormalCounts,
  floorTo,
  HOUR,
  MINUTE,
  type Resolution,
  SIZE,
  type SiteWindows,
  type Window,
  windowsInRange,
} from './windows.js';

/**
 * The query side: a site's series, totals, top lists and live counters over a time range, as
 * one plain value the JSON endpoints and the SSE stream can send as it is.
 */

export type SnapshotRange = 'live' | { from: number; to: number };

export interface SnapshotQuery {
  /** 'live' = the last hour by minute (or the last day by hour) plus the last-5-minutes view. */
  range: SnapshotRange;
  resolution?: Resolution;
  /** Items per top list. */
  top?: number;
  /** Wall-clock "now" for 'live'; tests pass it. */
  now?: number;
}

export interface SeriesPoint extends WindowCounts, AbnormalCounts {
  start: number;
  /** The watermark has passed this window: its numbers are final. */
  closed: boolean;
}

export interface LiveView extends WindowSummary {
  /** Distinct visitors in the last 5 minutes. */
  activeVisitors: number;
  from: number;
  to: number;
}

export interface Snapshot {
  siteId: string;
  resolution: Resolution;
  from: number;
  to: number;
  /** Event time up to which windows are closed (null: no events yet). */
  watermark: number | null;
  /** One point per window in [from, to), zeros where nothing happened. */
  series: SeriesPoint[];
  totals: WindowSummary & AbnormalCounts;
  live: LiveView | null;
  /** Newest first; only for 'live'. */
  recent: FeedItem[];
  /** The range asked for was longer than MAX_POINTS windows and was cut to its most recent part. */
  clamped: boolean;
}

export const LIVE_SPAN: Record<Resolution, number> = { minute: 60 * MINUTE, hour: 24 * HOUR };
export const ACTIVE_MINUTES = 5;
export const MAX_POINTS = 10_000;

/** Windows below a site's hot horizon are read from the checkpoint store. */
export type OlderWindows = (res: Resolution, from: number, to: number) => Window[];

const zeroAbnormal = (): AbnormalCounts => ({ late: 0, quarantined: 0, invalid: 0 });

export function buildSnapshot(
  siteId: string,
  site: SiteWindows | undefined,
  q: SnapshotQuery,
  aggOptions: AggregateOptions,
  older?: OlderWindows,
): Snapshot {
  const resolution = q.resolution ?? 'minute';
  const size = SIZE[resolution];
  const now = q.now ?? Date.now();
  let to: number;
  let from: number;
  if (q.range === 'live') {
    to = floorTo(now, size) + size;
    from = to - LIVE_SPAN[resolution];
  } else {
    from = floorTo(q.range.from, size);
    to = Math.max(from, Math.ceil(q.range.to / size) * size);
  }
  const clamped = (to - from) / size > MAX_POINTS;
  if (clamped) from = to - MAX_POINTS * size;

  const fromStore = older ? (f: number, t: number) => older(resolution, f, t) : undefined;
  const windows = site ? windowsInRange(site, resolution, from, to, fromStore) : [];
  const byStart = new Map(windows.map((w) => [w.start, w]));
  const abnormal = site?.abnormal[resolution];
  const series: SeriesPoint[] = [];
  const total = new WindowAggregate(aggOptions);
  const totalAbnormal = zeroAbnormal();
  for (let start = from; start < to; start += size) {
    const w = byStart.get(start);
    const a = abnormal?.get(start) ?? zeroAbnormal();
    totalAbnormal.late += a.late;
    totalAbnormal.quarantined += a.quarantined;
    totalAbnormal.invalid += a.invalid;
    if (w) total.merge(w.agg);
    const counts: WindowCounts = w
      ? w.agg.counts()
      : { events: 0, byType: {}, visitors: 0, orders: 0, revenue: 0, aov: null, botEvents: 0 };
    series.push({
      start,
      closed: w?.closed ?? (site ? start + size <= site.watermark : false),
      ...counts,
      ...a,
    });
  }

  let live: LiveView | null = null;
  if (q.range === 'live') {
    const liveTo = floorTo(now, MINUTE) + MINUTE;
    const view = site
      ? site.lastMinutes(now, ACTIVE_MINUTES, older && ((f, t) => older('minute', f, t)))
      : null;
    const summary = (view ?? new WindowAggregate(aggOptions)).summary(q.top);
    live = {
      ...summary,
      activeVisitors: summary.visitors,
      from: liveTo - ACTIVE_MINUTES * MINUTE,
      to: liveTo,
    };
  }

  return {
    siteId,
    resolution,
    from,
    to,
    watermark: site && site.watermark > 0 ? site.watermark : null,
    series,
    totals: { ...total.summary(q.top), ...totalAbnormal },
    live,
    recent: q.range === 'live' && site ? site.feed.list() : [],
    clamped,
  };
}
