import type { DetectorEvent } from './detector-event.js';
import { chooseReference, DEFAULT_BASELINE, expect, windowValue } from './detectors/baseline.js';
import { DEFAULT_ERRORS, type ErrorOptions, errorSignalKey, evaluateErrors } from './detectors/error-rate.js';
import { Intervals } from './detectors/intervals.js';
import {
  DEFAULT_ORDER_RATE,
  evaluateOrderRate,
  type OrderMetric,
  type OrderRateOptions,
  orderRateBand,
} from './detectors/order-rate.js';
import {
  type Breakdown,
  type BreakdownSource,
  floorMinute,
  MINUTE,
  type MinuteFacts,
  MinuteSeries,
  ratioOf,
  WEEK,
} from './detectors/series.js';
import { evaluateThreshold, type ThresholdRule, thresholdRuleName } from './detectors/threshold.js';
import {
  type CartSession,
  DEFAULT_TRAFFIC,
  evaluateTraffic,
  type Offender,
  type TrafficOptions,
} from './detectors/traffic.js';
import { BUCKET_MS, TrafficCounters } from './detectors/traffic-counters.js';
import { MinuteAggregator } from './minute-aggregator.js';
import type { Evaluation } from './types.js';

/**
 * The detection of one site, as a deterministic function of its events in stream order:
 * events fill the open minutes and the sliding counters; when the watermark (the largest
 * event time seen, capped at its arrival, minus the allowed lateness) passes a minute, the
 * minute closes, joins the series, and every minute rule is evaluated at its end; every 10 s
 * of event time the traffic rules are evaluated on the counters. The live engine and the
 * scoring replay both drive this class, so they run the same detectors on the same data.
 */

export interface DetectorSettings {
  orderRate: OrderRateOptions | null;
  traffic: TrafficOptions | null;
  errors: ErrorOptions | null;
  thresholds: ThresholdRule[];
}

export const DEFAULT_SETTINGS: DetectorSettings = {
  orderRate: DEFAULT_ORDER_RATE,
  traffic: DEFAULT_TRAFFIC,
  errors: DEFAULT_ERRORS,
  thresholds: [],
};

export interface SiteDetectionOptions {
  /** How late an event may arrive and still count in its minute. */
  allowedLatenessMs: number;
  /** The traffic rules look at the counters this long behind the newest event. */
  trafficLatenessMs: number;
  /** Closed minutes kept for baselines. */
  retentionMs: number;
  /** After a gap (idle site, downtime) only the last this-many minutes/ticks are evaluated. */
  maxCatchUpMinutes: number;
  anonymizedIps: boolean;
}

export const DEFAULT_SITE_OPTIONS: SiteDetectionOptions = {
  allowedLatenessMs: 60_000,
  trafficLatenessMs: 5_000,
  retentionMs: 5 * WEEK + 2 * 24 * 3_600_000,
  maxCatchUpMinutes: 15,
  anonymizedIps: true,
};

/** Where closed minutes' breakdowns go and come back from (root-cause hints). */
export interface BreakdownStore extends BreakdownSource {
  put(minute: number, b: Breakdown): void;
}

/** The part of a site's state that is saved with each checkpoint (the rest is rebuilt). */
export interface SiteCheckpoint {
  site: string;
  maxSeen: number;
  lastEvaluated: number;
  lastTick: number;
  active: { orderRate: string[]; errors: string[]; botWave: boolean };
  offenders: Offender[];
  /** Spans where order-rate signals fired: later baselines leave them out. */
  anomalies?: [number, number][];
}

export interface SiteHooks {
  emit: (e: Evaluation) => void;
  /** A minute closed (persist it). */
  closed?: (facts: MinuteFacts) => void;
}

export class SiteDetection {
  maxSeen = 0;
  lastEvaluated = 0;
  lastTick = 0;
  lateEvents = 0;
  /** Minutes before this come from history (the lake), never from events. */
  historyUntil = 0;
  series = new MinuteSeries();
  readonly agg = new MinuteAggregator();
  readonly counters = new TrafficCounters();
  readonly offenders = new Map<string, Offender>();
  private readonly keyedRecent = new Map<number, Record<string, Record<string, number>>>();
  private active = { orderRate: new Set<string>(), errors: new Set<string>(), botWave: false };
  /** Spans where order-rate signals fired; baselines of later minutes leave them out. */
  readonly anomalies = new Intervals();
  private lastHousekeeping = 0;

