import type { DemoIncident } from '../../demo/generator.js';
import type { RootCause } from '../detectors/root-cause.js';
import type { Episode, ReplayResult } from './replay.js';

/**
 * Scores a replay against the demo's labelled incidents: per incident type, how many were
 * detected by the detector meant for them and how fast; per detector, how many episodes
 * began outside every incident (false alarms, per simulated week of normal traffic) and
 * the share that began inside one (precision). Incidents of the first `warmupDays` are not
 * scored (the baselines are still filling), nor are alarms then.
 */

export interface ScoreOptions {
  warmupDays: number;
  /** A detection may come this long after the incident ended (lingering effects, slow windows). */
  lateMs: number;
  /** An episode starting this long after an incident ended is still its doing (recovery), not a false alarm. */
  graceMs: number;
}

export const DEFAULT_SCORE_OPTIONS: ScoreOptions = {
  warmupDays: 7,
  lateMs: 5 * 60_000,
  graceMs: 30 * 60_000,
};

/** The goals of issue 5, in ms. */
export const GOALS = { orderChangeMs: 5 * 60_000, floodMs: 60_000, falseAlarmsPerWeek: 1 };

export interface TypeScore {
  type: string;
  detector: string;
  incidents: number;
  detected: number;
  /** Time to detect of each detected incident, ms. */
  ttd: number[];
  /** Order-rate incidents: root-cause hints that named the injected cause, of those with one. */
  rootCause?: { right: number; of: number };
  /** Incidents of ≥ 30% lasting ≥ 10 min / floods: detected within the goal. */
  withinGoal?: { met: number; of: number; goalMs: number };
  missed: string[];
}

export interface DetectorScore {
  detector: string;
  episodes: number;
  falseAlarms: number;
  precision: number | null;
  examples: string[];
}

export interface Score {
  scoredFrom: number;
  scoredTo: number;
  /** Simulated weeks of normal traffic (scored time outside incidents and their grace). */
  normalWeeks: number;
  types: TypeScore[];
  detectors: DetectorScore[];
  falseAlarmsPerWeek: number;
}

interface IncidentType {
  type: string;
  detector: string;
  matches: (i: DemoIncident) => boolean;
  detects: (e: Episode, i: DemoIncident) => boolean;
}

const orderSignal = (direction: 'drop' | 'spike') => (e: Episode) =>
  e.alertname === 'order_rate_anomaly' &&
  e.labels.direction === direction &&
  ['orders', 'revenue', 'conversion'].includes(e.labels.metric);

const changeOf = (i: DemoIncident) => Math.round((i.magnitude ?? 0) * 100);
const isOrderIncident = (i: DemoIncident) => i.kind === 'order_change' || i.kind === 'order_drop';

const TYPES: IncidentType[] = [
  ...[-30, -50, -90, 50, 100].map((pct) => ({
    type: `order rate ${pct > 0 ? '+' : ''}${pct}%`,
    detector: 'order_rate_anomaly',
    matches: (i: DemoIncident) => isOrderIncident(i) && changeOf(i) === pct,
    detects: orderSignal(pct < 0 ? 'drop' : 'spike'),
  })),
  {
    type: 'request flood (≤ 5 IPs)',
    detector: 'request_flood',
    matches: (i) => i.kind === 'request_flood',
    detects: (e, i) => e.alertname === 'request_flood' && e.labels.network === i.cidr,
  },
  {
    type: 'scraper wave',
    detector: 'bot_wave',
    matches: (i) => i.kind === 'bot_wave' && i.variant === 'scrapers',
    detects: (e) => e.alertname === 'bot_wave',
  },
  {
    type: 'cart bots',
    detector: 'cart_bots',
    matches: (i) => i.kind === 'bot_wave' && i.variant === 'cart_bots',
    detects: (e) => e.alertname === 'cart_bots',
  },
  {
    type: 'payment error spike',
    detector: 'checkout_errors',
    matches: (i) => i.kind === 'error_spike',
    detects: (e) => e.alertname === 'checkout_errors',
  },
  {
    type: 'card testing',
    detector: 'card_testing',
    matches: (i) => i.kind === 'card_testing',
    detects: (e) => e.alertname === 'card_testing',
  },
];

