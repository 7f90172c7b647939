import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blocklist, blocklistEntries } from './blocklist.js';
import { MINUTE, MinuteSeries, WEEK } from './series.js';
import { type CartSession, DEFAULT_TRAFFIC, evaluateTraffic, type Offender } from './traffic.js';
import { TrafficCounters, type TrafficEvent } from './traffic-counters.js';

const T0 = Date.UTC(2026, 10, 23, 12);
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

function ev(time: number, ip: string, session: string, more: Partial<TrafficEvent> = {}): TrafficEvent {
  return { time, ip, session, isBot: false, userAgent: CHROME, kind: 'view', orderId: null, ...more };
}

/** A shop's ordinary minute: 300 visitors from 300 networks, a few requests each. */
function normalTraffic(c: TrafficCounters, from: number, to: number): void {
  for (let v = 0; v < 300; v++) {
    const ip = `81.${v % 250}.${(v * 7) % 250}.${(v % 200) + 1}`;
    for (let t = from + v * 97; t < to; t += 15_000) c.add(ev(t, ip, `s${v}`));
  }
}

function run(
  c: TrafficCounters,
  at: number,
  offenders = new Map<string, Offender>(),
  cartSessions: CartSession[] = [],
) {
  const signals = evaluateTraffic({
    site: 'shop',
    at,
    counters: c,
    offenders,
    cartSessions,
    series: new MinuteSeries(),
    options: DEFAULT_TRAFFIC,
  });
  return { signals, offenders };
}

