import type { Signal } from '../types.js';
import { type BaselineOptions, DEFAULT_BASELINE } from './baseline.js';
import { botWave } from './bot-wave.js';
import { MINUTE, type SeriesView } from './series.js';
import { BUCKET_MS, type IpCounters, sessionsBetween, type TrafficCounters } from './traffic-counters.js';

/**
 * DDoS and bots, evaluated every 10 s of event time on the sliding counters:
 * - request_flood: a network (/24) or one of its IPs over a request rate in 10 s or 60 s,
 *   an IP using many sessions a minute (flood tools send no cookies), or one network sending a
 *   large share of the site's browser-like traffic;
 * - session_flood: a session over a request rate in 10 s (the seed's per-user Flink job);
 * - card_testing: an IP with repeated payment attempts that mostly fail;
 * - cart_bots: sessions adding to cart without ever viewing a product;
 * - bot_wave: requests from bot user agents far above their usual level (per-minute series).
 * Offenders (IPs, networks, sessions) are kept with their evidence for the live list and the
 * blocklist, until they have been quiet for `offenderTtlMinutes`.
 */

export interface TrafficOptions {
  ipPer10s: number;
  ipPer60s: number;
  networkPer10s: number;
  networkPer60s: number;
  /** Distinct sessions one IP may use in 60 s. */
  sessionsPerIp60s: number;
  /** A network sending this share of the site's non-bot requests in 60 s floods it, given `floodShareMin` requests. */
  floodShare: number;
  floodShareMin: number;
  sessionPer10s: number;
  /** Bot-flagged IPs over this many requests a minute are listed as scrapers (not alerted: scrapers are normal). */
  scraperPer60s: number;
  /** User agents of crawlers that are welcome (never listed): substrings, case-insensitive. */
  goodBots: string[];
  cardTesting: { minAttempts: number; minErrorShare: number };
  cartBots: { minCarts: number; minSessions: number; windowMinutes: number };
  /** Bot sessions over `windowMinutes` at `factor`× their usual number, and at least `minExtra` more. */
  botWave: { factor: number; minExtra: number; windowMinutes: number };
  offenderTtlMinutes: number;
  baseline: BaselineOptions;
}

export const DEFAULT_TRAFFIC: TrafficOptions = {
  ipPer10s: 150,
  ipPer60s: 600,
  networkPer10s: 300,
  networkPer60s: 1200,
  sessionsPerIp60s: 30,
  floodShare: 0.3,
  floodShareMin: 200,
  sessionPer10s: 50,
  scraperPer60s: 60,
  goodBots: ['googlebot', 'bingbot', 'duckduckbot', 'yandexbot', 'applebot', 'baiduspider'],
  cardTesting: { minAttempts: 6, minErrorShare: 0.5 },
  cartBots: { minCarts: 3, minSessions: 3, windowMinutes: 10 },
  botWave: { factor: 3, minExtra: 10, windowMinutes: 10 },
  offenderTtlMinutes: 30,
  baseline: DEFAULT_BASELINE,
};

export type OffenderReason =
  | 'request_rate'
  | 'many_sessions'
  | 'traffic_share'
  | 'session_rate'
  | 'scraper'
  | 'card_testing'
  | 'cart_without_views';

const FLOOD_REASONS = new Set<OffenderReason>(['request_rate', 'many_sessions', 'traffic_share']);

export interface Offender {
  kind: 'ip' | 'network' | 'session';
  key: string;
  reasons: OffenderReason[];
  /** First and last request seen from it, and when it was first and last found offending. */
  firstSeen: number;
  lastSeen: number;
  flaggedAt: number;
  lastFlagged: number;
  requests10s: number;
  requests60s: number;
  peak60s: number;
  sessions60s?: number;
  botRequests: number;
  userAgents: string[];
  /** network: its busiest addresses; session: the address it came from. */
  ips?: { ip: string; requests: number }[];
  paymentAttempts?: number;
  paymentErrors?: number;
  carts?: number;
}

/** A session that added to cart: what the cart-bot rule looks at. */
export interface CartSession {
  session: string;
  ip: string | null;
  userAgent: string | null;
  views: number;
  carts: number;
  firstSeen: number;
  lastSeen: number;
}

export interface TrafficInput {
  site: string;
  /** The 10-s boundary evaluated: windows end here. */
  at: number;
  counters: TrafficCounters;
  /** Offenders so far; updated in place. */
  offenders: Map<string, Offender>;
  cartSessions: Iterable<CartSession>;
  /** Per-minute series for the bot wave (closed minutes up to series.end). */
  series: SeriesView;
  options: TrafficOptions;
  /** Whether bot_wave fired last time (hysteresis). */
  botWaveActive?: boolean;
  /** IPs are anonymised to their /24 by the collector, so per-address counts are per network. */
  anonymizedIps?: boolean;
}