  constructor(
    readonly site: string,
    readonly settings: () => DetectorSettings,
    readonly breakdowns: BreakdownStore,
    private readonly o: SiteDetectionOptions = DEFAULT_SITE_OPTIONS,
  ) {}

  get watermark(): number {
    return this.maxSeen - this.o.allowedLatenessMs;
  }

  /** Loads closed minutes (history from the store or the lake) before any event. */
  loadMinutes(facts: Iterable<MinuteFacts>): void {
    for (const f of facts) {
      if (this.series.minutes > 0 && f.minute < this.series.end) continue;
      this.series.append(f);
      if (f.keyedErrors) this.keyedRecent.set(f.minute, f.keyedErrors);
    }
  }

  /**
   * Adds history older than what the series holds (e.g. loaded from the lake after a backfill)
   * and covers the gap up to the first minute it had as quiet. Returns the minutes added.
   */
  prependHistory(history: MinuteFacts[]): MinuteFacts[] {
    const start = this.series.minutes > 0 ? this.series.start : this.historyUntil || Number.POSITIVE_INFINITY;
    const older = history.filter((f) => f.minute < start);
    if (older.length === 0) return older;
    const next = new MinuteSeries();
    for (const f of older) next.append(f);
    if (this.series.minutes > 0) {
      next.coverUntil(this.series.start);
      const metrics = this.series.metrics();
      for (let m = this.series.start; m < this.series.end; m += MINUTE) {
        const values: Record<string, number> = {};
        for (const k of metrics) {
          const v = this.series.value(k, m);
          if (v) values[k] = v;
        }
        next.append({ minute: m, values });
      }
      next.coverUntil(this.series.end);
    } else if (this.historyUntil > 0) {
      next.coverUntil(this.historyUntil);
    }
    this.series = next;
    for (const f of older) {
      if (f.keyedErrors) this.keyedRecent.set(f.minute, f.keyedErrors);
      if (f.breakdown) this.breakdowns.put(f.minute, f.breakdown);
    }
    return older;
  }

  restore(cp: SiteCheckpoint): void {
    this.maxSeen = cp.maxSeen;
    this.lastEvaluated = cp.lastEvaluated;
    this.lastTick = cp.lastTick;
    this.active = {
      orderRate: new Set(cp.active.orderRate),
      errors: new Set(cp.active.errors),
      botWave: cp.active.botWave,
    };
    for (const f of cp.offenders) this.offenders.set(`${f.kind}:${f.key}`, f);
    for (const [a, b] of cp.anomalies ?? []) this.anomalies.add(a, b);
  }

  checkpoint(): SiteCheckpoint {
    return {
      site: this.site,
      maxSeen: this.maxSeen,
      lastEvaluated: this.lastEvaluated,
      lastTick: this.lastTick,
      active: {
        orderRate: [...this.active.orderRate],
        errors: [...this.active.errors],
        botWave: this.active.botWave,
      },
      offenders: [...this.offenders.values()],
      anomalies: this.anomalies.toJSON(),
    };
  }

  /**
   * Applies one event. First the watermark moves (closing minutes and passing 10-s ticks,
   * each evaluated before this event counts), then the event lands in its minute — or, if
   * that minute has closed, only in the session and traffic state, counted as late.
   * `replay` is for rebuilding the state from the stream tail after a restart: the events were
   * counted before, so only what was not saved (open minutes, sessions, counters) takes them.
   */
  ingest(e: DetectorEvent, hooks: SiteHooks, replay = false): void {
    const t = Math.min(e.time, e.received);
    if (t > this.maxSeen) this.advance(t, hooks);
    const minute = floorMinute(e.time);
    if (minute < this.historyUntil) {
      // Already in the history loaded from the lake: it only warms the session and traffic state.
      this.agg.add(e, null);
    } else if (minute + MINUTE <= this.watermark || (this.series.minutes > 0 && minute < this.series.end)) {
      this.agg.add(e, null);
      // A replayed record was judged when it first came; its minute may have closed since.
      if (!replay) {
        this.lateEvents++;
        this.agg.countLate(floorMinute(this.maxSeen)); // counted in the minute it arrived in
      }
    } else {
      this.agg.add(e, minute);
    }
    this.counters.add(e);
  }

