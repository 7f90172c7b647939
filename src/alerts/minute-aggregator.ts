import {
  type DetectorEvent,
  LOGIN_FAILED_KINDS,
  LOGIN_KINDS,
  PAYMENT_ERROR_KINDS,
} from './detector-event.js';
import type { Breakdown, MinuteFacts } from './detectors/series.js';
import { prefix16 } from './detectors/traffic-counters.js';

/**
 * Events → the facts of each minute (series.ts MinuteFacts): counts, revenue, orders,
 * checkout and login error series, and the breakdown by segment for root-cause hints.
 * Business values leave out bot-flagged events; `requests` and `bot_requests` count all.
 *
 * A session starts at its first event or after 30 minutes without one, and is attributed to
 * the source (utm_source or referrer host) of that first event; it is engaged at its second
 * event (what conversion divides by, and the sessions of the breakdown). lake-history.ts computes the
 * very same facts with SQL; a test holds the two to each other.
 */

export const SESSION_TIMEOUT_MS = 30 * 60_000;
/** Sessions idle this long are forgotten (a little beyond the timeout). */
const SESSION_KEEP_MS = 35 * 60_000;
/** Root-cause hints keep the busiest IP /16 prefixes of a minute, not all of them. */
export const IP16_PER_MINUTE = 20;
export const NONE = '(none)';
export const BREAKDOWN_DIMENSIONS = ['device', 'browser', 'os', 'source', 'category', 'ip16'] as const;

export interface SessionState {
  firstSeen: number;
  lastSeen: number;
  /** Events so far: a session with two or more is engaged (bounces and flood requests have one). */
  events: number;
  source: string;
  /** Segments of the landing event, for the breakdown of engaged sessions. */
  device: string;
  browser: string;
  os: string;
  ip: string | null;
  userAgent: string | null;
  views: number;
  carts: number;
}

interface OpenMinute {
  values: Record<string, number>;
  /** Order id → its revenue in this minute. */
  orders: Map<string, number>;
  breakdown: Breakdown;
  keyedErrors: Record<string, Record<string, number>>;
}

export class MinuteAggregator {
  readonly open = new Map<number, OpenMinute>();
  readonly sessions = new Map<string, SessionState>();
  /** Sessions that carted without a product view so far (what the cart-bot rule looks at). */
  readonly cartWithoutViews = new Set<string>();
  /** Bot sessions → last seen: bot traffic comes in sessions of hundreds of requests, so waves are counted in sessions. */
  readonly botSessions = new Map<string, number>();
  private anonymousOrders = 0;

  /**
   * Adds an event. `minute` is where its counts go, or null when that minute has closed (a
   * late event): the session state still learns from it, the closed minute does not change.
   */
  add(e: DetectorEvent, minute: number | null): void {
    const m = minute === null ? null : this.minute(minute);
    if (m) inc(m.values, 'requests');
    if (e.isBot) {
      if (m) inc(m.values, 'bot_requests');
      if (e.session) {
        const last = this.botSessions.get(e.session);
        if ((last === undefined || e.time - last > SESSION_TIMEOUT_MS) && m) inc(m.values, 'bot_sessions');
        this.botSessions.set(e.session, Math.max(last ?? 0, e.time));
      }
      return;
    }
    const session = e.session ? this.touchSession(e, m) : null;
    if (!m) {
      if (session) this.countSessionEvent(e, session);
      return;
    }
    const v = m.values;
    switch (e.kind) {
      case 'view':
        inc(v, 'views');
        break;
      case 'page_view':
        inc(v, 'page_views');
        break;
      case 'cart':
        inc(v, 'carts');
        break;
      case 'checkout':
        inc(v, 'checkouts');
        break;
      case 'purchase': {
        inc(v, 'purchases');
        const revenue = e.revenue ?? 0;
        v.revenue = (v.revenue ?? 0) + revenue;
        const id = e.orderId ?? `(row ${this.anonymousOrders++})`;
        const seen = m.orders.get(id);
        m.orders.set(id, (seen ?? 0) + revenue);
        const segments = this.segments(e, session);
        if (seen === undefined) {
          inc(v, 'orders');
          inc(v, 'requests.checkout');
          for (const [dim, value] of segments) segment(m.breakdown, dim, value)[1]++;
        }
        for (const [dim, value] of segments) segment(m.breakdown, dim, value)[2] += revenue;
        const category = segment(m.breakdown, 'category', e.category ?? NONE);
        category[1]++;
        category[2] += revenue;
        break;
      }
      default:
        if (PAYMENT_ERROR_KINDS.has(e.kind)) {
          inc(v, 'errors.checkout');
          inc(v, 'requests.checkout');
        } else if (LOGIN_KINDS.has(e.kind)) {
          inc(v, 'requests.login');
        } else if (LOGIN_FAILED_KINDS.has(e.kind)) {
          inc(v, 'errors.login');
          inc(v, 'requests.login');
          m.keyedErrors.login ??= {};
          const keyed = m.keyedErrors.login;
          if (e.user) inc(keyed, `user:${e.user}`);
          if (e.ip) inc(keyed, `ip:${e.ip}`);
        }
    }
    if (session) this.countSessionEvent(e, session);
  }

