import { buildCatalogue } from './catalogue.js';
import { isoTime } from './csv.js';
import { cardTest, cartBotSession, floodRequests } from './incident-sessions.js';
import {
  activeIncident,
  BOT_WAVE_MULTIPLIER,
  CARD_TESTS_PER_MINUTE,
  CART_BOTS_PER_MINUTE,
  type DemoIncident,
  demoIncidents,
  FLOOD_MULTIPLIER,
} from './incidents.js';
import { gaussian, hashSeed, mulberry32, poisson, reseedableRng } from './prng.js';
import {
  botSession,
  type DemoItem,
  type PlannedEvent,
  type SessionEnv,
  shopperSession,
  toDemoItem,
} from './session.js';

/**
 * The demo store's traffic over a time range, in time order. Time is cut into minutes; each
 * minute gets its own seeded generator and a Poisson number of new sessions following the
 * daily and weekly rhythm. A session's later events are parked under their own minute and
 * released once that minute is reached, so memory holds only visits still in progress, and a
 * minute's new sessions depend only on the seed and the minute, not on where the range starts.
 */

export { type DemoIncident, demoIncidents } from './incidents.js';
export type { DemoItem } from './session.js';

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
  /** Produce only these event types; cheaper than filtering afterwards (the CSV export keeps product events). */
  types?: ReadonlySet<string>;
  /**
   * Multiplies each visit's chance to add to cart, and so the orders per event (default 1:
   * ~0.6% of events are purchase rows; 2.5 gives REES46's ~1.5%).
   */
  conversion?: number;
  /** `time` as ISO-8601 text (default) or epoch ms (both valid WireEvent times; ms is cheaper for bulk export). */
  timeFormat?: 'iso' | 'ms';
}

export const DEFAULT_SITE_URL = 'https://demo-store.example';
/** Mean events per session over shoppers and bots, measured on the model (see generator.test.ts). */
export const EVENTS_PER_SESSION = 5.5;
/** Share of sessions that are crawlers or scrapers; they bring ~20% of events, as on real shops. */
const BOT_SHARE = 0.012;
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

/** How much busier or quieter a whole day runs than usual (weather, news, pay day): ±7% or so. */
const DAY_LEVEL_SIGMA = 0.07;

/**
 * The day-to-day level at `ms` for a seed (mean ~1), blended linearly between day middles so
 * there is no jump at midnight. Detectors must take it in stride: it is not an incident.
 */
export function dayLevel(seed: number, ms: number): number {
  const days = ms / DAY - 0.5;
  const d0 = Math.floor(days);
  const frac = days - d0;
  const level = (d: number) => Math.exp(DAY_LEVEL_SIGMA * gaussian(mulberry32(hashSeed(seed, 0xda7, d))));
  return level(d0) * (1 - frac) + level(d0 + 1) * frac;
}

export function* generateDemo(opts: GenerateOptions): Generator<DemoItem> {
  const iso = opts.timeFormat !== 'ms';
  for (const planned of plannedEvents(opts)) yield toDemoItem(planned, iso ? isoTime(planned.t) : planned.t);
}

/** The events before they become WireEvents, in time order: the CSV export's fast path reads these. */
export function* plannedEvents(opts: GenerateOptions): Generator<PlannedEvent> {
  if (!(opts.eventsPerDay > 0)) throw new RangeError(`eventsPerDay must be > 0, got ${opts.eventsPerDay}`);
  const start = Math.floor(opts.startMs);
  const end = opts.endMs ?? Number.POSITIVE_INFINITY;
  const days = Number.isFinite(end) ? Math.max(1, Math.ceil((end - start) / DAY)) : 7;
  const incidents = opts.incidents ?? demoIncidents(start, days, opts.seed);
  const sessionsPerMinute = opts.eventsPerDay / EVENTS_PER_SESSION / 1440;
  const pending = new Map<number, PlannedEvent[]>();
  const env: SessionEnv = {
    seed: opts.seed,
    catalogue: buildCatalogue(opts.seed),
    incidents,
    siteUrl: opts.siteUrl ?? DEFAULT_SITE_URL,
    // About three days of sessions: enough slots that loyal customers return and new ones keep arriving.
    poolSize: Math.max(1000, Math.round(sessionsPerMinute * 1440 * 3)),
    conversion: opts.conversion ?? 1,
    types: opts.types,
    emit(planned) {
      if (planned.t >= end) return;
      const minute = Math.floor(planned.t / MINUTE);
      const list = pending.get(minute);
      if (list) list.push(planned);
      else pending.set(minute, [planned]);
    },
  };

  const minuteRng = reseedableRng();
  const rng = minuteRng.rng;
  for (let minute = Math.floor(start / MINUTE); minute * MINUTE < end; minute++) {
    const minuteStart = minute * MINUTE;
    minuteRng.reseed(hashSeed(opts.seed, minute)); // per minute: a minute's traffic does not depend on the range start
    const expected =
      sessionsPerMinute *
      trafficFactor(minuteStart + MINUTE / 2) *
      dayLevel(opts.seed, minuteStart + MINUTE / 2);
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
    // Incidents that bring visitors of their own, drawn after the regular ones so those stay the same.
    const surge = activeIncident(incidents, 'order_change', minuteStart);
    if (surge && (surge.magnitude ?? 0) > 0 && surge.segment?.source) {
      const campaign = { source: surge.segment.source, label: surge.id };
      for (let i = poisson(rng, expected * (1 - BOT_SHARE) * surge.magnitude!); i > 0; i--)
        shopperSession(rng, env, minuteStart + rng() * MINUTE, campaign);
    }
    const wave = activeIncident(incidents, 'bot_wave', minuteStart);
    if (wave?.variant === 'cart_bots')
      for (let i = poisson(rng, CART_BOTS_PER_MINUTE); i > 0; i--)
        cartBotSession(rng, env, wave, minuteStart + rng() * MINUTE);
    else if (wave)
      for (let i = poisson(rng, expected * BOT_SHARE * BOT_WAVE_MULTIPLIER); i > 0; i--)
        botSession(rng, env, minuteStart + rng() * MINUTE, wave);
    const cards = activeIncident(incidents, 'card_testing', minuteStart);
    if (cards)
      for (let i = poisson(rng, CARD_TESTS_PER_MINUTE); i > 0; i--)
        cardTest(rng, env, cards, minuteStart + rng() * MINUTE);

    const due = pending.get(minute);
    if (due === undefined) continue;
    pending.delete(minute);
    // Stable sort: ties keep their generation order, so the output stays deterministic.
    due.sort((a, b) => a.t - b.t);
    for (const planned of due) {
      if (planned.t < start) continue; // the first minute began before the range
      yield planned;
    }
  }
}