  /**
   * Moves event time forward to `t` without an event (the live engine does this when a site
   * is idle, so that "orders stopped" is seen even when nothing arrives).
   */
  advance(t: number, hooks: SiteHooks): void {
    if (t <= this.maxSeen) return;
    const ticksTo = Math.floor((t - this.o.trafficLatenessMs) / BUCKET_MS) * BUCKET_MS;
    const minutesTo = floorMinute(t - this.o.allowedLatenessMs);
    const maxTicks = this.o.maxCatchUpMinutes * 6;
    const settings = this.settings();
    // The first evaluations are at the end of the first 10 s / minute that has data.
    if (this.lastTick === 0) this.lastTick = Math.floor(t / BUCKET_MS) * BUCKET_MS;
    for (
      let at = Math.max(this.lastTick + BUCKET_MS, ticksTo - maxTicks * BUCKET_MS);
      at <= ticksTo;
      at += BUCKET_MS
    ) {
      this.lastTick = at;
      if (settings.traffic) hooks.emit(this.evaluateTraffic(at, settings.traffic));
    }
    this.closeUntil(minutesTo, hooks);
    if (this.lastEvaluated === 0) this.lastEvaluated = Math.max(minutesTo, floorMinute(t));
    const from = Math.max(this.lastEvaluated + MINUTE, minutesTo - this.o.maxCatchUpMinutes * MINUTE);
    for (let end = from; end <= minutesTo; end += MINUTE) {
      this.lastEvaluated = end;
      for (const ev of this.evaluateMinute(end, settings)) hooks.emit(ev);
    }
    this.maxSeen = t;
    if (t - this.lastHousekeeping >= MINUTE) this.housekeeping(t);
  }

  /** Closes every open minute before `end` and covers the quiet ones. */
  private closeUntil(end: number, hooks: SiteHooks): void {
    const due = [...this.agg.open.keys()].filter((m) => m < end).sort((a, b) => a - b);
    for (const minute of due) {
      const facts = this.agg.close(minute);
      this.series.append(facts);
      if (facts.breakdown) this.breakdowns.put(minute, facts.breakdown);
      if (facts.keyedErrors) this.keyedRecent.set(minute, facts.keyedErrors);
      hooks.closed?.(facts);
    }
    if (this.series.minutes > 0 || due.length > 0) this.series.coverUntil(end);
  }

  evaluateMinute(end: number, settings = this.settings()): Evaluation[] {
    const out: Evaluation[] = [];
    if (settings.orderRate) {
      const r = evaluateOrderRate({
        site: this.site,
        end,
        series: this.series,
        options: settings.orderRate,
        active: this.active.orderRate,
        breakdowns: this.breakdowns,
        excluded: (from, to) => this.anomalies.overlaps(from, to),
      });
      this.active.orderRate = new Set(r.signals.map((s) => `${s.labels.metric}:${s.labels.direction}`));
      for (const s of r.signals)
        this.anomalies.add(end - (s.evidence?.windowMinutes as number) * MINUTE, end);
      out.push({ rule: 'order_rate', site: this.site, at: end, signals: r.signals });
    }
    if (settings.errors) {
      const signals = evaluateErrors({
        site: this.site,
        end,
        series: this.series,
        keyed: this,
        options: settings.errors,
        active: this.active.errors,
      });
      this.active.errors = new Set(signals.map(errorSignalKey));
      out.push({ rule: 'errors', site: this.site, at: end, signals });
    }
    for (const rule of settings.thresholds) {
      if (rule.site !== undefined && rule.site !== this.site) continue;
      const s = evaluateThreshold(rule, this.site, end, this.series);
      out.push({ rule: thresholdRuleName(rule.id), site: this.site, at: end, signals: s ? [s] : [] });
    }
    return out;
  }

