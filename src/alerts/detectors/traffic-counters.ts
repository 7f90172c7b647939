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

export interface KeyCounters {
  key: string;
  requests: Ring;
  /** The requests from user agents flagged as bots. */
  bots: Ring;
  firstSeen: number;
  lastSeen: number;
  userAgents: string[];
}

export interface IpCounters extends KeyCounters {
  /** session → last seen, for distinct sessions per minute. */
  sessions: Map<string, number>;
  attempts: Ring;
  paymentErrors: Ring;
  lastOrder: string | null;
}

export interface NetworkCounters extends KeyCounters {
  ips: Map<string, number>;
}

export class TrafficCounters {
  readonly ips = new Map<string, IpCounters>();
  readonly networks = new Map<string, NetworkCounters>();
  readonly sessions = new Map<string, KeyCounters>();
  /** Requests of the whole site, and those from user agents not flagged as bots. */
  readonly total = new Ring(BUCKETS, BUCKET_MS);
  readonly human = new Ring(BUCKETS, BUCKET_MS);

  add(e: TrafficEvent): void {
    this.total.add(e.time);
    if (!e.isBot) this.human.add(e.time);
    if (e.ip) {
      const ip = this.ipCounters(e.ip, e.time);
      touch(ip, e);
      if (e.session && (ip.sessions.has(e.session) || ip.sessions.size < MAX_SESSIONS_PER_IP))
        ip.sessions.set(e.session, Math.max(ip.sessions.get(e.session) ?? 0, e.time));
      if (e.kind === 'checkout_error' || e.kind === 'payment_error') {
        ip.attempts.add(e.time);
        ip.paymentErrors.add(e.time);
      } else if (e.kind === 'purchase' && e.orderId !== ip.lastOrder) {
        ip.attempts.add(e.time);
        ip.lastOrder = e.orderId;
      }
      const net = this.networkCounters(networkOf(e.ip), e.time);
      touch(net, e);
      net.ips.set(e.ip, (net.ips.get(e.ip) ?? 0) + 1);
    }
    if (e.session) {
      let s = this.sessions.get(e.session);
      if (!s) {
        s = keyCounters(e.session, e.time);
        this.sessions.set(e.session, s);
      }
      touch(s, e);
    }
  }

  /** Forgets keys with nothing in the last ten minutes (IPs) or minute (networks, sessions). */
  evict(now: number): void {
    const minute = now - BUCKETS * BUCKET_MS;
    const tenMinutes = now - ATTEMPT_BUCKETS * ATTEMPT_BUCKET_MS;
    for (const [k, c] of this.ips) {
      if (c.lastSeen < tenMinutes) this.ips.delete(k);
      else for (const [s, t] of c.sessions) if (t < minute) c.sessions.delete(s);
    }
    for (const [k, c] of this.networks) if (c.lastSeen < minute) this.networks.delete(k);
    for (const [k, c] of this.sessions) if (c.lastSeen < minute) this.sessions.delete(k);
  }

  private ipCounters(ip: string, time: number): IpCounters {
    let c = this.ips.get(ip);
    if (!c) {
      c = {
        ...keyCounters(ip, time),
        sessions: new Map(),
        attempts: new Ring(ATTEMPT_BUCKETS, ATTEMPT_BUCKET_MS),
        paymentErrors: new Ring(ATTEMPT_BUCKETS, ATTEMPT_BUCKET_MS),
        lastOrder: null,
      };
      this.ips.set(ip, c);
    }
    return c;
  }

  private networkCounters(network: string, time: number): NetworkCounters {
    let c = this.networks.get(network);
    if (!c) {
      c = { ...keyCounters(network, time), ips: new Map() };
      this.networks.set(network, c);
    }
    return c;
  }
}

function keyCounters(key: string, time: number): KeyCounters {
  return {
    key,
    requests: new Ring(BUCKETS, BUCKET_MS),
    bots: new Ring(BUCKETS, BUCKET_MS),
    firstSeen: time,
    lastSeen: time,
    userAgents: [],
  };
}

function touch(c: KeyCounters, e: TrafficEvent): void {
  c.requests.add(e.time);
  if (e.isBot) c.bots.add(e.time);
  c.firstSeen = Math.min(c.firstSeen, e.time);
  c.lastSeen = Math.max(c.lastSeen, e.time);
  if (e.userAgent && c.userAgents.length < MAX_AGENTS && !c.userAgents.includes(e.userAgent))
    c.userAgents.push(e.userAgent);
}

/** Distinct sessions an IP used in [from, to). */
export function sessionsBetween(c: IpCounters, from: number, to: number): number {
  let n = 0;
  for (const t of c.sessions.values()) if (t >= from && t < to) n++;
  return n;
}

/** The /24 of an IPv4 address, the /48 of an IPv6 one, as CIDR text. */
export function networkOf(ip: string): string {
  if (isIP(ip) === 4) return `${ip.slice(0, ip.lastIndexOf('.'))}.0/24`;
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
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.');
    return `${a}.${b}.0.0/16`;
  }
  if (isIP(ip) === 6) return `${ip.split(':').slice(0, 2).join(':')}::/32`;
  return null;
}
