import { gaussian, mulberry32, poisson } from '../../demo/prng.js';
import { type Breakdown, MINUTE, type MinuteFacts, MinuteSeries } from './series.js';

/**
 * Synthetic per-minute order series: a weekly rhythm with Poisson noise and, optionally,
 * changes injected over a time range. Unit tests and the detector's power table use it; the
 * scoring uses the demo store's full event simulation instead.
 */

export interface SyntheticOptions {
  startMs: number;
  endMs: number;
  seed: number;
  /** Mean orders per minute over the week. */
  ordersPerMinute: number;
  /** Relative rate at a time (mean ~1). Default: a shop's day with a Monday-morning peak. */
  shape?: (ms: number) => number;
  /** Multiplies the rate inside [startMs, endMs). */
  changes?: { startMs: number; endMs: number; factor: number }[];
  conversion?: number;
  meanOrderValue?: number;
}

/** Quiet nights, busy evenings, and Monday 08:00–11:00 twice as busy as other mornings. */
export function shopShape(ms: number): number {
  const d = new Date(ms);
  const hour = d.getUTCHours() + d.getUTCMinutes() / 60;
  const daily = 0.25 + 1.5 * Math.exp(-((hour - 19) ** 2) / 18) + 0.6 * Math.exp(-((hour - 11) ** 2) / 8);
  const mondayMorning = d.getUTCDay() === 1 && hour >= 8 && hour < 11 ? 2 : 1;
  return daily * mondayMorning;
}

export function syntheticFacts(o: SyntheticOptions): MinuteFacts[] {
  const rng = mulberry32(o.seed);
  const shape = o.shape ?? shopShape;
  const conversion = o.conversion ?? 0.03;
  const value = o.meanOrderValue ?? 80;
  const out: MinuteFacts[] = [];
  for (let m = o.startMs; m < o.endMs; m += MINUTE) {
    let rate = o.ordersPerMinute * shape(m);
    for (const c of o.changes ?? []) if (m >= c.startMs && m < c.endMs) rate *= c.factor;
    const sessions = poisson(rng, (o.ordersPerMinute * shape(m)) / conversion);
    const engaged = poisson(rng, (0.7 * o.ordersPerMinute * shape(m)) / conversion);
    const orders = poisson(rng, rate);
    let revenue = 0;
    let revenueSq = 0;
    for (let i = 0; i < orders; i++) {
      const v = value * Math.exp(0.6 * gaussian(rng) - 0.18);
      revenue += v;
      revenueSq += v * v;
    }
    out.push({
      minute: m,
      values: {
        orders,
        purchases: orders,
        revenue,
        revenue_sq: revenueSq,
        sessions,
        engaged_sessions: engaged,
        requests: sessions * 5,
      },
    });
  }
  return out;
}

export function syntheticSeries(o: SyntheticOptions): MinuteSeries {
  const series = new MinuteSeries();
  for (const f of syntheticFacts(o)) series.append(f);
  return series;
}

/** A breakdown with orders split over segments by fixed shares. */
export function splitBreakdown(orders: number, shares: Record<string, Record<string, number>>): Breakdown {
  const out: Breakdown = {};
  for (const [dim, values] of Object.entries(shares)) {
    out[dim] = {};
    for (const [v, share] of Object.entries(values))
      out[dim][v] = [orders * share * 30, orders * share, orders * share * 80];
  }
  return out;
}