  private evaluateTraffic(at: number, options: TrafficOptions): Evaluation {
    const signals = evaluateTraffic({
      site: this.site,
      at,
      counters: this.counters,
      offenders: this.offenders,
      cartSessions: this.cartSessions(),
      series: this.series,
      options,
      botWaveActive: this.active.botWave,
      anonymizedIps: this.o.anonymizedIps,
    });
    this.active.botWave = signals.some((s) => s.labels.alertname === 'bot_wave');
    return { rule: 'traffic', site: this.site, at, signals };
  }

  private *cartSessions(): Generator<CartSession> {
    for (const id of this.agg.cartWithoutViews) {
      const s = this.agg.sessions.get(id);
      if (s) yield { session: id, ...s };
    }
  }

  /** Per-key error counts of recent closed minutes (failed logins per account or IP). */
  keyed(series: string, from: number, to: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const [minute, keyed] of this.keyedRecent) {
      if (minute < from || minute >= to) continue;
      for (const [key, n] of Object.entries(keyed[series] ?? {})) out.set(key, (out.get(key) ?? 0) + n);
    }
    return out;
  }

  private housekeeping(now: number): void {
    this.lastHousekeeping = now;
    // Sessions are kept 35 min, beyond their 30-min timeout: evicting every 5 minutes changes nothing.
    if (Math.floor(now / MINUTE) % 5 === 0) this.agg.evictSessions(now);
    this.counters.evict(now);
    for (const minute of this.keyedRecent.keys())
      if (minute < now - 2 * 3_600_000) this.keyedRecent.delete(minute);
    // Trimming copies the arrays: do it when a day's worth is beyond retention, not every minute.
    if (this.series.minutes > 0 && this.series.start < now - this.o.retentionMs - 24 * 3_600_000)
      this.series.trimBefore(now - this.o.retentionMs);
  }
}

export interface SeriesPoint {
  minute: number;
  value: number | null;
  expected: number | null;
  /** The band the order-rate rule tests against (expected ± z·σ), when `window` was asked for. */
  lower?: number | null;
  upper?: number | null;
}

const ORDER_METRICS = new Set<string>(['orders', 'revenue', 'aov', 'conversion']);

/**
 * A metric per minute with its seasonal expectation (same time of week or day), for charts. With
 * `window` (minutes) and an order-rate metric, each point is instead the value over the window
 * ending at that minute, as the order-rate rule sees it, with its expected band — the chart then
 * shows exactly when the value left the band.
 */
export function seriesPoints(
  site: SiteDetection,
  metric: string,
  from: number,
  to: number,
  window?: number,
): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  const o = site.settings().orderRate ?? DEFAULT_ORDER_RATE;
  if (window !== undefined && ORDER_METRICS.has(metric)) {
    for (let m = floorMinute(from); m < to && out.length < 2880; m += MINUTE) {
      const b = orderRateBand(site.series, metric as OrderMetric, m + MINUTE, window, o, (a, z) =>
        site.anomalies.overlaps(a, z),
      );
      out.push({
        minute: m,
        value: b?.actual ?? windowValue(site.series, metric, m + MINUTE - window * MINUTE, m + MINUTE),
        expected: b?.expected ?? null,
        lower: b?.lower ?? null,
        upper: b?.upper ?? null,
      });
    }
    return out;
  }
  const baseline = { ...DEFAULT_BASELINE, trendWeight: 0 };
  for (let m = floorMinute(from); m < to && out.length < 2880; m += MINUTE) {
    const ref = chooseReference(site.series, m + MINUTE, 1, baseline);
    const e = ref ? expect(site.series, metric, m + MINUTE, 1, ref, baseline, 0) : null;
    // A ratio (aov, conversion, error_rate.x) is divided minute by minute from its two sums.
    const value = ratioOf(metric)
      ? windowValue(site.series, metric, m, m + MINUTE)
      : site.series.value(metric, m);
    out.push({ minute: m, value, expected: e?.expected ?? null });
  }
  return out;
}
