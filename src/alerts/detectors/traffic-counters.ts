import { isIP } from 'node:net';

/**
 * Sliding request counters per IP, per network (/24, or /48 for IPv6), per session: counts in
 * 10-second buckets of event time over the last minute, distinct sessions per IP, and payment
 * attempts per IP over ten minutes (card testing). Only keys seen in the last window are
 * kept, so memory follows the active clients, not the history.
 *
 * The state is a function of the events of the last ten minutes alone: after a restart the
 * engine rebuilds it by replaying that tail of the stream, so it is never counted twice.
 */

export const BUCKET_MS = 10_000;
const BUCKETS = 6; // 60 s
const ATTEMPT_BUCKET_MS = 60_000;
const ATTEMPT_BUCKETS = 10; // 10 min
/** Distinct sessions remembered per IP: enough to tell a flood, bounded when there is one. */
const MAX_SESSIONS_PER_IP = 2_000;
const MAX_AGENTS = 3;

export interface TrafficEvent {
  time: number;
  ip: string | null;
  session: string | null;
  isBot: boolean;
  userAgent: string | null;
  /** Detector event kind: view, cart, checkout, checkout_error, purchase, … */
  kind: string;
  orderId: string | null;
}

export class Ring {
  readonly starts: number[];
  readonly counts: number[];

  constructor(
    private readonly size: number,
    private readonly width: number,
  ) {
    this.starts = new Array(size).fill(-1);
    this.counts = new Array(size).fill(0);
  }

  add(time: number, n = 1): void {
    const start = Math.floor(time / this.width) * this.width;
    const i = (start / this.width) % this.size;
    if (this.starts[i] !== start) {
      if (this.starts[i] > start) return; // older than the ring holds
      this.starts[i] = start;
      this.counts[i] = 0;
    }
    this.counts[i] += n;
  }

  /** Sum over buckets starting in [from, to). */
  sum(from: number, to: number): number {
    let s = 0;
    for (let i = 0; i < this.size; i++)
      if (this.starts[i] >= from && this.starts[i] < to) s += this.counts[i];
    return s;
  }

  get newest(): number {
    return Math.max(...this.starts);
  }
}

export interface KeySets {
  ips: Set<string>;
  networks: Set<string>;
  sessions: Set<string>;
}

const EMPTY_KEYS: KeySets = { ips: new Set(), networks: new Set(), sessions: new Set() };
const NO_REQUESTS = new Ring(1, BUCKET_MS);

export interface KeyCounters {
  key: string;
  requests: Ring;
  /** The requests from user agents flagged as bots (allocated at the first one). */
  bots: Ring;
  firstSeen: number;
  lastSeen: number;
  userAgents: string[];
}

export interface IpCounters extends KeyCounters {
  /** session → last seen, for distinct sessions per minute (allocated at the second session). */
  sessions: Map<string, number> | null;
  firstSession: string | null;
  /** Payment attempts and failures over ten minutes (allocated at the first payment). */
  payments: { attempts: Ring; errors: Ring } | null;
  lastOrder: string | null;
}

/** A session's request rate: the count in its latest 10-s bucket (what the session rule needs), and totals. */
export interface SessionCounters {
  key: string;
  bucket: number;
  count: number;
  requests: number;
  bots: number;
  firstSeen: number;
  lastSeen: number;
  userAgent: string | null;
}

export interface NetworkCounters extends KeyCounters {
  ips: Map<string, number>;
}

/**
 * Per-key state is small and allocated lazily (most clients send a few requests in one
 * session and never pay): a replay of weeks of traffic creates millions of keys, and the
 * garbage collector pays for every object they hold.
 */
