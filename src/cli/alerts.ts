import { writeFileSync } from 'node:fs';
import { DEFAULT_ORDER_RATE, SENSITIVITY } from '../alerts/detectors/order-rate.js';
import { replayDemo } from '../alerts/scoring/replay.js';
import {
  DEFAULT_SCORE_OPTIONS,
  formatDetails,
  formatScore,
  GOALS,
  type Score,
  score,
} from '../alerts/scoring/scoring.js';
import { DEFAULT_SETTINGS } from '../alerts/site-detection.js';
import { progressBar } from './progress.js';

export interface ScoreCliOptions {
  days: number;
  eventsPerDay: number;
  conversion: number;
  seed: number;
  warmupDays: number;
  sensitivity: keyof typeof SENSITIVITY;
  rawIps: boolean;
  details: boolean;
  json?: string;
  progress: boolean;
}

/**
 * `storepulse alerts score`: replays the demo store's labelled backfill through the detectors
 * (the same code the server runs) and prints recall, time to detect, false alarms per week
 * and precision per incident type, and whether the goals of issue 5 are met.
 */
export async function alertsScore(o: ScoreCliOptions): Promise<number> {
  for (const [name, v, min] of [
    ['--days', o.days, o.warmupDays + 1],
    ['--events-per-day', o.eventsPerDay, 1000],
    ['--conversion', o.conversion, 0.1],
  ] as const) {
    if (!Number.isFinite(v) || v < min) {
      console.error(`storepulse: ${name} must be a number ≥ ${min}, got ${v}`);
      return 2;
    }
  }
  const settings = {
    ...DEFAULT_SETTINGS,
    orderRate: { ...DEFAULT_ORDER_RATE, z: SENSITIVITY[o.sensitivity] },
  };
  const bar = o.progress
    ? progressBar(`replaying ${o.days} days of the demo store`, { unit: 'events' })
    : null;
  const replay = await replayDemo({
    days: o.days,
    eventsPerDay: o.eventsPerDay,
    conversion: o.conversion,
    seed: o.seed,
    anonymizeIp: !o.rawIps,
    settings,
    onProgress: (f, n) => bar?.update(f, n),
  });
  bar?.done();
  const s = score(replay, { ...DEFAULT_SCORE_OPTIONS, warmupDays: o.warmupDays });
  console.log(
    `Demo store: seed ${o.seed}, ${o.days} days from ${new Date(replay.startMs).toISOString().slice(0, 10)}, ` +
      `${replay.events.toLocaleString('en-US')} events (${Math.round(replay.events / o.days).toLocaleString('en-US')}/day, conversion ×${o.conversion}), ` +
      `replayed in ${(replay.elapsedMs / 1000).toFixed(0)} s; sensitivity ${o.sensitivity}; first ${o.warmupDays} days are warm-up.\n`,
  );
  console.log(formatScore(s));
  console.log(`\n${goals(s)}`);
  if (o.details) console.log(`\n${formatDetails(s)}`);
  if (o.json) writeFileSync(o.json, JSON.stringify({ options: o, score: s, replay }, null, 1));
  return 0;
}

function goals(s: Score): string {
  const sum = (pick: (t: Score['types'][number]) => boolean) => {
    let met = 0;
    let of = 0;
    for (const t of s.types) {
      if (!pick(t) || !t.withinGoal) continue;
      met += t.withinGoal.met;
      of += t.withinGoal.of;
    }
    return { met, of };
  };
  const orders = sum((t) => t.detector === 'order_rate_anomaly');
  const floods = sum((t) => t.detector === 'request_flood');
  const line = (ok: boolean, text: string) => `${ok ? 'met    ' : 'NOT MET'}  ${text}`;
  return [
    'Goals (issue 5):',
    line(
      orders.of > 0 && orders.met === orders.of,
      `order-rate changes of ≥ 30% lasting ≥ 10 min detected within 5 min: ${orders.met}/${orders.of}`,
    ),
    line(
      s.falseAlarmsPerWeek <= GOALS.falseAlarmsPerWeek,
      `at most 1 false alarm per simulated week of normal traffic: ${s.falseAlarmsPerWeek.toFixed(2)}`,
    ),
    line(
      floods.of > 0 && floods.met === floods.of,
      `floods from ≤ 5 IPs flagged within 1 min: ${floods.met}/${floods.of}`,
    ),
  ].join('\n');
}

export interface PowerCliOptions {
  change: number;
  minutes: number;
  runs: number;
  orders: string;
  sensitivity: keyof typeof SENSITIVITY;
}

/** `storepulse alerts power`: time to detect an order-rate change by store volume (synthetic Poisson orders). */
export async function alertsPower(o: PowerCliOptions): Promise<number> {
  const volumes = o.orders.split(',').map(Number);
  if (
    volumes.some((v) => !(v > 0)) ||
    !(o.change > -1 && o.change !== 0) ||
    !(o.minutes >= 1) ||
    !(o.runs >= 1)
  ) {
    console.error(
      'storepulse: --orders takes positive numbers (e.g. 5,10,20), --change a share above -1 (e.g. -0.3)',
    );
    return 2;
  }
  const { detectionPower } = await import('../alerts/scoring/power.js');
  const options = { ...DEFAULT_ORDER_RATE, z: SENSITIVITY[o.sensitivity] };
  console.log(
    `Change ${o.change > 0 ? '+' : ''}${Math.round(o.change * 100)}% for ${o.minutes} min at 15:00 on a weekday, ${o.runs} runs per volume, sensitivity ${o.sensitivity}.\n`,
  );
  console.log(
    '| orders/min (mean) | orders/min at the incident | detected | median time to detect | slowest |',
  );
  console.log('|---:|---:|---:|---:|---:|');
  for (const v of volumes) {
    const r = detectionPower({
      ordersPerMinute: v,
      change: o.change,
      minutes: o.minutes,
      runs: o.runs,
      options,
    });
    const d = [...r.delays].sort((a, b) => a - b);
    const med = d.length ? `${d[d.length >> 1]} min` : '–';
    console.log(
      `| ${v} | ${r.ordersAtIncident.toFixed(1)} | ${r.detected}/${r.runs} | ${med} | ${d.length ? `${d[d.length - 1]} min` : '–'} |`,
    );
  }
  return 0;
}
