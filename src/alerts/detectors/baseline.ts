import { DAY, MINUTE, medianMad, ratioOf, type SeriesView, WEEK } from './series.js';

/**
 * The seasonal baseline: what a window of a metric usually is at this time of the week. The
 * same window on each of the last few weeks gives a sample; its median is the expectation and
 * its MAD the week-to-week spread. With too few weeks of history it falls back to the same
 * time of day on the last few days, and below that says "not enough history".
 *
 * A short-term trend then scales the seasonal value: how the last few hours compared with
 * those same hours in the sample ("today runs 10% hot"). The trend span stops some minutes
 * before now, so an incident in progress does not become its own baseline, and 15-minute
 * pieces of the span that stand out from the rest are left out, so an incident earlier in it
 * does not tilt it either.
 */

export interface BaselineOptions {
  /** Weeks of same-time-of-week windows to use, and the least that makes a weekly baseline. */
  weeks: number;
  minWeeks: number;
  /** Fallback: same time of day on the last `days` days, needing at least `minDays`. */
  days: number;
  minDays: number;
  /** Trend span in minutes (a multiple of 15), ending `trendGapMinutes` before now; 0 disables the trend. */
  trendMinutes: number;
  trendGapMinutes: number;
  /** 0 = seasonal value only, 1 = fully scaled by the trend. */
  trendWeight: number;
  /** The trend factor is clamped to [1/maxTrend, maxTrend]. */
  maxTrend: number;
  /** A reference period's window is averaged with its neighbours up to this many minutes away (0: off). */
  smoothMinutes: number;
}

export const DEFAULT_BASELINE: BaselineOptions = {
  weeks: 4,
  minWeeks: 2,
  days: 7,
  minDays: 3,
  trendMinutes: 180,
  trendGapMinutes: 30,
  trendWeight: 0.8,
  maxTrend: 1.5,
  smoothMinutes: 10,
};

export type BaselineKind = 'weekly' | 'daily';

/** The past periods a baseline compares with, chosen once per evaluation. */
export interface Reference {
  kind: BaselineKind;
  /** How far back each sample period lies (ms). */
  offsets: number[];
  /** Spans to leave out (an earlier anomaly): a sample period that overlaps one is not used, unless all do. */
  excluded?: (from: number, to: number) => boolean;
}

/** The offsets whose window [from, to) shifted back is clear of excluded spans (all, if none is). */
export function clearOffsets(ref: Reference, from: number, to: number): number[] {
  if (!ref.excluded) return ref.offsets;
  const clear = ref.offsets.filter((off) => !ref.excluded!(from - off, to - off));
  return clear.length > 0 ? clear : ref.offsets;
}

/**
 * The sample periods usable for windows ending at `end` and reaching back `spanMinutes`
 * (the longest window, or the trend span plus its gap): weekly if enough weeks are covered,
 * else daily, else null (not enough history).
 */
export function chooseReference(
  series: SeriesView,
  end: number,
  spanMinutes: number,
  o: BaselineOptions,
): Reference | null {
  const usable = (period: number, count: number) => {
    const offsets: number[] = [];
    for (let k = 1; k <= count; k++) {
      const off = k * period;
      if (series.covers(end - off - spanMinutes * MINUTE, end - off)) offsets.push(off);
    }
    return offsets;
  };
  const weekly = usable(WEEK, o.weeks);
  if (weekly.length >= o.minWeeks) return { kind: 'weekly', offsets: weekly };
  const daily = usable(DAY, o.days);
  if (daily.length >= o.minDays) return { kind: 'daily', offsets: daily };
  return null;
}

export interface Expectation {
  /** Expected value of the window (seasonal median scaled by the trend). */
  expected: number;
  /** Seasonal median and MAD of the window over the reference periods, before the trend. */
  seasonal: number;
  mad: number;
  trend: number;
  /** Standard error of the trend's effect (relative): the expectation is uncertain by this share too. */
  trendSd: number;
  samples: number;
  /** Windows read over all samples (a sample averages up to three neighbouring windows). */
  pieces: number;
}

/** Sum of an additive metric, or a ratio (aov, conversion, error_rate.x) of two, over [from, to). */
export function windowValue(series: SeriesView, metric: string, from: number, to: number): number | null {
  const ratio = ratioOf(metric);
  if (!ratio) return series.sum(metric, from, to);
  const num = series.sum(ratio[0], from, to);
  const den = series.sum(ratio[1], from, to);
  if (num === null || den === null || den <= 0) return null;
  return num / den;
}