export class TrafficCounters {
  readonly ips = new Map<string, IpCounters>();
  readonly networks = new Map<string, NetworkCounters>();
  readonly sessions = new Map<string, SessionCounters>();
  /** Requests of the whole site, and those from user agents not flagged as bots. */
  readonly total = new Ring(BUCKETS, BUCKET_MS);
  readonly human = new Ring(BUCKETS, BUCKET_MS);
  /**
   * Keys with requests in each recent 10-s bucket: only they can newly cross a rate limit, so
   * an evaluation looks at the last bucket's keys (and at IPs with recent payments), not at
   * every key. By event time, so the same events give the same sets in any processing order.
   */
  private readonly active = new Map<number, KeySets>();
  /** IPs with payment attempts in the last ten minutes. */
  readonly payers = new Set<string>();

  add(e: TrafficEvent): void {
    this.total.add(e.time);
    if (!e.isBot) this.human.add(e.time);
    const keys = this.keySets(e.time);
    if (e.ip) {
      const ip = this.ipCounters(e.ip, e);
      touch(ip, e);
      if (e.session) addSession(ip, e.session, e.time);
      const payment = PAYMENT_ERRORS.has(e.kind);
      if (payment || (e.kind === 'purchase' && e.orderId !== ip.lastOrder)) {
        ip.payments ??= {
          attempts: new Ring(ATTEMPT_BUCKETS, ATTEMPT_BUCKET_MS),
          errors: new Ring(ATTEMPT_BUCKETS, ATTEMPT_BUCKET_MS),
        };
        ip.payments.attempts.add(e.time);
        if (payment) ip.payments.errors.add(e.time);
        else ip.lastOrder = e.orderId;
        this.payers.add(e.ip);
      }
      const network = networkOf(e.ip);
      let net = this.networks.get(network);
      if (!net) {
        net = { ...keyCounters(network, e), ips: new Map() };
        this.networks.set(network, net);
      }
      touch(net, e);
      net.ips.set(e.ip, (net.ips.get(e.ip) ?? 0) + 1);
      keys.ips.add(e.ip);
      keys.networks.add(network);
    }
    if (e.session) {
      const bucket = Math.floor(e.time / BUCKET_MS) * BUCKET_MS;
      let s = this.sessions.get(e.session);
      if (!s) {
        s = {
          key: e.session,
          bucket,
          count: 0,
          requests: 0,
          bots: 0,
          firstSeen: e.time,
          lastSeen: e.time,
          userAgent: e.userAgent,
        };
        this.sessions.set(e.session, s);
      }
      if (bucket === s.bucket) s.count++;
      else if (bucket > s.bucket) {
        s.bucket = bucket;
        s.count = 1;
      }
      s.requests++;
      if (e.isBot) s.bots++;
      if (e.time < s.firstSeen) s.firstSeen = e.time;
      if (e.time > s.lastSeen) s.lastSeen = e.time;
      keys.sessions.add(e.session);
    }
  }

  /** The keys with requests in the 10-s bucket starting at `bucket`. */
  keysIn(bucket: number): KeySets {
    return this.active.get(bucket) ?? EMPTY_KEYS;
  }

  private keySets(time: number): KeySets {
    const bucket = Math.floor(time / BUCKET_MS) * BUCKET_MS;
    let keys = this.active.get(bucket);
    if (!keys) {
      keys = { ips: new Set(), networks: new Set(), sessions: new Set() };
      this.active.set(bucket, keys);
    }
    return keys;
  }

  /** Forgets keys with nothing in the last minute (IPs that paid: ten minutes). */
  evict(now: number): void {
    const minute = now - BUCKETS * BUCKET_MS;
    const tenMinutes = now - ATTEMPT_BUCKETS * ATTEMPT_BUCKET_MS;
    for (const k of this.payers) {
      const c = this.ips.get(k);
      if (!c?.payments || c.payments.attempts.newest < tenMinutes) this.payers.delete(k);
    }
    for (const [k, c] of this.ips) {
      if (c.lastSeen < minute) {
        if (!this.payers.has(k)) this.ips.delete(k);
      } else if (c.sessions) for (const [s, t] of c.sessions) if (t < minute) c.sessions.delete(s);
    }
    for (const [k, c] of this.networks) if (c.lastSeen < minute) this.networks.delete(k);
    for (const bucket of this.active.keys()) if (bucket < minute) this.active.delete(bucket);
    for (const [k, c] of this.sessions) if (c.lastSeen < minute) this.sessions.delete(k);
  }

