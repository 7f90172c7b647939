import {
  addBreakdown,
  type Breakdown,
  type BreakdownSource,
  MINUTE,
  medianMad,
  type SegmentCounts,
  type SeriesView,
} from './series.js';

/**
 * Root-cause hint for an order-rate anomaly: break the metric down by dimension (device,
 * browser, os, traffic source, category, IP /16) and name the segments that explain most of
 * the change between the anomalous window and its baseline (the same window on the reference
 * weeks, scaled by the trend). It follows Adtributor (Bhagwan et al., NSDI 2014): within each
 * dimension pick the most surprising segments until they explain most of the change, then
 * rank dimensions by surprise. The checkout funnel (carts, checkouts, payment errors, orders)
 * is compared too, which points at the step that broke.
 */

export interface SegmentHint {
  dimension: string;
  value: string;
  actual: number;
  expected: number;
  /** Relative change of the segment. */
  change: number;
  /** Share of the total change this segment accounts for. */
  explains: number;
}

export interface FunnelStep {
  step: string;
  actual: number;
  expected: number;
  change: number;
}

export interface RootCause {
  segments: SegmentHint[];
  /** True when no dimension concentrates the change: it is spread over all segments. */
  broad: boolean;
  funnel: FunnelStep[];
  summary: string;
}

export interface ExplainInput {
  metric: 'orders' | 'revenue' | 'conversion';
  end: number;
  minutes: number;
  offsets: number[];
  /** Multiplies the baseline (the trend factor). */
  scale: number;
  series: SeriesView;
  breakdowns: BreakdownSource;
}

// Adtributor's thresholds: a segment must explain ≥ 10% of the change, a dimension's chosen segments ≥ 60%.
const MIN_SEGMENT_SHARE = 0.1;
const MIN_DIMENSION_SHARE = 0.6;
const MAX_SEGMENTS = 3;
/** Below this total surprise the change is spread evenly: no segment stands out. */
const MIN_SURPRISE = 0.01;
const FUNNEL: [string, string][] = [
  ['carts', 'carts'],
  ['checkouts', 'checkouts'],
  ['payment errors', 'errors.checkout'],
  ['orders', 'orders'],
];

export function explainChange(input: ExplainInput): RootCause {
  const { end, minutes, offsets, scale } = input;
  const from = end - minutes * MINUTE;
  const actual = input.breakdowns.breakdown(from, end);
  const past = offsets.map((off) => input.breakdowns.breakdown(from - off, end - off));
  const candidates: { dimension: string; surprise: number; chosen: SegmentHint[] }[] = [];
  for (const dimension of Object.keys(actual)) {
    const rows = segmentRows(
      input.metric,
      actual[dimension],
      past.map((p) => p[dimension] ?? {}),
      scale,
    );
    if (!rows) continue;
    const picked = pickSegments(rows);
    if (picked)
      candidates.push({
        dimension,
        surprise: picked.surprise,
        chosen: picked.chosen.map((h) => ({ ...h, dimension })),
      });
  }
  candidates.sort((a, b) => b.surprise - a.surprise);
  const best = candidates[0];
  const broad = !best || best.surprise < MIN_SURPRISE;
  const segments = broad ? [] : candidates.slice(0, 2).flatMap((c) => c.chosen.slice(0, MAX_SEGMENTS));
  const funnel = funnelSteps(input);
  return { segments, broad, funnel, summary: describe(segments, broad, funnel) };
}

interface Row {
  value: string;
  actual: number;
  expected: number;
  surprise: number;
}

/** Per segment: actual and expected value of the metric, and its surprise (Jensen–Shannon term). */
function segmentRows(
  metric: ExplainInput['metric'],
  now: Record<string, SegmentCounts>,
  past: Record<string, SegmentCounts>[],
  scale: number,
): Row[] | null {
  const values = new Set([...Object.keys(now), ...past.flatMap((p) => Object.keys(p))]);
  const rows: Row[] = [];
  for (const value of values) {
    const a = now[value] ?? [0, 0, 0];
    const pastOf = (i: number) => medianMad(past.map((p) => p[value]?.[i] ?? 0)).median;
    if (metric === 'conversion') {
      // Orders this segment should have brought from the sessions it actually had.
      const sessions = past.reduce((s, p) => s + (p[value]?.[0] ?? 0), 0);
      const orders = past.reduce((s, p) => s + (p[value]?.[1] ?? 0), 0);
      if (sessions <= 0 && a[0] <= 0) continue;
      const rate = sessions > 0 ? orders / sessions : 0;
      rows.push({ value, actual: a[1], expected: a[0] * rate * scale, surprise: 0 });
    } else {
      const i = metric === 'orders' ? 1 : 2;
      rows.push({ value, actual: a[i], expected: pastOf(i) * scale, surprise: 0 });
    }
  }
  const totalA = rows.reduce((s, r) => s + r.actual, 0);
  const totalE = rows.reduce((s, r) => s + r.expected, 0);
  if (totalE <= 0 && totalA <= 0) return null;
  for (const r of rows) {
    const p = totalE > 0 ? r.expected / totalE : 0;
    const q = totalA > 0 ? r.actual / totalA : 0;
    r.surprise = jsTerm(p, q);
  }
  return rows;
}

