import type { CanonicalEvent } from '../events/model.js';
import { hllKey } from './hyperloglog.js';
import {
  type AggregateOptions,
  DEFAULT_AGGREGATE_OPTIONS,
  feedItem,
  RecentFeed,
  WindowAggregate,
} from './metrics.js';

/**
 * Event-time tumbling windows (1 minute, 1 hour) per site, closed by a watermark.
 *
 * The watermark of a site is the largest event time seen minus the allowed lateness, and it
 * is a function of the records alone, in stream order: a replay or a restart from a
 * checkpoint makes exactly the same late/on-time decisions. Each event's time is capped at
 * its received_at before it may move the watermark, so a sender whose clock runs ahead (up
 * to the collector's 10 min limit) cannot make everyone else's events late.
 *
 * An event whose minute has closed is late: it goes into neither its minute nor its hour
 * (an hour is always the sum of its minutes) and is counted, with the minute and hour it
 * arrived in, as `late`. Closed windows never change again.
 */

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export type Resolution = 'minute' | 'hour';
export const SIZE: Record<Resolution, number> = { minute: MINUTE, hour: HOUR };

export interface WindowOptions extends AggregateOptions {
  allowedLatenessMs: number;
  /** Recent events kept per site for the live feed. */
  feedSize: number;
  /** Closed windows younger than this (behind the watermark) stay in memory for live queries. */
  hotMs: Record<Resolution, number>;
}

export const DEFAULT_WINDOW_OPTIONS: WindowOptions = {
  ...DEFAULT_AGGREGATE_OPTIONS,
  allowedLatenessMs: 60_000,
  feedSize: 50,
  hotMs: { minute: 65 * MINUTE, hour: 25 * HOUR },
};

export interface Window {
  resolution: Resolution;
  start: number;
  closed: boolean;
  agg: WindowAggregate;
}

/** Counted by the minute/hour a record arrived in (received_at), not its event time. */
export interface AbnormalCounts {
  late: number;
  quarantined: number;
  /** Stream records that were not a readable event. */
  invalid: number;
}

export type IngestOutcome = 'accepted' | 'late';

export const floorTo = (t: number, size: number) => Math.floor(t / size) * size;

export class SiteWindows {
  watermark = 0;
  readonly windows: Record<Resolution, Map<number, Window>> = { minute: new Map(), hour: new Map() };
  readonly abnormal: Record<Resolution, Map<number, AbnormalCounts>> = { minute: new Map(), hour: new Map() };
  feed: RecentFeed;
  /** Keys `resolution:start` changed since the last checkpoint. */
  readonly dirtyWindows = new Set<string>();
  readonly dirtyAbnormal = new Set<string>();
  dirtySite = false;
  /** Earliest end among open windows: the watermark must pass it before any window closes. */
  private nextClose = Number.POSITIVE_INFINITY;

  constructor(
    readonly siteId: string,
    private readonly o: WindowOptions,
  ) {
    this.feed = new RecentFeed(o.feedSize);
  }

  ingest(e: CanonicalEvent): IngestOutcome {
    const minute = floorTo(e.event_time, MINUTE);
    const late = minute + MINUTE <= this.watermark;
    this.feed.push(feedItem(e, late));
    this.dirtySite = true;
    if (late) {
      this.countAbnormal(e.received_at, 'late');
      return 'late';
    }
    const key = hllKey(e.visitor_id);
    this.window('minute', minute).agg.add(e, key);
    this.window('hour', floorTo(e.event_time, HOUR)).agg.add(e, key);
    this.advance(Math.min(e.event_time, e.received_at) - this.o.allowedLatenessMs);
    return 'accepted';
  }

  countAbnormal(at: number, kind: keyof AbnormalCounts): void {
    this.dirtySite = true;
    for (const res of ['minute', 'hour'] as const) {
      const start = floorTo(at, SIZE[res]);
      let counts = this.abnormal[res].get(start);
      if (!counts) {
        counts = { late: 0, quarantined: 0, invalid: 0 };
        this.abnormal[res].set(start, counts);
      }
      counts[kind]++;
      this.dirtyAbnormal.add(`${res}:${start}`);
    }
  }