describe('flood and bot detectors', () => {
  it('flags a flood from 3 IPs in one /24 within 20 s, with those IPs, and nothing else', () => {
    const c = new TrafficCounters();
    normalTraffic(c, T0 - MINUTE, T0 + 20_000);
    const before = run(c, T0);
    assert.deepEqual(before.signals, []);
    const flooders = ['185.220.101.7', '185.220.101.33', '185.220.101.201'];
    // 20 requests a second from each, a new session every time (no cookies), starting at T0.
    for (let t = T0; t < T0 + 20_000; t += 50)
      for (const ip of flooders) c.add(ev(t, ip, `f-${ip}-${t}`, { userAgent: CHROME }));
    const { signals, offenders } = run(c, T0 + 20_000);
    const floods = signals.filter((s) => s.labels.alertname === 'request_flood');
    assert.equal(floods.length, 1, JSON.stringify(signals.map((s) => s.summary)));
    assert.equal(floods[0].labels.network, '185.220.101.0/24');
    assert.equal(floods[0].severity, 'critical');
    const ips = (floods[0].evidence!.ips as { ip: string }[]).map((x) => x.ip).sort();
    assert.deepEqual(ips, [...flooders].sort());
    const flagged = [...offenders.values()]
      .filter((o) => o.kind === 'ip')
      .map((o) => o.key)
      .sort();
    assert.deepEqual(flagged, [...flooders].sort());
    const net = offenders.get('network:185.220.101.0/24')!;
    assert.ok(net.reasons.includes('many_sessions') && net.reasons.includes('request_rate'));
    assert.equal(net.firstSeen, T0);
    assert.deepEqual(net.userAgents, [CHROME]);
  });

  it('lists fast scrapers for the blocklist without alerting, and leaves welcome crawlers alone', () => {
    const c = new TrafficCounters();
    normalTraffic(c, T0 - MINUTE, T0);
    for (let t = T0 - MINUTE; t < T0; t += 400)
      c.add(ev(t, '34.89.10.20', 'scraper', { isBot: true, userAgent: 'python-requests/2.31.0' }));
    for (let t = T0 - MINUTE; t < T0; t += 500)
      c.add(ev(t, '66.249.66.1', 'google', { isBot: true, userAgent: GOOGLEBOT }));
    const { signals, offenders } = run(c, T0);
    assert.deepEqual(signals, []);
    assert.deepEqual([...offenders.keys()], ['ip:34.89.10.20']);
    assert.deepEqual(offenders.get('ip:34.89.10.20')!.reasons, ['scraper']);
  });

  it('detects card testing: many failing payments from one address', () => {
    const c = new TrafficCounters();
    for (let i = 0; i < 8; i++) {
      const t = T0 - 5 * MINUTE + i * 30_000;
      c.add(ev(t, '45.95.147.9', `ct${i}`, { kind: 'checkout' }));
      c.add(
        ev(t + 1000, '45.95.147.9', `ct${i}`, {
          kind: i === 5 ? 'purchase' : 'checkout_error',
          orderId: i === 5 ? 'o5' : null,
        }),
      );
    }
    // A shopper whose card failed once and then went through is not a card tester.
    c.add(ev(T0 - 60_000, '88.1.2.3', 'shopper', { kind: 'checkout_error' }));
    c.add(ev(T0 - 50_000, '88.1.2.3', 'shopper', { kind: 'purchase', orderId: 'o9' }));
    const { signals, offenders } = run(c, T0);
    const card = signals.find((s) => s.labels.alertname === 'card_testing');
    assert.ok(card, JSON.stringify(signals));
    assert.match(card.summary, /8 payment attempts \(7 failed\)/);
    assert.deepEqual([...offenders.keys()], ['ip:45.95.147.9']);
  });

  it('detects sessions that add to cart without viewing products, and fast sessions', () => {
    const c = new TrafficCounters();
    for (let t = T0 - 10_000; t < T0; t += 100) c.add(ev(t, '91.92.251.4', 'hammer'));
    const carts: CartSession[] = [0, 1, 2, 3].map((i) => ({
      session: `cb${i}`,
      ip: `104.244.76.${i + 1}`,
      userAgent: CHROME,
      views: 0,
      carts: 5,
      firstSeen: T0 - 2 * MINUTE,
      lastSeen: T0 - MINUTE,
    }));
    carts.push({ ...carts[0], session: 'real', views: 4, carts: 5 });
    const { signals } = run(c, T0, new Map(), carts);
    const names = signals.map((s) => s.labels.alertname).sort();
    assert.deepEqual(names, ['cart_bots', 'session_flood']);
    const cartBots = signals.find((s) => s.labels.alertname === 'cart_bots')!;
    assert.equal(cartBots.value, 4);
  });

  it('fires a bot wave when bot requests are several times their usual level', () => {
    const series = new MinuteSeries();
    const end = T0;
    for (let m = end - 3 * WEEK - 60 * MINUTE; m < end; m += MINUTE) {
      const wave = m >= end - 10 * MINUTE;
      series.append({
        minute: m,
        values: { requests: 1000, bot_requests: wave ? 900 : 150, bot_sessions: wave ? 8 : 2 },
      });
    }
    const signals = evaluateTraffic({
      site: 'shop',
      at: end + 10_000,
      counters: new TrafficCounters(),
      offenders: new Map(),
      cartSessions: [],
      series,
      options: DEFAULT_TRAFFIC,
    });
    assert.deepEqual(
      signals.map((s) => s.labels.alertname),
      ['bot_wave'],
    );
    assert.equal(signals[0].band!.expected, 20);
    assert.match(
      signals[0].summary,
      /^Bot wave: 80 bot sessions in the last 10 min \(9000 requests\), 4\.0× the usual 20$/,
    );
  });

  it('exports a blocklist: networks first, covered addresses left out, only valid targets', () => {
    const base = {
      firstSeen: T0,
      lastSeen: T0,
      flaggedAt: T0,
      lastFlagged: T0,
      requests10s: 0,
      requests60s: 0,
      botRequests: 0,
      userAgents: [],
    };
    const offenders: Offender[] = [
      { ...base, kind: 'network', key: '185.220.101.0/24', reasons: ['request_rate'], peak60s: 9000 },
      { ...base, kind: 'ip', key: '185.220.101.7', reasons: ['many_sessions'], peak60s: 3000 },
      { ...base, kind: 'ip', key: '34.89.10.20', reasons: ['scraper'], peak60s: 150 },
      { ...base, kind: 'ip', key: '1.2.3.4;\ninclude /etc/passwd', reasons: ['scraper'], peak60s: 150 },
      { ...base, kind: 'session', key: 'cb1', reasons: ['cart_without_views'], peak60s: 0 },
    ];
    assert.equal(blocklist(offenders, { format: 'plain' }), '185.220.101.0/24\n34.89.10.20\n');
    const nginx = blocklist(offenders, { format: 'nginx', site: 'shop', now: T0 });
    assert.match(nginx, /^# storepulse blocklist for site "shop", 2026-11-23T12:00:00.000Z: 2 entries\n/);
    assert.match(nginx, /^deny 185\.220\.101\.0\/24; {2}# request_rate; peak 9000 req\/min/m);
    assert.match(nginx, /^deny 34\.89\.10\.20; {2}# scraper/m);
    assert.doesNotMatch(nginx, /passwd/);
    // With anonymised addresses (last octet zeroed), the /24 is what can be blocked.
    const anon = blocklistEntries(
      [{ ...base, kind: 'ip', key: '45.95.147.0', reasons: ['card_testing'], peak60s: 9 }],
      {
        anonymizedIps: true,
      },
    );
    assert.deepEqual(
      anon.map((e) => e.target),
      ['45.95.147.0/24'],
    );
  });
});
