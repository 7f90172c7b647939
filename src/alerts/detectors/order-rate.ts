import type { Signal } from '../types.js';
import {
  type BaselineOptions,
  chooseReference,
  clearOffsets,
  DEFAULT_BASELINE,
  type Expectation,
  expect,
  type Reference,
  windowValue,
} from './baseline.js';
import { explainChange, type RootCause } from './root-cause.js';
import { type BreakdownSource, MINUTE, type SeriesView } from './series.js';

/**
 * Order/transaction rate anomalies: orders, revenue, average order value and conversion over
 * a few window lengths, each compared with its seasonal baseline (baseline.ts). A window
 * fires when it lies outside the band by `z` standard deviations and by at least `minChange`;
 * the band's width joins the counting noise of the window (Poisson for orders, compound
 * Poisson for revenue, sampling error for the ratios) and the spread of the baseline weeks.
 * A window whose baseline expects too few orders gives no verdict: there is nothing to tell.
 */

export type OrderMetric = 'orders' | 'revenue' | 'aov' | 'conversion';
export type Direction = 'drop' | 'spike' | 'both';

export interface OrderRateOptions {
  metrics: OrderMetric[];
  direction: Direction;
  /** Standard deviations outside the expectation that fire (lower = more sensitive). */
  z: number;
  /** Window lengths in minutes. Short windows catch big changes fast, long ones small changes at low volume. */
  windows: number[];
  /** Least relative change that fires, however significant (0.15 = 15%). */
  minChange: number;
  /** No verdict on a window whose baseline expects fewer orders than this. */
  minExpectedOrders: number;
  /** Counting noise is multiplied by this (> 1 when orders come in bursts). */
  dispersion: number;
  /** A firing condition keeps firing while it stays beyond this share of `z` (hysteresis). */
  holdRatio: number;
  /**
   * Skewness of one order's value (order values have a long right tail). Sums of few orders
   * are skewed too, so a spike in revenue or aov needs more than `z` standard deviations
   * (Cornish–Fisher correction); without it, one big basket looks like a surge.
   */
  valueSkew: number;
  /** The average order value is judged only over windows with at least this many orders. */
  minOrdersForAov: number;
  /**
   * A window longer than this many minutes fires only while its last this-many minutes deviate
   * the same way (by `recentZ`): a long window still holding an incident that has ended is stale.
   */
  recentMinutes: number;
  recentZ: number;
  baseline: BaselineOptions;
}

export const SENSITIVITY = { low: 6, medium: 4.5, high: 3.5 } as const;

export const DEFAULT_ORDER_RATE: OrderRateOptions = {
  metrics: ['orders', 'revenue', 'aov', 'conversion'],
  direction: 'both',
  z: SENSITIVITY.medium,
  windows: [5, 15, 60],
  minChange: 0.15,
  minExpectedOrders: 15,
  dispersion: 1,
  holdRatio: 0.6,
  valueSkew: 3.5,
  minOrdersForAov: 50,
  recentMinutes: 15,
  recentZ: 3,
  baseline: DEFAULT_BASELINE,
};

export type Verdict =
  | { metric: OrderMetric; status: 'no_history' }
  | { metric: OrderMetric; status: 'low_volume'; expectedOrders: number }
  | {
      metric: OrderMetric;
      status: 'normal' | 'drop' | 'spike';
      baseline: Reference['kind'];
      window: number;
      actual: number;
      expected: number;
      z: number;
    };

export interface OrderRateInput {
  site: string;
  /** End of the last closed minute: the windows are [end - w, end). */
  end: number;
  series: SeriesView;
  options: OrderRateOptions;
  /** Keys (`metric:direction`) that fired at the previous evaluation, for hysteresis. */
  active?: ReadonlySet<string>;
  /** When given, firing signals carry a root-cause hint. */
  breakdowns?: BreakdownSource;
  /** Spans the baseline leaves out (where this detector fired before). */
  excluded?: (from: number, to: number) => boolean;
}

export interface OrderRateResult {
  signals: Signal[];
  verdicts: Verdict[];
}

interface WindowTest {
  window: number;
  actual: number;
  exp: Expectation;
  sigma: number;
  z: number;
  /** Skewness of the window's statistic under the baseline (for the spike threshold). */
  skew: number;
  /** z of the last `recentMinutes` of a longer window. */
  recentZ?: number;
  expectedOrders: number;
}

const LABEL: Record<OrderMetric, string> = {
  orders: 'Orders',
  revenue: 'Revenue',
  aov: 'Average order value',
  conversion: 'Conversion rate',
};

