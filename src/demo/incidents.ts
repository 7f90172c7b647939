import { hashSeed, mulberry32, pick, type Rng, randInt } from './prng.js';

/**
 * Scheduled, labelled trouble for the detectors to find: a broken checkout (orders drop ~90%
 * for an hour) and a request flood from a few addresses in one /24 for a few minutes. Each
 * event an incident produces or changes carries `props.demo_incident = <incident id>`, so a
 * user can check every alert against ground truth.
 */

export interface DemoIncident {
  id: string; // the value of props.demo_incident
  kind: 'order_drop' | 'request_flood';
  startMs: number;
  endMs: number;
  description: string;
  /** request_flood only: the /24 and the addresses in it that send the flood. */
  cidr?: string;
  ips?: string[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Purchases that still go through while checkout is broken. */
export const ORDER_DROP_SURVIVAL = 0.1;
/** Flood requests per minute, as a multiple of the shop's normal events per minute at that time. */
export const FLOOD_MULTIPLIER = 8;
const FLOOD_MINUTES = 5;
// Hours (UTC, the demo store's clock) with enough traffic for a drop to be visible.
const BUSY_HOURS = { from: 9, to: 20 };
// Well-known public hosting /24s a flood might come from.
const FLOOD_NETWORKS = ['185.220.101', '45.95.147', '193.142.146', '91.92.251', '104.244.76'];

/**
 * The incidents in [startMs, startMs + days): one order drop and one flood per started
 * 3-day block, at busy hours. Same arguments → same schedule.
 */
export function demoIncidents(startMs: number, days: number, seed: number): DemoIncident[] {
  const endMs = startMs + days * DAY;
  const rng = mulberry32(hashSeed(seed, 0x1c1d, Math.floor(startMs / HOUR)));
  const incidents: DemoIncident[] = [];
  for (let block = 0; block * 3 < days; block++) {
    const from = startMs + block * 3 * DAY;
    const to = Math.min(from + 3 * DAY, endMs);
    const dropHour = pickHour(rng, from, to, HOUR, null);
    if (dropHour !== null) {
      incidents.push({
        id: `order-drop-${block + 1}`,
        kind: 'order_drop',
        startMs: dropHour,
        endMs: dropHour + HOUR,
        description: 'Checkout broken: payment provider times out, ~90% of orders fail for an hour',
      });
    }
    const floodHour = pickHour(rng, from, to, HOUR, dropHour); // the flood starts 0–50 minutes into it
    if (floodHour !== null) {
      const start = floodHour + randInt(rng, 0, 50) * 60_000;
      const network = pick(rng, FLOOD_NETWORKS);
      const ips = new Set<string>();
      const count = randInt(rng, 3, 5);
      while (ips.size < count) ips.add(`${network}.${randInt(rng, 2, 250)}`);
      incidents.push({
        id: `request-flood-${block + 1}`,
        kind: 'request_flood',
        startMs: start,
        endMs: start + FLOOD_MINUTES * 60_000,
        description: `Request flood: ${count} addresses in ${network}.0/24 send ~${FLOOD_MULTIPLIER}x normal traffic for ${FLOOD_MINUTES} minutes`,
        cidr: `${network}.0/24`,
        ips: [...ips].sort(),
      });
    }
  }
  return incidents.sort((a, b) => a.startMs - b.startMs);
}

/** A whole-hour start in [from, to - length], preferring busy hours and avoiding `avoid`. */
function pickHour(rng: Rng, from: number, to: number, length: number, avoid: number | null): number | null {
  const all: number[] = [];
  for (let t = Math.ceil(from / HOUR) * HOUR; t + length <= to; t += HOUR) if (t !== avoid) all.push(t);
  const busy = all.filter((t) => {
    const hour = new Date(t).getUTCHours();
    return hour >= BUSY_HOURS.from && hour <= BUSY_HOURS.to;
  });
  const candidates = busy.length > 0 ? busy : all;
  return candidates.length > 0 ? pick(rng, candidates) : null;
}

/** The incident of `kind` active at `ms`, if any. Incident lists are short; a scan is enough. */
export function activeIncident(incidents: readonly DemoIncident[], kind: DemoIncident['kind'], ms: number) {
  for (const incident of incidents) {
    if (incident.kind === kind && ms >= incident.startMs && ms < incident.endMs) return incident;
  }
  return undefined;
}