  private window(resolution: Resolution, start: number): Window {
    let w = this.windows[resolution].get(start);
    if (!w) {
      w = { resolution, start, closed: false, agg: new WindowAggregate(this.o) };
      this.windows[resolution].set(start, w);
      this.nextClose = Math.min(this.nextClose, start + SIZE[resolution]);
    }
    this.dirtyWindows.add(`${resolution}:${start}`);
    return w;
  }

  /** Moves the watermark forward (never back) and closes every window it has passed. */
  advance(watermark: number): void {
    if (watermark <= this.watermark) return;
    this.watermark = watermark;
    this.dirtySite = true;
    if (watermark < this.nextClose) return;
    let next = Number.POSITIVE_INFINITY;
    for (const res of ['minute', 'hour'] as const) {
      for (const w of this.windows[res].values()) {
        if (w.closed) continue;
        const end = w.start + SIZE[res];
        if (end <= watermark) {
          w.closed = true;
          w.agg.seal();
          this.dirtyWindows.add(`${res}:${w.start}`);
        } else next = Math.min(next, end);
      }
    }
    this.nextClose = next;
  }

  /** Restores a window from a checkpoint. */
  restore(w: Window): void {
    this.windows[w.resolution].set(w.start, w);
    if (!w.closed) this.nextClose = Math.min(this.nextClose, w.start + SIZE[w.resolution]);
  }

  /**
   * Drops from memory the closed, already checkpointed windows that fell out of the hot period,
   * and abnormal counters past retention. Returns the hot horizon per resolution: every window
   * at or after it is in memory.
   */
  evict(retentionMs: Record<Resolution, number>): Record<Resolution, number> {
    const horizon = this.horizon();
    for (const res of ['minute', 'hour'] as const) {
      const keepFrom = this.watermark - retentionMs[res];
      // Past retention a window is gone from the store too, even if still within the hot period.
      const cut = Math.max(horizon[res], keepFrom);
      for (const [start, w] of this.windows[res]) {
        if (start < cut && w.closed && !this.dirtyWindows.has(`${res}:${start}`))
          this.windows[res].delete(start);
      }
      for (const start of this.abnormal[res].keys()) {
        if (start < keepFrom) this.abnormal[res].delete(start);
      }
    }
    return horizon;
  }

  horizon(): Record<Resolution, number> {
    return {
      minute: floorTo(this.watermark - this.o.hotMs.minute, MINUTE),
      hour: floorTo(this.watermark - this.o.hotMs.hour, HOUR),
    };
  }

  /**
   * The sliding "last 5 minutes" (or any n) view: the merge of the minute windows from the
   * minute containing `now` back n − 1 minutes. Windows not in memory are asked of `older`.
   */
  lastMinutes(now: number, n: number, older?: (from: number, to: number) => Window[]): WindowAggregate {
    const to = floorTo(now, MINUTE) + MINUTE;
    const from = to - n * MINUTE;
    const view = new WindowAggregate(this.o);
    for (const w of windowsInRange(this, 'minute', from, to, older)) view.merge(w.agg);
    return view;
  }
}

/** Windows with from ≤ start < to, memory first, the rest (below the hot horizon) from `older`. */
export function windowsInRange(
  site: SiteWindows,
  res: Resolution,
  from: number,
  to: number,
  older?: (from: number, to: number) => Window[],
): Window[] {
  const found = new Map<number, Window>();
  const horizon = site.horizon()[res];
  if (older && from < horizon) for (const w of older(from, Math.min(to, horizon))) found.set(w.start, w);
  for (const [start, w] of site.windows[res]) if (start >= from && start < to) found.set(start, w);
  return [...found.values()].sort((a, b) => a.start - b.start);
}

/** Every site's windows, routed by site_id. */
export class WindowEngine {
  readonly sites = new Map<string, SiteWindows>();

  constructor(readonly options: WindowOptions = DEFAULT_WINDOW_OPTIONS) {}

  site(siteId: string): SiteWindows {
    let s = this.sites.get(siteId);
    if (!s) {
      s = new SiteWindows(siteId, this.options);
      this.sites.set(siteId, s);
    }
    return s;
  }

  ingest(e: CanonicalEvent): IngestOutcome {
    return this.site(e.site_id).ingest(e);
  }
}
