import { MINUTE } from '../../alerts/detectors/series.js';
import { type Histogram, merge, quantile } from './latency-histogram.js';
import type { LogMetricsStore } from './log-metrics-store.js';

/**
 * Log metrics over a time range, per step (a whole number of minutes), in total and broken
 * down by host or path group. Percentiles come from the merged response-time histograms of
 * every minute and row in a step.
 */

export interface MetricsPoint {
  /** Start of the step, epoch ms. */
  t: number;
  requests: number;
  s2xx: number;
  s3xx: number;
  s4xx: number;
  s5xx: number;
  bytes: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  loginFailures: number;
}

export interface MetricsRequest {
  site: string;
  from: number;
  to: number;
  by?: 'host' | 'path_group' | null;
  /** Step in ms (a multiple of a minute); default: the range in at most 120 steps. */
  step?: number | null;
  /** Most series of a breakdown (the busiest), the rest summed as `other`. */
  limit?: number;
}

export interface MetricsResponse {
  from: number;
  to: number;
  step: number;
  by: 'host' | 'path_group' | null;
  total: MetricsPoint[];
  series: { key: string; requests: number; points: MetricsPoint[] }[];
}

const MAX_POINTS = 1440;

export function chooseStep(from: number, to: number, step?: number | null): number {
  const span = Math.max(MINUTE, to - from);
  const minimum = Math.ceil(span / MAX_POINTS / MINUTE) * MINUTE;
  if (step) return Math.max(minimum, Math.ceil(step / MINUTE) * MINUTE);
  const nice = [1, 2, 5, 10, 15, 30, 60, 120, 360, 720, 1440].map((m) => m * MINUTE);
  return nice.find((s) => span / s <= 120) ?? Math.max(minimum, 1440 * MINUTE);
}

interface Acc {
  counts: Omit<MetricsPoint, 't' | 'p50' | 'p95' | 'p99'>;
  hist: Histogram;
}

const emptyAcc = (): Acc => ({
  counts: { requests: 0, s2xx: 0, s3xx: 0, s4xx: 0, s5xx: 0, bytes: 0, loginFailures: 0 },
  hist: {},
});

export function logMetrics(store: LogMetricsStore, r: MetricsRequest): MetricsResponse {
  const step = chooseStep(r.from, r.to, r.step);
  // Steps start at `from` (to the minute), so a step as long as the range gives one point for it.
  const from = Math.floor(r.from / MINUTE) * MINUTE;
  const to = r.to;
  const by = r.by ?? null;
  const steps = Math.max(1, Math.ceil((to - from) / step));
  const total: Acc[] = Array.from({ length: steps }, emptyAcc);
  const keyed = new Map<string, Acc[]>();
  for (const row of store.rows(r.site, from, to)) {
    const i = Math.floor((row.minute - from) / step);
    if (i < 0 || i >= steps) continue;
    const accs = [total[i]];
    if (by) {
      const key = by === 'host' ? row.host : row.pathGroup;
      let list = keyed.get(key);
      if (!list) {
        list = Array.from({ length: steps }, emptyAcc);
        keyed.set(key, list);
      }
      accs.push(list[i]);
    }
    for (const a of accs) {
      a.counts.requests += row.requests;
      a.counts.s2xx += row.s2xx;
      a.counts.s3xx += row.s3xx;
      a.counts.s4xx += row.s4xx;
      a.counts.s5xx += row.s5xx;
      a.counts.bytes += row.bytes;
      a.counts.loginFailures += row.loginFailures;
      merge(a.hist, row.hist);
    }
  }
  const points = (accs: Acc[]): MetricsPoint[] =>
    accs.map((a, i) => ({
      t: from + i * step,
      ...a.counts,
      p50: quantile(a.hist, 0.5),
      p95: quantile(a.hist, 0.95),
      p99: quantile(a.hist, 0.99),
    }));
  const limit = r.limit ?? 10;
  const ranked = [...keyed.entries()]
    .map(([key, accs]) => ({ key, accs, requests: accs.reduce((n, a) => n + a.counts.requests, 0) }))
    .sort((a, b) => b.requests - a.requests || a.key.localeCompare(b.key));
  if (ranked.length > limit) {
    const rest = ranked.splice(limit - 1);
    const other: Acc[] = Array.from({ length: steps }, emptyAcc);
    for (const s of rest)
      s.accs.forEach((a, i) => {
        for (const k of Object.keys(a.counts) as (keyof Acc['counts'])[]) other[i].counts[k] += a.counts[k];
        merge(other[i].hist, a.hist);
      });
    ranked.push({ key: '(rest)', accs: other, requests: rest.reduce((n, s) => n + s.requests, 0) });
  }
  return {
    from,
    to,
    step,
    by,
    total: points(total),
    series: ranked.map((s) => ({ key: s.key, requests: s.requests, points: points(s.accs) })),
  };
}
