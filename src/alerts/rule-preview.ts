import { windowValue } from './detectors/baseline.js';
import { floorMinute, MINUTE, MinuteSeries, ratioOf } from './detectors/series.js';
import { evaluateThreshold, ruleActive, type ThresholdRule } from './detectors/threshold.js';

/**
 * "Test on the last 7 days": replays a threshold rule over the per-minute series the detection
 * engine holds for a site, minute by minute, with the same evaluation the live engine runs
 * (evaluateThreshold), and says when it would have fired. Pure and in memory.
 */

/** One minute of a metric as DetectionEngine.points() returns it (null: not covered). */
export interface MinutePoint {
  minute: number;
  value: number | null;
}

/** DetectionEngine.points(site, metric, from, to), at most `POINTS_PER_CALL` minutes a call. */
export type PointSource = (metric: string, from: number, to: number) => MinutePoint[];
const POINTS_PER_CALL = 2880;

export interface FiredInterval {
  /** End of the first minute it would have fired at, and of the first minute it would not. */
  start: number;
  end: number;
  /** The most extreme window value while it fired (lowest for < and <=, highest for > and >=). */
  peak: number;
  /** Still firing at the end of the data. */
  open: boolean;
}

export interface RulePreview {
  site: string;
  metric: string;
  op: ThresholdRule['op'];
  threshold: number;
  windowMinutes: number;
  /** Evaluation times covered: window ends from `from` to `to` (epoch ms, whole minutes). */
  from: number;
  to: number;
  /** Minutes where the rule had a verdict (window covered, rule active, ratio defined). */
  evaluated: number;
  firedMinutes: number;
  intervals: FiredInterval[];
  /** Per minute [window end, window value or null], for the chart. */
  series: [number, number | null][];
  /** Why there is nothing to show, when there is not. */
  note?: string;
}

const round = (v: number) => (Number.isInteger(v) ? v : Number(v.toPrecision(6)));

export function previewThresholdRule(input: {
  rule: ThresholdRule;
  site: string;
  points: PointSource;
  /** End of the site's data (the engine's closed minutes end here). */
  to: number;
  days?: number;
}): RulePreview {
  const { rule, site } = input;
  const to = floorMinute(input.to);
  const from = to - (input.days ?? 7) * 24 * 60 * MINUTE;
  const window = rule.windowMinutes * MINUTE;
  const base: RulePreview = {
    site,
    metric: rule.metric,
    op: rule.op,
    threshold: rule.value,
    windowMinutes: rule.windowMinutes,
    from,
    to,
    evaluated: 0,
    firedMinutes: 0,
    intervals: [],
    series: [],
  };
  if (rule.site !== undefined && rule.site !== site)
    return { ...base, note: `the rule is for site "${rule.site}" only` };

  const series = loadSeries(input.points, ratioOf(rule.metric) ?? [rule.metric], from - window, to);
  if (series.minutes === 0) return { ...base, note: 'no per-minute data for this site in the last 7 days' };

  const out = base;
  let current: FiredInterval | null = null;
  const worse = rule.op === '<' || rule.op === '<=' ? Math.min : Math.max;
  for (let end = from + MINUTE; end <= to; end += MINUTE) {
    const v = windowValue(series, rule.metric, end - window, end);
    out.series.push([end, v === null ? null : round(v)]);
    const signal = evaluateThreshold(rule, site, end, series);
    if (signal) {
      out.firedMinutes++;
      const value = signal.value ?? Number.NaN;
      if (current) current.peak = worse(current.peak, value);
      else current = { start: end, end, peak: value, open: false };
    } else if (current) {
      current.end = end;
      out.intervals.push({ ...current, peak: round(current.peak) });
      current = null;
    }
    // The same conditions evaluateThreshold applies before it compares.
    if (v !== null && ruleActive(rule, end - MINUTE)) out.evaluated++;
  }
  if (current) out.intervals.push({ ...current, end: to, peak: round(current.peak), open: true });
  if (out.evaluated === 0)
    out.note = 'the rule had no verdict in the last 7 days (not enough data, or not active in that time)';
  return out;
}

/** Rebuilds the minutes [from, to) of the metrics a rule reads into a series of its own. */
function loadSeries(points: PointSource, metrics: string[], from: number, to: number): MinuteSeries {
  const columns = new Map<string, MinutePoint[]>();
  for (const metric of metrics) {
    const all: MinutePoint[] = [];
    for (let t = from; t < to; t += POINTS_PER_CALL * MINUTE)
      all.push(...points(metric, t, Math.min(to, t + POINTS_PER_CALL * MINUTE)));
    columns.set(metric, all);
  }
  const series = new MinuteSeries();
  const first = columns.get(metrics[0]) ?? [];
  for (let i = 0; i < first.length; i++) {
    const values: Record<string, number> = {};
    let covered = true;
    for (const [metric, column] of columns) {
      const v = column[i]?.value;
      if (v === null || v === undefined) covered = false;
      else values[metric] = v;
    }
    // Only the engine's covered range has values, and it has no holes.
    if (covered) series.append({ minute: first[i].minute, values });
  }
  return series;
}