  private ipCounters(ip: string, e: TrafficEvent): IpCounters {
    let c = this.ips.get(ip);
    if (!c) {
      c = {
        key: ip,
        requests: new Ring(BUCKETS, BUCKET_MS),
        bots: NO_REQUESTS,
        firstSeen: e.time,
        lastSeen: e.time,
        userAgents: [],
        sessions: null,
        firstSession: null,
        payments: null,
        lastOrder: null,
      };
      this.ips.set(ip, c);
    }
    return c;
  }
}

const PAYMENT_ERRORS = new Set(['checkout_error', 'payment_error', 'payment_failed']);

function keyCounters(key: string, e: TrafficEvent): KeyCounters {
  return {
    key,
    requests: new Ring(BUCKETS, BUCKET_MS),
    bots: NO_REQUESTS,
    firstSeen: e.time,
    lastSeen: e.time,
    userAgents: [],
  };
}

function touch(c: KeyCounters, e: TrafficEvent): void {
  c.requests.add(e.time);
  if (e.isBot) {
    if (c.bots === NO_REQUESTS) c.bots = new Ring(BUCKETS, BUCKET_MS);
    c.bots.add(e.time);
  }
  if (e.time < c.firstSeen) c.firstSeen = e.time;
  if (e.time > c.lastSeen) c.lastSeen = e.time;
  if (e.userAgent && c.userAgents.length < MAX_AGENTS && !c.userAgents.includes(e.userAgent))
    c.userAgents.push(e.userAgent);
}

function addSession(c: IpCounters, session: string, time: number): void {
  if (c.sessions === null) {
    if (c.firstSession === null || c.firstSession === session) {
      c.firstSession = session;
      return;
    }
    // A second session: from now on they are counted (the first one as of its IP's first request).
    c.sessions = new Map([[c.firstSession, c.lastSeen]]);
  }
  if (c.sessions.has(session) || c.sessions.size < MAX_SESSIONS_PER_IP)
    c.sessions.set(session, Math.max(c.sessions.get(session) ?? 0, time));
}

/** Distinct sessions an IP used in [from, to). */
export function sessionsBetween(c: IpCounters, from: number, to: number): number {
  if (c.sessions === null) return c.firstSession !== null && c.lastSeen >= from && c.lastSeen < to ? 1 : 0;
  let n = 0;
  for (const t of c.sessions.values()) if (t >= from && t < to) n++;
  return n;
}

/** The /24 of an IPv4 address, the /48 of an IPv6 one, as CIDR text. */
export function networkOf(ip: string): string {
  // Addresses were validated by the collector: a colon means IPv6.
  if (!ip.includes(':') && ip.includes('.')) return `${ip.slice(0, ip.lastIndexOf('.'))}.0/24`;
  if (isIP(ip) === 6) {
    const [head] = ip.split('::');
    const groups = head.split(':').slice(0, 3);
    while (groups.length < 3) groups.push('0');
    return `${groups.join(':')}::/48`;
  }
  return ip;
}

/** The /16 of an IPv4 address (a country-less locality for root-cause hints), else the /32 of IPv6. */
export function prefix16(ip: string | null): string | null {
  if (!ip) return null;
  if (!ip.includes(':') && ip.includes('.')) {
    const second = ip.indexOf('.', ip.indexOf('.') + 1);
    return `${ip.slice(0, second)}.0.0/16`;
  }
  if (isIP(ip) === 6) return `${ip.split(':').slice(0, 2).join(':')}::/32`;
  return null;
}
