import { buildCatalogue } from './catalogue.js';
import { isoTime } from './csv.js';
import { activeIncident, type DemoIncident, demoIncidents, FLOOD_MULTIPLIER } from './incidents.js';
import { hashSeed, mulberry32, poisson } from './prng.js';
import { botSession, type DemoItem, floodRequests, type SessionEnv, shopperSession } from './session.js';

/**
 * The demo store's traffic over a time range, in time order. Time is cut into minutes; each
 * minute gets its own seeded generator and a Poisson number of new sessions following the
 * daily and weekly rhythm. A session's later events are parked under their own minute and
 * released once that minute is reached, so memory holds only visits still in progress and
 * the same seed gives the same events for a minute whatever range it is generated in.
 */

export type { DemoItem } from './session.js';
export { type DemoIncident, demoIncidents } from './incidents.js';

export interface GenerateOptions {
  startMs: number;
  /** Exclusive; omit for an endless stream (live mode stops by itself). */
  endMs?: number;
  seed: number;
  /** Average events per day over a week, before incidents add their own. */
  eventsPerDay: number;
  /** Default: demoIncidents(startMs, days in range (7 if endless), seed). Pass [] for none. */
  incidents?: DemoIncident[];
  siteUrl?: string;
}

export const DEFAULT_SITE_URL = 'https://demo-store.example';
/** Mean events per session over shoppers and bots, measured on the model (see generator.test.ts). */
export const EVENTS_PER_SESSION = 7.6;
/** Share of sessions that are crawlers or scrapers; they bring ~20% of events, as on real shops. */
const BOT_SHARE = 0.015;
const MINUTE = 60_000;
const DAY = 86_400_000;

// Relative traffic per hour of day (the store's clock is UTC): night low, evening peak.
const HOURLY = [
  0.35, 0.25, 0.18, 0.15, 0.15, 0.2, 0.35, 0.6, 0.85, 1.0, 1.1, 1.15, 1.2, 1.15, 1.1, 1.1, 1.15, 1.25, 1.45,
  1.65, 1.75, 1.6, 1.2, 0.7,
];
// Sunday first (Date#getUTCDay): weekends are busier.
const WEEKDAY = [1.2, 0.95, 0.92, 0.92, 0.95, 1.0, 1.15];
const HOURLY_MEAN = HOURLY.reduce((a, b) => a + b) / HOURLY.length;
const WEEKDAY_MEAN = WEEKDAY.reduce((a, b) => a + b) / WEEKDAY.length;

/** Traffic at `ms` relative to the weekly average (mean 1), interpolated so hours blend smoothly. */
export function trafficFactor(ms: number): number {
  const hours = (ms % DAY) / 3_600_000 - 0.5; // profile values sit at the middle of their hour
  const h0 = Math.floor(hours);
  const frac = hours - h0;
  const hourly = HOURLY[(h0 + 24) % 24] * (1 - frac) + HOURLY[(h0 + 25) % 24] * frac;
  const weekday = WEEKDAY[new Date(ms).getUTCDay()];
  return (hourly / HOURLY_MEAN) * (weekday / WEEKDAY_MEAN);
}

export function* generateDemo(opts: GenerateOptions): Generator<DemoItem> {
  if (!(opts.eventsPerDay > 0)) throw new RangeError(`eventsPerDay must be > 0, got ${opts.eventsPerDay}`);
  const start = Math.floor(opts.startMs);
  const end = opts.endMs ?? Number.POSITIVE_INFINITY;
  const days = Number.isFinite(end) ? Math.max(1, Math.ceil((end - start) / DAY)) : 7;
  const incidents = opts.incidents ?? demoIncidents(start, days, opts.seed);
  const sessionsPerMinute = opts.eventsPerDay / EVENTS_PER_SESSION / 1440;
  const pending = new Map<number, { t: number; item: DemoItem }[]>();
  const env: SessionEnv = {
    seed: opts.seed,
    catalogue: buildCatalogue(opts.seed),
    incidents,
    siteUrl: opts.siteUrl ?? DEFAULT_SITE_URL,
    // About three days of sessions: enough slots that loyal customers return and new ones keep arriving.
    poolSize: Math.max(1000, Math.round(sessionsPerMinute * 1440 * 3)),
    emit(t, item) {
      if (t >= end) return;
      const minute = Math.floor(t / MINUTE);
      const list = pending.get(minute);
      if (list) list.push({ t, item });
      else pending.set(minute, [{ t, item }]);
    },
  };

  for (let minute = Math.floor(start / MINUTE); minute * MINUTE < end; minute++) {
    const minuteStart = minute * MINUTE;
    const rng = mulberry32(hashSeed(opts.seed, minute));
    const expected = sessionsPerMinute * trafficFactor(minuteStart + MINUTE / 2);
    const sessions = poisson(rng, expected);
    for (let i = 0; i < sessions; i++) {
      const t = minuteStart + rng() * MINUTE;
      if (rng() < BOT_SHARE) botSession(rng, env, t);
      else shopperSession(rng, env, t);
    }
    const flood = activeIncident(incidents, 'request_flood', minuteStart);
    if (flood)
      floodRequests(
        rng,
        env,
        flood,
        minuteStart,
        poisson(rng, FLOOD_MULTIPLIER * expected * EVENTS_PER_SESSION),
      );

    const due = pending.get(minute);
    if (due === undefined) continue;
    pending.delete(minute);
    due.sort((a, b) => a.t - b.t); // stable: ties keep their generation order, so output stays deterministic
    for (const { t, item } of due) {
      if (t < start) continue; // the first minute began before the range
      item.event.time = isoTime(t);
      yield item;
    }
  }
}
