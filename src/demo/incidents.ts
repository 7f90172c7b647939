import { hashSeed, mulberry32, pick, type Rng, randInt } from './prng.js';

/**
 * Scheduled, labelled trouble for the detectors to find. Each started 3-day block holds:
 * - order_drop: checkout broken, ~90% of orders fail with payment errors for an hour;
 * - request_flood: a few addresses in one /24 send ~8× the shop's traffic for 5 minutes;
 * - three order_change incidents: drops (-30%, -50%, -90%) and surges (+50%, +100%) of the
 *   order rate lasting 10–60 minutes, each with a cause a root-cause hint can name (iOS
 *   checkout broken, mobile checkout broken, payment provider down; a campaign's visitors);
 * - bot_wave: a swarm of scrapers, or bots that add to cart without viewing products;
 * - error_spike: payments failing at a high rate, customers mostly succeeding on retry;
 * - card_testing: a few hosting addresses trying stolen cards: many small, mostly declined payments.
 * Incidents fall in busy hours and two hours apart. Each event an incident produces or changes
 * carries `props.demo_incident = <incident id>`, so every alert can be checked against ground truth.
 */

export type IncidentKind =
  | 'order_drop'
  | 'request_flood'
  | 'order_change'
  | 'bot_wave'
  | 'error_spike'
  | 'card_testing';

/** The visitors an order-rate change affects, and the segment a root-cause hint should name. */
export interface IncidentSegment {
  /** all | ios (iPhone, iPad) | mobile (phones) | campaign (extra visitors from `source`). */
  who: 'all' | 'ios' | 'mobile' | 'campaign';
  /** For campaigns, the utm_source of the extra visitors. */
  source?: string;
  /** Dimension and value(s) a root-cause hint should name (any of them is right). */
  expect?: { dimension: string; values: string[] };
}

export interface DemoIncident {
  id: string; // the value of props.demo_incident
  kind: IncidentKind;
  startMs: number;
  endMs: number;
  description: string;
  /** request_flood and card_testing: the /24 and the addresses in it. */
  cidr?: string;
  ips?: string[];
  /** order_change: relative change of the order rate (-0.3 = 30% fewer orders, +1 = twice as many). */
  magnitude?: number;
  segment?: IncidentSegment;
  /** bot_wave: what kind of bots. */
  variant?: 'scrapers' | 'cart_bots';
  /** error_spike: share of payment attempts that fail. */
  errorShare?: number;
}

const HOUR = 3_600_000;
const MINUTE = 60_000;
const DAY = 24 * HOUR;
/** Purchases that still go through while checkout is broken. */
export const ORDER_DROP_SURVIVAL = 0.1;
/** Flood requests per minute, as a multiple of the shop's normal events per minute at that time. */
export const FLOOD_MULTIPLIER = 8;
/** Bot sessions during a scraper wave, as a multiple of the usual bot sessions. */
export const BOT_WAVE_MULTIPLIER = 6;
/** Cart-bot sessions a minute during a cart-bot wave. */
export const CART_BOTS_PER_MINUTE = 3;
/** Card-testing attempts a minute. */
export const CARD_TESTS_PER_MINUTE = 6;
const FLOOD_MINUTES = 5;
// Hours (UTC, the demo store's clock) with enough traffic for a drop to be visible.
const BUSY_HOURS = { from: 9, to: 20 };
// Well-known public hosting /24s a flood or a card tester might come from.
const FLOOD_NETWORKS = ['185.220.101', '45.95.147', '193.142.146', '91.92.251', '104.244.76'];
const CHANGE_SIZES = [-0.3, -0.5, 0.5, -0.9, 1.0];
const CHANGE_MINUTES = [10, 15, 20, 30, 45, 60];
const CAMPAIGNS = ['instagram', 'newsletter', 'tiktok'];

/**
 * The incidents in [startMs, startMs + days), per started 3-day block. Same arguments → same
 * schedule. The first two of each block are the original checkout outage and flood.
 */