export function evaluateOrderRate(input: OrderRateInput): OrderRateResult {
  const { series, end, options: o } = input;
  const longest = Math.max(...o.windows);
  const span = Math.max(longest, o.baseline.trendMinutes + o.baseline.trendGapMinutes);
  const chosen = chooseReference(series, end, span, o.baseline);
  const ref = chosen && input.excluded ? { ...chosen, excluded: input.excluded } : chosen;
  const signals: Signal[] = [];
  const verdicts: Verdict[] = [];
  for (const metric of o.metrics) {
    if (!ref) {
      verdicts.push({ metric, status: 'no_history' });
      continue;
    }
    const tests = o.windows
      .map((w) => testWindow(series, metric, end, w, ref, o))
      .filter((t): t is WindowTest => t !== null);
    for (const t of tests)
      if (t.window > o.recentMinutes) t.recentZ = testWindow(series, metric, end, o.recentMinutes, ref, o)?.z;
    const judged = tests.filter((t) => t.expectedOrders >= o.minExpectedOrders);
    if (judged.length === 0) {
      const expectedOrders = Math.max(0, ...tests.map((t) => t.expectedOrders));
      verdicts.push({ metric, status: 'low_volume', expectedOrders });
      continue;
    }
    let fired: { t: WindowTest; direction: 'drop' | 'spike' } | null = null;
    for (const direction of ['drop', 'spike'] as const) {
      if (o.direction !== 'both' && o.direction !== direction) continue;
      const held = input.active?.has(`${metric}:${direction}`) ?? false;
      const base = held ? o.z * o.holdRatio : o.z;
      const change = held ? o.minChange / 2 : o.minChange;
      for (const t of judged) {
        // Right-skewed statistics reach far up by chance: lift the spike threshold accordingly.
        const z = direction === 'spike' ? base + (t.skew / 6) * (base * base - 1) : base;
        const recent = held ? o.recentZ * o.holdRatio : o.recentZ;
        const beyond =
          direction === 'drop'
            ? t.z <= -z && t.actual <= t.exp.expected * (1 - change) && (t.recentZ ?? -z) <= -recent
            : t.z >= z && t.actual >= t.exp.expected * (1 + change) && (t.recentZ ?? z) >= recent;
        if (beyond && (!fired || Math.abs(t.z) > Math.abs(fired.t.z))) fired = { t, direction };
      }
    }
    const shown = fired?.t ?? judged.reduce((a, b) => (Math.abs(b.z) > Math.abs(a.z) ? b : a));
    verdicts.push({
      metric,
      status: fired ? fired.direction : 'normal',
      baseline: ref.kind,
      window: shown.window,
      actual: shown.actual,
      expected: shown.exp.expected,
      z: shown.z,
    });
    if (fired) signals.push(toSignal(input, metric, fired.direction, fired.t, ref));
  }
  return { signals, verdicts };
}

/**
 * What the rule sees for `metric` over the window of `minutes` ending at `end`: the actual value,
 * the expectation and the band it must leave to fire (expected ± z·σ, the same σ as the rule's
 * test; the spike side before its skew lift). Null without history or volume. For charts.
 */
export function orderRateBand(
  series: SeriesView,
  metric: OrderMetric,
  end: number,
  minutes: number,
  o: OrderRateOptions,
  excluded?: (from: number, to: number) => boolean,
): { actual: number; expected: number; lower: number; upper: number } | null {
  const span = Math.max(minutes, o.baseline.trendMinutes + o.baseline.trendGapMinutes);
  const chosen = chooseReference(series, end, span, o.baseline);
  if (!chosen) return null;
  const t = testWindow(series, metric, end, minutes, excluded ? { ...chosen, excluded } : chosen, o);
  if (!t) return null;
  const expected = t.exp.expected;
  return {
    actual: t.actual,
    expected,
    lower: Math.max(0, expected - o.z * t.sigma),
    upper: expected + o.z * t.sigma,
  };
}