export function score(r: ReplayResult, o: ScoreOptions = DEFAULT_SCORE_OPTIONS): Score {
  const scoredFrom = r.startMs + o.warmupDays * 86_400_000;
  const scoredTo = r.endMs;
  const incidents = r.incidents.filter((i) => i.startMs >= scoredFrom && i.endMs <= scoredTo);
  const types: TypeScore[] = [];
  for (const t of TYPES) {
    const mine = incidents.filter(t.matches);
    const ts: TypeScore = {
      type: t.type,
      detector: t.detector,
      incidents: mine.length,
      detected: 0,
      ttd: [],
      missed: [],
    };
    const goalMs = t.detector === 'request_flood' ? GOALS.floodMs : GOALS.orderChangeMs;
    let met = 0;
    let goalOf = 0;
    let rcRight = 0;
    let rcOf = 0;
    for (const i of mine) {
      const hit = r.episodes.find(
        (e) => t.detects(e, i) && e.start >= i.startMs - 60_000 && e.start <= i.endMs + o.lateMs,
      );
      const inGoal =
        t.detector === 'request_flood' ||
        (t.detector === 'order_rate_anomaly' &&
          Math.abs(i.magnitude ?? 0) >= 0.3 &&
          i.endMs - i.startMs >= 10 * 60_000);
      if (inGoal) goalOf++;
      if (!hit) {
        ts.missed.push(
          `${i.id} (${new Date(i.startMs).toISOString().slice(0, 16)}Z, ${(i.endMs - i.startMs) / 60_000} min)`,
        );
        continue;
      }
      ts.detected++;
      const ttd = Math.max(0, hit.start - i.startMs);
      ts.ttd.push(ttd);
      if (inGoal && ttd <= goalMs) met++;
      const expect = i.segment?.expect;
      if (t.detector === 'order_rate_anomaly' && expect) {
        rcOf++;
        if (namesCause(hit, expect)) rcRight++;
      }
    }
    if (goalOf > 0) ts.withinGoal = { met, of: goalOf, goalMs };
    if (rcOf > 0) ts.rootCause = { right: rcRight, of: rcOf };
    types.push(ts);
  }

  // False alarms: episodes beginning outside every incident window of the scored period.
  const windows = r.incidents.map((i) => [i.startMs - 60_000, i.endMs + o.graceMs] as const);
  const inIncident = (t: number) => windows.some(([a, b]) => t >= a && t <= b);
  const scored = r.episodes.filter((e) => e.start >= scoredFrom && e.start < scoredTo);
  const detectors = new Map<string, DetectorScore>();
  for (const e of scored) {
    const name =
      e.alertname === 'order_rate_anomaly' ? `order_rate_anomaly (${e.labels.metric})` : e.alertname;
    const d = detectors.get(name) ?? {
      detector: name,
      episodes: 0,
      falseAlarms: 0,
      precision: null,
      examples: [],
    };
    d.episodes++;
    if (!inIncident(e.start)) {
      d.falseAlarms++;
      if (d.examples.length < 5)
        d.examples.push(`${new Date(e.start).toISOString().slice(0, 16)}Z ${e.summary}`);
    }
    detectors.set(name, d);
  }
  for (const d of detectors.values())
    d.precision = d.episodes > 0 ? (d.episodes - d.falseAlarms) / d.episodes : null;
  const normalMs = normalTime(scoredFrom, scoredTo, windows);
  const normalWeeks = normalMs / (7 * 86_400_000);
  const falseAlarms = [...detectors.values()].reduce((s, d) => s + d.falseAlarms, 0);
  return {
    scoredFrom,
    scoredTo,
    normalWeeks,
    types,
    detectors: [...detectors.values()].sort((a, b) => a.detector.localeCompare(b.detector)),
    falseAlarmsPerWeek: normalWeeks > 0 ? falseAlarms / normalWeeks : 0,
  };
}