export function demoIncidents(startMs: number, days: number, seed: number): DemoIncident[] {
  const endMs = startMs + days * DAY;
  const rng = mulberry32(hashSeed(seed, 0x1c1d, Math.floor(startMs / HOUR)));
  const incidents: DemoIncident[] = [];
  for (let block = 0; block * 3 < days; block++) {
    const from = startMs + block * 3 * DAY;
    const to = Math.min(from + 3 * DAY, endMs);
    const taken: number[] = [];
    // The original two may fall outside busy hours in a short range; the others need busy hours to be visible.
    const slot = (busyOnly = true) => {
      const hour = pickHour(rng, from, to, taken, busyOnly);
      if (hour !== null) taken.push(hour);
      return hour;
    };
    const n = block + 1;
    const dropHour = slot(false);
    if (dropHour !== null) {
      incidents.push({
        id: `order-drop-${n}`,
        kind: 'order_drop',
        startMs: dropHour,
        endMs: dropHour + HOUR,
        description: 'Checkout broken: payment provider times out, ~90% of orders fail for an hour',
        magnitude: -(1 - ORDER_DROP_SURVIVAL),
        segment: { who: 'all', expect: { dimension: 'funnel', values: ['payment errors'] } },
      });
    }
    const floodHour = slot(false); // the flood starts 0–50 minutes into it
    if (floodHour !== null) {
      const start = floodHour + randInt(rng, 0, 50) * MINUTE;
      const { network, ips } = addresses(rng, 3, 5);
      incidents.push({
        id: `request-flood-${n}`,
        kind: 'request_flood',
        startMs: start,
        endMs: start + FLOOD_MINUTES * MINUTE,
        description: `Request flood: ${ips.length} addresses in ${network}.0/24 send ~${FLOOD_MULTIPLIER}x normal traffic for ${FLOOD_MINUTES} minutes`,
        cidr: `${network}.0/24`,
        ips,
      });
    }
    for (let j = 0; j < 3; j++) {
      const hour = slot();
      if (hour === null) continue;
      const magnitude = CHANGE_SIZES[(block * 3 + j) % CHANGE_SIZES.length];
      const minutes = pick(rng, CHANGE_MINUTES);
      const start = hour + randInt(rng, 0, 60 - Math.min(60, minutes) / 2) * MINUTE;
      incidents.push({
        id: `order-change-${n}-${j + 1}`,
        kind: 'order_change',
        startMs: start,
        endMs: start + minutes * MINUTE,
        magnitude,
        ...changeCause(rng, magnitude, minutes),
      });
    }
    const waveHour = slot();
    if (waveHour !== null) {
      const variant = block % 2 === 0 ? 'scrapers' : 'cart_bots';
      const minutes = randInt(rng, 20, 40);
      incidents.push({
        id: `bot-wave-${n}`,
        kind: 'bot_wave',
        startMs: waveHour,
        endMs: waveHour + minutes * MINUTE,
        variant,
        description:
          variant === 'scrapers'
            ? `Scraper wave: ${BOT_WAVE_MULTIPLIER}x as many extra bot sessions as usual for ${minutes} minutes`
            : `Cart bots: ~${CART_BOTS_PER_MINUTE} sessions a minute add to cart without viewing products for ${minutes} minutes`,
      });
    }
    const errorHour = slot();
    if (errorHour !== null) {
      const minutes = randInt(rng, 10, 30);
      const errorShare = pick(rng, [0.2, 0.35, 0.5]);
      incidents.push({
        id: `error-spike-${n}`,
        kind: 'error_spike',
        startMs: errorHour,
        endMs: errorHour + minutes * MINUTE,
        errorShare,
        description: `Payment errors: ${Math.round(errorShare * 100)}% of payment attempts fail for ${minutes} minutes; most customers succeed on retry`,
      });
    }
    const cardHour = slot();
    if (cardHour !== null) {
      const minutes = randInt(rng, 10, 25);
      const { network, ips } = addresses(rng, 1, 3);
      incidents.push({
        id: `card-testing-${n}`,
        kind: 'card_testing',
        startMs: cardHour,
        endMs: cardHour + minutes * MINUTE,
        cidr: `${network}.0/24`,
        ips,
        description: `Card testing: ~${CARD_TESTS_PER_MINUTE} small payments a minute from ${ips.length} address(es) in ${network}.0/24 for ${minutes} minutes, most declined`,
      });
    }
  }
  return incidents.sort((a, b) => a.startMs - b.startMs);
}

function addresses(rng: Rng, min: number, max: number): { network: string; ips: string[] } {
  const network = pick(rng, FLOOD_NETWORKS);
  const ips = new Set<string>();
  const count = randInt(rng, min, max);
  while (ips.size < count) ips.add(`${network}.${randInt(rng, 2, 250)}`);
  return { network, ips: [...ips].sort() };
}

function changeCause(
  rng: Rng,
  magnitude: number,
  minutes: number,
): Pick<DemoIncident, 'segment' | 'description'> {
  const pct = `${Math.round(Math.abs(magnitude) * 100)}%`;
  if (magnitude > 0) {
    const source = pick(rng, CAMPAIGNS);
    return {
      segment: { who: 'campaign', source, expect: { dimension: 'source', values: [source] } },
      description: `Surge: a ${source} campaign brings ${pct} more orders for ${minutes} minutes`,
    };
  }
  if (magnitude > -0.4)
    return {
      segment: { who: 'ios', expect: { dimension: 'os', values: ['iOS'] } },
      description: `iOS checkout broken: the pay button does nothing on iPhones and iPads, orders ${pct} down for ${minutes} minutes`,
    };
  if (magnitude > -0.7)
    return {
      segment: { who: 'mobile', expect: { dimension: 'device', values: ['mobile'] } },
      description: `Mobile checkout broken: phone payments fail silently, orders ${pct} down for ${minutes} minutes`,
    };
  return {
    segment: { who: 'all', expect: { dimension: 'funnel', values: ['payment errors'] } },
    description: `Payment provider down: ${pct} of payments fail with errors for ${minutes} minutes`,
  };
}

/** A whole-hour start in [from, to - 1 h], in busy hours (when possible, or only), two hours from those taken. */
function pickHour(rng: Rng, from: number, to: number, taken: number[], busyOnly: boolean): number | null {
  const all: number[] = [];
  for (let t = Math.ceil(from / HOUR) * HOUR; t + HOUR <= to; t += HOUR)
    if (taken.every((x) => Math.abs(x - t) >= 2 * HOUR)) all.push(t);
  const busy = all.filter((t) => {
    const hour = new Date(t).getUTCHours();
    return hour >= BUSY_HOURS.from && hour <= BUSY_HOURS.to;
  });
  const candidates = busy.length > 0 || busyOnly ? busy : all;
  return candidates.length > 0 ? pick(rng, candidates) : null;
}

/** The incident of `kind` active at `ms`, if any. Incident lists are short; a scan is enough. */
export function activeIncident(incidents: readonly DemoIncident[], kind: DemoIncident['kind'], ms: number) {
  for (const incident of incidents) {
    if (incident.kind === kind && ms >= incident.startMs && ms < incident.endMs) return incident;
  }
  return undefined;
}