function testWindow(
  series: SeriesView,
  metric: OrderMetric,
  end: number,
  minutes: number,
  ref: Reference,
  o: OrderRateOptions,
): WindowTest | null {
  const from = end - minutes * MINUTE;
  const orders = expect(series, 'orders', end, minutes, ref, o.baseline, 10);
  if (!orders) return null;
  const expectedOrders = orders.expected;
  // Second moment of order values over the reference windows: the spread of revenue and aov.
  let refOrders = 0;
  let refRevenue = 0;
  let refSq = 0;
  for (const off of ref.offsets) {
    refOrders += series.sum('orders', from - off, end - off) ?? 0;
    refRevenue += series.sum('revenue', from - off, end - off) ?? 0;
    refSq += series.sum('revenue_sq', from - off, end - off) ?? 0;
  }
  const meanValue = refOrders > 0 ? refRevenue / refOrders : 0;
  const m2 = refOrders > 0 ? refSq / refOrders : 0;
  const valueVar = Math.max(0, m2 - meanValue ** 2);

  let exp: Expectation | null;
  let actual: number | null;
  let noiseVar: number;
  // Poisson counts have skewness 1/sqrt(n); a sum or mean of n order values valueSkew/sqrt(n).
  let skew = expectedOrders > 0 ? 1 / Math.sqrt(expectedOrders) : 0;
  switch (metric) {
    case 'orders':
      exp = orders;
      actual = series.sum('orders', from, end);
      noiseVar = o.dispersion * exp.expected;
      break;
    case 'revenue':
      exp = expect(series, 'revenue', end, minutes, ref, o.baseline, 10 * meanValue);
      actual = series.sum('revenue', from, end);
      noiseVar = o.dispersion * expectedOrders * m2;
      skew = expectedOrders > 0 ? Math.max(1, o.valueSkew) / Math.sqrt(expectedOrders) : 0;
      break;
    case 'aov': {
      exp = expect(series, 'aov', end, minutes, ref, o.baseline, 10);
      actual = windowValue(series, 'aov', from, end);
      const n = series.sum('orders', from, end) ?? 0;
      // An average of a few long-tailed values swings wildly; the orders test speaks for such windows.
      if (n < Math.max(3, o.minOrdersForAov)) return null;
      noiseVar = (o.dispersion * valueVar) / n;
      skew = o.valueSkew / Math.sqrt(n);
      break;
    }
    case 'conversion': {
      exp = expect(series, 'conversion', end, minutes, ref, o.baseline, 10);
      actual = windowValue(series, 'conversion', from, end);
      const sessions = series.sum('engaged_sessions', from, end) ?? 0;
      if (!exp || sessions <= 0) return null;
      const p = Math.min(0.999, Math.max(exp.expected, 1 / sessions));
      noiseVar = (o.dispersion * p * (1 - p)) / sessions;
      break;
    }
  }
  if (!exp || actual === null) return null;
  // The seasonal MAD (scaled like the expectation) covers week-to-week variation beyond counting noise.
  const scale = exp.seasonal > 0 ? exp.expected / exp.seasonal : 1;
  const madVar = (1.4826 * exp.mad * scale) ** 2;
  // A median of n samples estimates with variance ~1.57 σ²/n; averaged neighbours make each sample steadier.
  const trendVar = (exp.expected * exp.trendSd) ** 2;
  const sigma = Math.sqrt(
    Math.max(noiseVar, madVar) * (1 + 1.57 / Math.max(exp.samples, exp.pieces)) + trendVar,
  );
  const z = sigma > 0 ? (actual - exp.expected) / sigma : 0;
  return { window: minutes, actual, exp, sigma, z, skew, expectedOrders };
}

function toSignal(
  input: OrderRateInput,
  metric: OrderMetric,
  direction: 'drop' | 'spike',
  t: WindowTest,
  ref: Reference,
): Signal {
  const { end, options: o } = input;
  const expected = t.exp.expected;
  const change = expected > 0 ? (t.actual - expected) / expected : 0;
  const band = {
    expected,
    lower: Math.max(0, expected - o.z * t.sigma),
    upper: expected + o.z * t.sigma,
  };
  const fmt = (v: number) => formatValue(metric, v);
  let rootCause: RootCause | null = null;
  if (input.breakdowns && metric !== 'aov')
    rootCause = explainChange({
      metric,
      end,
      minutes: t.window,
      offsets: clearOffsets(ref, end - t.window * MINUTE, end),
      scale: t.exp.seasonal > 0 ? expected / t.exp.seasonal : 1,
      series: input.series,
      breakdowns: input.breakdowns,
    });
  const hint = rootCause?.summary ? `; ${rootCause.summary}` : '';
  const moved = direction === 'drop' ? 'dropped' : 'rose';
  return {
    labels: { alertname: 'order_rate_anomaly', site: input.site, metric, direction },
    severity: direction === 'drop' && metric !== 'aov' ? 'critical' : 'warning',
    summary:
      `${LABEL[metric]} ${moved} ${Math.abs(Math.round(change * 100))}% over the last ${t.window} min: ` +
      `${fmt(t.actual)} vs ${fmt(expected)} expected (band ${fmt(band.lower)}–${fmt(band.upper)}, ` +
      `${ref.kind === 'weekly' ? `same time on ${t.exp.samples} past weeks` : `same time on ${t.exp.samples} past days`})${hint}`,
    at: end,
    value: t.actual,
    band,
    evidence: {
      windowMinutes: t.window,
      z: round(t.z, 2),
      change: round(change, 3),
      baseline: ref.kind,
      samples: t.exp.samples,
      seasonal: round(t.exp.seasonal, 4),
      trend: round(t.exp.trend, 3),
      ...(rootCause ? { rootCause } : {}),
    },
  };
}

function formatValue(metric: OrderMetric, v: number): string {
  if (metric === 'conversion') return `${(v * 100).toFixed(2)}%`;
  if (metric === 'orders') return String(Math.round(v));
  return v >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2);
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