export function evaluateTraffic(input: TrafficInput): Signal[] {
  const { at, counters, options: o } = input;
  const from10 = at - BUCKET_MS;
  const from60 = at - 6 * BUCKET_MS;
  const flag = (o2: Omit<Offender, 'flaggedAt' | 'lastFlagged' | 'peak60s'>) =>
    upsert(input.offenders, o2, at);
  const siteHuman60 = counters.human.sum(from60, at);

  // IPs that sent requests since the last evaluation, or paid lately: rates, sessions, scrapers, card testing.
  const ipReasons = new Map<string, OffenderReason[]>();
  const cardTesters: IpCounters[] = [];
  const least = Math.min(o.ipPer10s, o.ipPer60s, o.sessionsPerIp60s, o.scraperPer60s);
  const recent = counters.keysIn(from10);
  for (const key of new Set([...recent.ips, ...counters.payers])) {
    const c = counters.ips.get(key);
    if (!c) continue;
    const r60 = c.requests.sum(from60, at);
    if (r60 < least && !counters.payers.has(key)) continue;
    const r10 = c.requests.sum(from10, at);
    // Distinct sessions cost a scan of the IP's sessions: only when there could be enough.
    const sessions = r60 >= o.sessionsPerIp60s ? sessionsBetween(c, from60, at) : 0;
    const bots = c.bots.sum(from60, at);
    const reasons: OffenderReason[] = [];
    // A bot-flagged client at a browser's pace is a crawler; at these rates it floods whatever its user agent says.
    if (r10 >= o.ipPer10s || r60 >= o.ipPer60s) reasons.push('request_rate');
    if (sessions >= o.sessionsPerIp60s) reasons.push('many_sessions');
    if (bots >= o.scraperPer60s && !isGoodBot(c.userAgents, o)) reasons.push('scraper');
    const attempts = c.payments?.attempts.sum(at - 10 * MINUTE, at + MINUTE) ?? 0;
    const errors = c.payments?.errors.sum(at - 10 * MINUTE, at + MINUTE) ?? 0;
    if (attempts >= o.cardTesting.minAttempts && errors >= attempts * o.cardTesting.minErrorShare) {
      reasons.push('card_testing');
      cardTesters.push(c);
    }
    if (reasons.length === 0) continue;
    ipReasons.set(c.key, reasons);
    flag({
      kind: 'ip',
      key: c.key,
      reasons,
      firstSeen: c.firstSeen,
      lastSeen: c.lastSeen,
      requests10s: r10,
      requests60s: r60,
      sessions60s: sessions,
      botRequests: bots,
      userAgents: c.userAgents,
      ...(reasons.includes('card_testing') ? { paymentAttempts: attempts, paymentErrors: errors } : {}),
    });
  }

  // Networks: their own rates and share, or any flooding address inside.
  for (const key of recent.networks) {
    const n = counters.networks.get(key);
    if (!n) continue;
    const r10 = n.requests.sum(from10, at);
    const r60 = n.requests.sum(from60, at);
    const reasons = new Set<OffenderReason>();
    if (r10 >= o.networkPer10s || r60 >= o.networkPer60s) reasons.add('request_rate');
    const bots = n.bots.sum(from60, at);
    const nonBot60 = r60 - bots;
    if (nonBot60 >= o.floodShareMin && nonBot60 >= o.floodShare * siteHuman60) reasons.add('traffic_share');
    for (const ip of n.ips.keys())
      for (const r of ipReasons.get(ip) ?? [])
        if (r === 'request_rate' || r === 'many_sessions') reasons.add(r);
    if (reasons.size === 0) continue;
    const ips = [...n.ips.keys()]
      .map((ip) => ({ ip, requests: counters.ips.get(ip)?.requests.sum(from60, at) ?? 0 }))
      .filter((x) => x.requests > 0)
      .sort((a, b) => b.requests - a.requests)
      .slice(0, 10);
    flag({
      kind: 'network',
      key: n.key,
      reasons: [...reasons],
      firstSeen: n.firstSeen,
      lastSeen: n.lastSeen,
      requests10s: r10,
      requests60s: r60,
      sessions60s: ips.reduce((s, x) => s + sessionsBetween(counters.ips.get(x.ip)!, from60, at), 0),
      botRequests: bots,
      userAgents: n.userAgents,
      ips,
    });
  }

  // Sessions: request rate in 10 s.
  const fastSessions: Offender[] = [];
  for (const key of recent.sessions) {
    const s = counters.sessions.get(key);
    const r10 = s?.bucket === from10 ? s.count : 0;
    if (!s || r10 < o.sessionPer10s) continue;
    fastSessions.push(
      flag({
        kind: 'session',
        key: s.key,
        reasons: ['session_rate'],
        firstSeen: s.firstSeen,
        lastSeen: s.lastSeen,
        requests10s: r10,
        requests60s: s.requests,
        botRequests: s.bots,
        userAgents: s.userAgent ? [s.userAgent] : [],
      }),
    );
  }

  // Sessions that cart without viewing products.
  const cartBots: Offender[] = [];
  const since = at - o.cartBots.windowMinutes * MINUTE;
  for (const s of input.cartSessions) {
    if (s.lastSeen < since || s.views > 0 || s.carts < o.cartBots.minCarts) continue;
    cartBots.push(
      flag({
        kind: 'session',
        key: s.session,
        reasons: ['cart_without_views'],
        firstSeen: s.firstSeen,
        lastSeen: s.lastSeen,
        requests10s: 0,
        requests60s: 0,
        botRequests: 0,
        userAgents: s.userAgent ? [s.userAgent] : [],
        ips: s.ip ? [{ ip: s.ip, requests: s.carts }] : [],
        carts: s.carts,
      }),
    );
  }

  expire(input.offenders, at, o);
  // A network keeps its flood signal while it was flagged in the last 30 s: a pause of one
  // tick does not resolve and re-open the alert.
  const floods = [...input.offenders.values()].filter(
    (f) =>
      f.kind === 'network' &&
      f.lastFlagged >= at - 3 * BUCKET_MS &&
      f.reasons.some((r) => FLOOD_REASONS.has(r)),
  );
  const signals: Signal[] = [];
  const base = { site: input.site };
  for (const f of floods) {
    signals.push({
      labels: { alertname: 'request_flood', ...base, network: f.key },
      severity: 'critical',
      summary:
        `Request flood from ${f.key}: ${f.requests60s} requests in the last minute` +
        ` from ${f.ips?.length ?? 0} address(es)${f.sessions60s ? `, ${f.sessions60s} sessions` : ''}` +
        ` (${f.reasons.map((r) => r.replace('_', ' ')).join(', ')})`,
      at,
      value: f.requests60s,
      evidence: { ...evidenceOf(f), anonymizedIps: input.anonymizedIps ?? false },
    });
  }
  if (fastSessions.length > 0)
    signals.push(
      listSignal(
        'session_flood',
        base,
        at,
        'warning',
        `${fastSessions.length} session(s) over ${o.sessionPer10s} requests in 10 s`,
        fastSessions,
      ),
    );
  if (cardTesters.length > 0) {
    const offenders = cardTesters.map((c) => input.offenders.get(`ip:${c.key}`)!);
    const attempts = offenders.reduce((s, x) => s + (x.paymentAttempts ?? 0), 0);
    const errors = offenders.reduce((s, x) => s + (x.paymentErrors ?? 0), 0);
    signals.push(
      listSignal(
        'card_testing',
        base,
        at,
        'critical',
        `Card testing: ${attempts} payment attempts (${errors} failed) in 10 min from ${offenders.length} address(es)`,
        offenders,
      ),
    );
  }
  if (cartBots.length >= o.cartBots.minSessions)
    signals.push(
      listSignal(
        'cart_bots',
        base,
        at,
        'warning',
        `${cartBots.length} sessions added to cart without viewing a product in the last ${o.cartBots.windowMinutes} min`,
        cartBots,
      ),
    );
  const wave = botWave(input);
  if (wave) signals.push(wave);
  return signals;
}