  /** Counts an event that came after its minute had closed, in the (open) minute it arrived in. */
  countLate(minute: number): void {
    inc(this.minute(minute).values, 'late');
  }

  /** Takes a minute out as closed facts (revenue spread and the top IP prefixes computed now). */
  close(minute: number): MinuteFacts {
    const m = this.open.get(minute);
    this.open.delete(minute);
    if (!m) return { minute, values: {} };
    let sq = 0;
    for (const r of m.orders.values()) sq += r * r;
    if (sq > 0) m.values.revenue_sq = sq;
    const ip16 = m.breakdown.ip16;
    if (ip16 && Object.keys(ip16).length > IP16_PER_MINUTE)
      m.breakdown.ip16 = Object.fromEntries(
        Object.entries(ip16)
          .sort((a, b) => b[1][1] - a[1][1] || a[0].localeCompare(b[0]))
          .slice(0, IP16_PER_MINUTE),
      );
    const facts: MinuteFacts = { minute, values: m.values };
    if (Object.keys(m.breakdown).length > 0) facts.breakdown = m.breakdown;
    if (Object.keys(m.keyedErrors).length > 0) facts.keyedErrors = m.keyedErrors;
    return facts;
  }

  /** Forgets sessions idle for longer than the session timeout (plus a margin) before `now`. */
  evictSessions(now: number): void {
    for (const [id, last] of this.botSessions) if (last < now - SESSION_KEEP_MS) this.botSessions.delete(id);
    for (const [id, s] of this.sessions) {
      if (s.lastSeen >= now - SESSION_KEEP_MS) continue;
      this.sessions.delete(id);
      this.cartWithoutViews.delete(id);
    }
  }

  private minute(start: number): OpenMinute {
    let m = this.open.get(start);
    if (!m) {
      m = { values: {}, orders: new Map(), breakdown: {}, keyedErrors: {} };
      this.open.set(start, m);
    }
    return m;
  }

  /** The event's session, starting one (and counting it) when new or timed out. */
  private touchSession(e: DetectorEvent, m: OpenMinute | null): SessionState {
    const id = e.session!;
    let s = this.sessions.get(id);
    if (!s || e.time - s.lastSeen > SESSION_TIMEOUT_MS) {
      s = {
        firstSeen: e.time,
        lastSeen: e.time,
        events: 0,
        source: e.source ?? 'direct',
        device: e.device ?? NONE,
        browser: e.browser ?? NONE,
        os: e.os ?? NONE,
        ip: e.ip,
        userAgent: e.userAgent,
        views: 0,
        carts: 0,
      };
      this.sessions.set(id, s);
      this.cartWithoutViews.delete(id);
      if (m) inc(m.values, 'sessions');
    }
    s.lastSeen = Math.max(s.lastSeen, e.time);
    // Engaged at its second event: conversion is orders per engaged session, which floods of
    // cookieless single requests do not dilute.
    if (++s.events === 2 && m) {
      inc(m.values, 'engaged_sessions');
      segment(m.breakdown, 'device', s.device)[0]++;
      segment(m.breakdown, 'browser', s.browser)[0]++;
      segment(m.breakdown, 'os', s.os)[0]++;
      segment(m.breakdown, 'source', s.source)[0]++;
    }
    return s;
  }

  private countSessionEvent(e: DetectorEvent, s: SessionState): void {
    if (e.kind === 'view') {
      s.views++;
      this.cartWithoutViews.delete(e.session!);
    } else if (e.kind === 'cart') {
      s.carts++;
      if (s.views === 0) this.cartWithoutViews.add(e.session!);
    }
  }

  private segments(e: DetectorEvent, s: SessionState | null): [string, string][] {
    return [
      ['device', e.device ?? NONE],
      ['browser', e.browser ?? NONE],
      ['os', e.os ?? NONE],
      ['source', s?.source ?? NONE],
      ['ip16', prefix16(e.ip) ?? NONE],
    ];
  }
}

function inc(values: Record<string, number>, key: string): void {
  values[key] = (values[key] ?? 0) + 1;
}

function segment(b: Breakdown, dim: string, value: string): [number, number, number] {
  b[dim] ??= {};
  b[dim][value] ??= [0, 0, 0];
  return b[dim][value];
}