/**
 * Expected value of `metric` over the window of `minutes` ending at `end`. `prior` shrinks the
 * trend towards 1 when the trend span holds little data: for sums it is in the metric's units
 * (e.g. 10 orders' worth), for ratios it is a denominator mass (e.g. 10 orders for the aov).
 */
export function expect(
  series: SeriesView,
  metric: string,
  end: number,
  minutes: number,
  ref: Reference,
  o: BaselineOptions,
  prior: number,
): Expectation | null {
  const from = end - minutes * MINUTE;
  // Each reference period's value is the mean of the window and its neighbours `shift` earlier
  // and later: three times the data per period, so the median of a few weeks is less noisy.
  const shift = Math.min(minutes, o.smoothMinutes) * MINUTE;
  const shifts = shift > 0 ? [-shift, 0, shift] : [0];
  const samples: number[] = [];
  let pieces = 0;
  for (const off of clearOffsets(ref, from - shift, end + shift)) {
    let sum = 0;
    let n = 0;
    for (const d of shifts) {
      const v = windowValue(series, metric, from - off + d, end - off + d);
      if (v === null) continue;
      sum += v;
      n++;
    }
    if (n === 0) continue;
    samples.push(sum / n);
    pieces += n;
  }
  if (samples.length === 0) return null;
  const { median, mad } = medianMad(samples);
  const trend = trendOf(series, metric, end, ref, o, prior);
  return {
    expected: median * trend.factor ** o.trendWeight,
    seasonal: median,
    mad,
    trend: trend.factor,
    trendSd: trend.sd * o.trendWeight,
    samples: samples.length,
    pieces,
  };
}

const TREND_PIECE_MINUTES = 15;

/**
 * Actual / usual over the 15-min pieces of the trend span, each shrunk towards 1 by `prior`,
 * averaged over the pieces that are not outliers, clamped; and its standard error (from the
 * spread of the pieces).
 */
export function trendOf(
  series: SeriesView,
  metric: string,
  end: number,
  ref: Reference,
  o: BaselineOptions,
  prior: number,
): { factor: number; sd: number } {
  if (o.trendMinutes <= 0 || o.trendWeight <= 0) return { factor: 1, sd: 0 };
  const to = end - o.trendGapMinutes * MINUTE;
  const pieces = Math.max(1, Math.round(o.trendMinutes / TREND_PIECE_MINUTES));
  const ratios: number[] = [];
  for (let k = 0; k < pieces; k++) {
    const b = to - k * TREND_PIECE_MINUTES * MINUTE;
    const r = pieceRatio(series, metric, b - TREND_PIECE_MINUTES * MINUTE, b, ref, prior);
    if (r !== null) ratios.push(r);
  }
  if (ratios.length === 0) return { factor: 1, sd: 0 };
  // Pieces far from the rest (an incident earlier in the span) are left out; the others are averaged.
  const { median, mad } = medianMad(ratios);
  const spread = 1.4826 * mad;
  const kept = ratios.filter((r) => Math.abs(r - median) <= Math.max(3 * spread, 0.05));
  const mean = kept.reduce((a, b) => a + b, 0) / kept.length;
  return {
    factor: Math.min(o.maxTrend, Math.max(1 / o.maxTrend, mean)),
    sd: spread / Math.sqrt(kept.length),
  };
}

function pieceRatio(
  series: SeriesView,
  metric: string,
  from: number,
  to: number,
  ref: Reference,
  prior: number,
): number | null {
  if (ref.excluded?.(from, to)) return null; // an anomaly earlier today says nothing about the level
  const offsets = clearOffsets(ref, from, to);
  const ratio = ratioOf(metric);
  if (ratio) {
    // A ratio's trend: today's ratio vs the usual one, weighted by how much data backs it.
    const num = series.sum(ratio[0], from, to);
    const den = series.sum(ratio[1], from, to);
    const usual = median(offsets.map((off) => windowValue(series, metric, from - off, to - off)));
    if (num === null || den === null || den <= 0 || usual === null || usual <= 0) return null;
    return 1 + ((num / den / usual - 1) * den) / (den + prior);
  }
  const actual = series.sum(metric, from, to);
  const usual = median(offsets.map((off) => series.sum(metric, from - off, to - off)));
  if (actual === null || usual === null) return null;
  return (actual + prior) / (usual + prior);
}

function median(xs: (number | null)[]): number | null {
  const known = xs.filter((x): x is number => x !== null);
  return known.length === 0 ? null : medianMad(known).median;
}