function listSignal(
  alertname: string,
  base: { site: string },
  at: number,
  severity: Signal['severity'],
  summary: string,
  offenders: Offender[],
): Signal {
  return {
    labels: { alertname, ...base },
    severity,
    summary,
    at,
    value: offenders.length,
    evidence: { offenders: offenders.slice(0, 50).map(evidenceOf), count: offenders.length },
  };
}

export function evidenceOf(f: Offender): Record<string, unknown> {
  const { flaggedAt, lastFlagged, ...rest } = f;
  return { ...rest, flaggedAt, lastFlagged };
}

function upsert(
  book: Map<string, Offender>,
  o: Omit<Offender, 'flaggedAt' | 'lastFlagged' | 'peak60s'>,
  at: number,
): Offender {
  const id = `${o.kind}:${o.key}`;
  const old = book.get(id);
  const next: Offender = {
    ...o,
    reasons: [...new Set([...(old?.reasons ?? []), ...o.reasons])],
    firstSeen: Math.min(old?.firstSeen ?? o.firstSeen, o.firstSeen),
    flaggedAt: old?.flaggedAt ?? at,
    lastFlagged: at,
    peak60s: Math.max(old?.peak60s ?? 0, o.requests60s),
    userAgents: [...new Set([...(old?.userAgents ?? []), ...o.userAgents])].slice(0, 3),
  };
  book.set(id, next);
  return next;
}

function expire(book: Map<string, Offender>, at: number, o: TrafficOptions): void {
  for (const [id, f] of book) if (f.lastFlagged < at - o.offenderTtlMinutes * MINUTE) book.delete(id);
}

function isGoodBot(agents: string[], o: TrafficOptions): boolean {
  return agents.some((ua) => o.goodBots.some((g) => ua.toLowerCase().includes(g)));
}