function namesCause(e: Episode, expect: { dimension: string; values: string[] }): boolean {
  const rc = e.evidence?.rootCause as RootCause | undefined;
  if (!rc) return false;
  if (expect.dimension === 'funnel') {
    const top = [...rc.funnel].sort((a, b) => Math.abs(b.change) - Math.abs(a.change))[0];
    return top !== undefined && expect.values.includes(top.step);
  }
  const first = rc.segments[0];
  return first !== undefined && first.dimension === expect.dimension && expect.values.includes(first.value);
}

/** Time in [from, to) outside the windows. */
function normalTime(from: number, to: number, windows: readonly (readonly [number, number])[]): number {
  const clipped = windows
    .map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let covered = 0;
  let cursor = from;
  for (const [a, b] of clipped) {
    const start = Math.max(a, cursor);
    if (b > start) covered += b - start;
    cursor = Math.max(cursor, b);
  }
  return to - from - covered;
}

const median = (xs: number[]) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const duration = (ms: number | null) =>
  ms === null ? '–' : ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 60_000).toFixed(1)} min`;

/** The score as Markdown tables (the format of docs/DETECTION.md). */
export function formatScore(s: Score): string {
  const lines: string[] = [];
  lines.push(
    '| incident type | detector | incidents | detected | recall | median time to detect | max time to detect | within goal | root cause named |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const t of s.types) {
    const recall = t.incidents > 0 ? `${Math.round((t.detected / t.incidents) * 100)}%` : '–';
    const goal = t.withinGoal
      ? `${t.withinGoal.met}/${t.withinGoal.of} (≤ ${duration(t.withinGoal.goalMs)})`
      : '–';
    const rc = t.rootCause ? `${t.rootCause.right}/${t.rootCause.of}` : '–';
    lines.push(
      `| ${t.type} | ${t.detector} | ${t.incidents} | ${t.detected} | ${recall} | ${duration(median(t.ttd))} | ${duration(t.ttd.length ? Math.max(...t.ttd) : null)} | ${goal} | ${rc} |`,
    );
  }
  lines.push('');
  lines.push(
    `| detector | episodes | false alarms | false alarms / week | precision |`,
    '|---|---:|---:|---:|---:|',
  );
  for (const d of s.detectors)
    lines.push(
      `| ${d.detector} | ${d.episodes} | ${d.falseAlarms} | ${(d.falseAlarms / Math.max(s.normalWeeks, 1e-9)).toFixed(2)} | ${d.precision === null ? '–' : `${Math.round(d.precision * 100)}%`} |`,
    );
  const total = s.detectors.reduce((a, d) => a + d.episodes, 0);
  const fa = s.detectors.reduce((a, d) => a + d.falseAlarms, 0);
  lines.push(
    `| **all** | ${total} | ${fa} | ${s.falseAlarmsPerWeek.toFixed(2)} | ${total > 0 ? `${Math.round(((total - fa) / total) * 100)}%` : '–'} |`,
  );
  lines.push('');
  lines.push(
    `Scored ${new Date(s.scoredFrom).toISOString().slice(0, 10)} – ${new Date(s.scoredTo).toISOString().slice(0, 10)}: ${s.normalWeeks.toFixed(2)} simulated weeks of normal traffic (outside incidents and 30 min after them).`,
  );
  return lines.join('\n');
}

/** Misses and false alarms, one a line, for --details. */
export function formatDetails(s: Score): string {
  const lines: string[] = [];
  for (const t of s.types) for (const m of t.missed) lines.push(`missed  ${t.type}: ${m}`);
  for (const d of s.detectors) for (const x of d.examples) lines.push(`false alarm  ${d.detector}: ${x}`);
  return lines.join('\n');
}