function jsTerm(p: number, q: number): number {
  const m = (p + q) / 2;
  const part = (x: number) => (x > 0 ? 0.5 * x * Math.log(x / m) : 0);
  return part(p) + part(q);
}

function pickSegments(rows: Row[]): { surprise: number; chosen: SegmentHint[] } | null {
  const delta = rows.reduce((s, r) => s + r.actual - r.expected, 0);
  if (delta === 0) return null;
  const chosen: SegmentHint[] = [];
  let explained = 0;
  let surprise = 0;
  for (const r of [...rows].sort((a, b) => b.surprise - a.surprise)) {
    const share = (r.actual - r.expected) / delta;
    if (share < MIN_SEGMENT_SHARE) continue;
    chosen.push({
      dimension: '',
      value: r.value,
      actual: round(r.actual),
      expected: round(r.expected),
      change: r.expected > 0 ? round((r.actual - r.expected) / r.expected) : r.actual > 0 ? 1 : 0,
      explains: round(share),
    });
    explained += share;
    surprise += r.surprise;
    if (explained >= MIN_DIMENSION_SHARE || chosen.length === MAX_SEGMENTS) break;
  }
  if (explained < MIN_DIMENSION_SHARE) return null;
  return { surprise, chosen };
}

function funnelSteps(input: ExplainInput): FunnelStep[] {
  const { series, end, minutes, offsets, scale } = input;
  const from = end - minutes * MINUTE;
  const steps: FunnelStep[] = [];
  for (const [step, metric] of FUNNEL) {
    const actual = series.sum(metric, from, end);
    if (actual === null) continue;
    const usual = offsets.map((off) => series.sum(metric, from - off, end - off) ?? 0);
    const expected = medianMad(usual).median * scale;
    if (actual === 0 && expected < 0.5) continue;
    steps.push({
      step,
      actual: round(actual),
      expected: round(expected),
      change: round((actual - expected) / Math.max(expected, 1)),
    });
  }
  return steps;
}

function describe(segments: SegmentHint[], broad: boolean, funnel: FunnelStep[]): string {
  const parts: string[] = [];
  if (segments.length > 0) {
    const top = segments
      .filter((s) => s.dimension === segments[0].dimension)
      .map(
        (s) => `${s.dimension}=${s.value} (${pct(s.change)}, ${Math.round(s.explains * 100)}% of the change)`,
      );
    parts.push(`mostly ${top.join(', ')}`);
  } else if (broad) {
    parts.push('spread over all segments');
  }
  const step = [...funnel].sort((a, b) => Math.abs(b.change) - Math.abs(a.change))[0];
  if (step && Math.abs(step.change) >= 0.5 && step.step !== 'orders')
    parts.push(`${step.step} ${pct(step.change)} (${step.actual} vs ${step.expected})`);
  return parts.join('; ');
}

const pct = (change: number) => `${change >= 0 ? '+' : ''}${Math.round(change * 100)}%`;
const round = (v: number) => Math.round(v * 1000) / 1000;

/** Breakdowns kept in memory, e.g. when scoring a replay (as JSON text: weeks of minutes stay small). */
export class MemoryBreakdowns implements BreakdownSource {
  private readonly minutes = new Map<number, string>();

  put(minute: number, b: Breakdown): void {
    this.minutes.set(minute, JSON.stringify(b));
  }

  breakdown(from: number, to: number): Breakdown {
    const out: Breakdown = {};
    for (let m = from; m < to; m += MINUTE) {
      const b = this.minutes.get(m);
      if (b) addBreakdown(out, JSON.parse(b) as Breakdown);
    }
    return out;
  }

  trimBefore(minute: number): void {
    for (const m of this.minutes.keys()) if (m < minute) this.minutes.delete(m);
  }

  /** Every minute held, as JSON text (to save a replay for later inspection). */
  entries(): IterableIterator<[number, string]> {
    return this.minutes.entries();
  }
}
