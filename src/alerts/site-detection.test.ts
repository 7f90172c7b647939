import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DetectorEvent } from './detector-event.js';
import { MemoryBreakdowns } from './detectors/root-cause.js';
import type { MinuteFacts } from './detectors/series.js';
import { DEFAULT_SETTINGS, SiteDetection } from './site-detection.js';
import type { Evaluation } from './types.js';

const T0 = Date.UTC(2026, 10, 23, 12);

function ev(f: Partial<DetectorEvent> & { time: number; kind: string }): DetectorEvent {
  return {
    site: 'shop',
    received: f.time + 1000,
    session: 's1',
    user: null,
    ip: '81.2.3.0',
    isBot: false,
    userAgent: 'Mozilla/5.0',
    device: 'mobile',
    browser: 'Mobile Safari',
    os: 'iOS',
    source: 'google.com',
    category: null,
    orderId: null,
    revenue: null,
    ...f,
  };
}

function run(events: DetectorEvent[], until: number) {
  const evaluations: Evaluation[] = [];
  const closed: MinuteFacts[] = [];
  const site = new SiteDetection('shop', () => DEFAULT_SETTINGS, new MemoryBreakdowns());
  const hooks = { emit: (e: Evaluation) => evaluations.push(e), closed: (f: MinuteFacts) => closed.push(f) };
  for (const e of events) site.ingest(e, hooks);
  site.advance(until, hooks);
  return { site, evaluations, closed };
}

describe('site detection (events → minutes → evaluations)', () => {
  it('closes minutes behind the watermark into facts: sessions by source, orders, revenue spread, errors', () => {
    const { closed, site } = run(
      [
        ev({ time: T0 + 1_000, kind: 'page_view' }),
        ev({ time: T0 + 5_000, kind: 'view', source: 'shop.example' }),
        ev({ time: T0 + 9_000, kind: 'cart' }),
        ev({ time: T0 + 20_000, kind: 'checkout_error' }),
        // One order of two rows, and a second session's order: two orders, three purchase rows.
        ev({ time: T0 + 30_000, kind: 'purchase', orderId: 'o1', revenue: 10, category: 'electronics' }),
        ev({ time: T0 + 30_000, kind: 'purchase', orderId: 'o1', revenue: 20, category: 'apparel' }),
        ev({ time: T0 + 40_000, kind: 'view', session: 's2', source: null, os: 'Android' }),
        ev({ time: T0 + 50_000, kind: 'purchase', session: 's2', orderId: 'o2', revenue: 5, os: 'Android' }),
        ev({ time: T0 + 55_000, kind: 'view', session: 'bot', isBot: true }),
        // Two minutes later a late event for the first minute: it is counted as late, not in its minute.
        ev({ time: T0 + 3 * 60_000, kind: 'view', session: 's3' }),
        ev({ time: T0 + 10_000, kind: 'purchase', orderId: 'late', revenue: 99, received: T0 + 3 * 60_000 }),
      ],
      T0 + 5 * 60_000,
    );
    const first = closed.find((f) => f.minute === T0)!;
    assert.deepEqual(first.values, {
      requests: 9,
      bot_requests: 1,
      bot_sessions: 1,
      sessions: 2,
      engaged_sessions: 2,
      page_views: 1,
      views: 2,
      carts: 1,
      'errors.checkout': 1,
      'requests.checkout': 3,
      purchases: 3,
      revenue: 35,
      orders: 2,
      revenue_sq: 30 ** 2 + 5 ** 2,
    } as unknown as Record<string, number>);
    assert.deepEqual(first.breakdown!.source, { 'google.com': [1, 1, 30], direct: [1, 1, 5] });
    assert.deepEqual(first.breakdown!.os, { iOS: [1, 1, 30], Android: [1, 1, 5] });
    assert.deepEqual(first.breakdown!.category, {
      electronics: [0, 1, 10],
      apparel: [0, 1, 20],
      '(none)': [0, 1, 5],
    });
    assert.equal(site.lateEvents, 1);
    assert.equal(site.series.sum('late', T0, T0 + 4 * 60_000), 1);
    assert.equal(site.series.sum('orders', T0, T0 + 4 * 60_000), 2);
    // Quiet minutes in between are covered as zeros.
    assert.equal(site.series.end, T0 + 4 * 60_000);
  });

  it('evaluates the minute rules at each minute end and the traffic rules every 10 s', () => {
    const events: DetectorEvent[] = [];
    for (let t = T0; t < T0 + 3 * 60_000; t += 2_000) events.push(ev({ time: t, kind: 'view' }));
    const { evaluations } = run(events, T0 + 3 * 60_000);
    const minuteEnds = evaluations.filter((e) => e.rule === 'order_rate').map((e) => e.at - T0);
    assert.deepEqual(minuteEnds, [60_000, 120_000]);
    const ticks = evaluations.filter((e) => e.rule === 'traffic').map((e) => e.at - T0);
    assert.equal(ticks[0], 10_000);
    assert.ok(ticks.every((t, i) => i === 0 || t - ticks[i - 1] === 10_000));
    assert.ok(evaluations.some((e) => e.rule === 'errors'));
    assert.ok(evaluations.every((e) => e.site === 'shop'));
  });

  it('flags a flood in the evaluation right after it starts, and resolves it once it stops', () => {
    const events: DetectorEvent[] = [];
    for (let t = T0; t < T0 + 120_000; t += 3_000)
      events.push(ev({ time: t, kind: 'view', session: `u${t % 7}`, ip: `81.1.${t % 7}.0` }));
    for (let t = T0 + 30_000; t < T0 + 60_000; t += 20)
      events.push(ev({ time: t, kind: 'page_view', session: `f${t}`, ip: '185.220.101.0' }));
    events.sort((a, b) => a.time - b.time);
    const { evaluations } = run(events, T0 + 200_000);
    const flooded = evaluations.filter(
      (e) => e.rule === 'traffic' && e.signals.some((s) => s.labels.alertname === 'request_flood'),
    );
    assert.equal(flooded[0].at, T0 + 40_000);
    assert.equal(flooded[0].signals[0].labels.network, '185.220.101.0/24');
    const last = evaluations.filter((e) => e.rule === 'traffic').at(-1)!;
    assert.deepEqual(last.signals, []);
  });
});
