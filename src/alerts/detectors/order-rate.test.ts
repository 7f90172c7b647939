import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ORDER_RATE, evaluateOrderRate, type OrderRateOptions, orderRateBand } from './order-rate.js';
import { MemoryBreakdowns } from './root-cause.js';
import { DAY, HOUR, MINUTE, MinuteSeries, WEEK } from './series.js';
import { shopShape, splitBreakdown, syntheticFacts, syntheticSeries } from './synthetic.js';

const MONDAY = Date.UTC(2026, 10, 2); // Monday 2 November 2026, 00:00 UTC
const NOW = MONDAY + 4 * WEEK + 9 * HOUR + 30 * MINUTE; // Monday 09:30, in the peak
const options: OrderRateOptions = {
  ...DEFAULT_ORDER_RATE,
  metrics: ['orders', 'revenue', 'aov', 'conversion'],
};

describe('order-rate anomaly detector', () => {
  it('does not fire on the Monday-morning peak that happens every week', () => {
    const series = syntheticSeries({ startMs: MONDAY, endMs: NOW, seed: 1, ordersPerMinute: 20 });
    // The peak doubles the rate against Sunday evening and the hours before: a naive detector would fire.
    assert.ok(shopShape(NOW - 10 * MINUTE) > 1.5 * shopShape(NOW - 3 * HOUR));
    const { signals, verdicts } = evaluateOrderRate({ site: 'shop', end: NOW, series, options });
    assert.deepEqual(signals, []);
    assert.ok(
      verdicts.every((v) => v.status === 'normal' && v.baseline === 'weekly'),
      JSON.stringify(verdicts),
    );
  });

  it('stays quiet through a normal week of minutes (no false alarm)', () => {
    const series = syntheticSeries({
      startMs: MONDAY,
      endMs: MONDAY + 5 * WEEK,
      seed: 2,
      ordersPerMinute: 20,
    });
    let fired = 0;
    for (let end = MONDAY + 4 * WEEK; end < MONDAY + 5 * WEEK; end += 5 * MINUTE)
      fired += evaluateOrderRate({ site: 'shop', end, series, options }).signals.length;
    assert.equal(fired, 0);
  });

  it('fires on a 50% drop with the expected band and the actual value', () => {
    const dropFrom = NOW - 15 * MINUTE;
    const series = syntheticSeries({
      startMs: MONDAY,
      endMs: NOW,
      seed: 3,
      ordersPerMinute: 20,
      changes: [{ startMs: dropFrom, endMs: NOW, factor: 0.5 }],
    });
    const { signals } = evaluateOrderRate({ site: 'shop', end: NOW, series, options });
    const orders = signals.find((s) => s.labels.metric === 'orders');
    assert.ok(orders, JSON.stringify(signals.map((s) => s.summary)));
    assert.equal(orders.labels.alertname, 'order_rate_anomaly');
    assert.equal(orders.labels.direction, 'drop');
    assert.equal(orders.severity, 'critical');
    assert.equal(orders.at, NOW);
    const w = orders.evidence!.windowMinutes as number;
    // The band is about the usual orders of that window (rate × shape × minutes) and the value is below it.
    let usual = 0;
    for (let m = NOW - w * MINUTE; m < NOW; m += MINUTE) usual += 20 * shopShape(m);
    const band = orders.band!;
    assert.ok(Math.abs(band.expected / usual - 1) < 0.15, `expected ${band.expected}, usual ${usual}`);
    assert.ok(band.lower < band.expected && band.expected < band.upper);
    assert.ok(orders.value! < band.lower && orders.value! < 0.7 * usual);
    assert.match(orders.summary, /^Orders dropped \d+% over the last \d+ min: \d+ vs \d+ expected/);
    // Conversion falls with the orders (sessions are unchanged); the average order value does not move.
    assert.ok(signals.some((s) => s.labels.metric === 'conversion' && s.labels.direction === 'drop'));
    assert.ok(!signals.some((s) => s.labels.metric === 'aov'));
  });

  it('charts the band the rule tests: inside before the drop, below it once the alert fires', () => {
    const dropFrom = NOW - 15 * MINUTE;
    const series = syntheticSeries({
      startMs: MONDAY,
      endMs: NOW,
      seed: 3,
      ordersPerMinute: 20,
      changes: [{ startMs: dropFrom, endMs: NOW, factor: 0.5 }],
    });
    const orders = evaluateOrderRate({ site: 'shop', end: NOW, series, options }).signals.find(
      (s) => s.labels.metric === 'orders',
    );
    assert.ok(orders);
    const w = orders.evidence!.windowMinutes as number;
    // At the alert's minute the chart's point is the alert's value and band.
    const at = orderRateBand(series, 'orders', NOW, w, options)!;
    assert.equal(at.actual, orders.value);
    assert.ok(Math.abs(at.expected - orders.band!.expected) < 1e-9);
    assert.ok(
      Math.abs(at.lower - orders.band!.lower) < 1e-9 && Math.abs(at.upper - orders.band!.upper) < 1e-9,
    );
    // Every window that ends before the drop lies inside its band.
    let outside = 0;
    for (let end = dropFrom - 2 * HOUR; end <= dropFrom; end += MINUTE) {
      const b = orderRateBand(series, 'orders', end, w, options)!;
      assert.ok(b.lower < b.expected && b.expected < b.upper);
      if (b.actual < b.lower || b.actual > b.upper) outside++;
    }
    assert.equal(outside, 0);
  });

  it('fires on a spike, and only in the configured direction', () => {
    const series = syntheticSeries({
      startMs: MONDAY,
      endMs: NOW,
      seed: 4,
      ordersPerMinute: 20,
      changes: [{ startMs: NOW - 10 * MINUTE, endMs: NOW, factor: 2 }],
    });
    const both = evaluateOrderRate({ site: 'shop', end: NOW, series, options });
    assert.ok(both.signals.some((s) => s.labels.metric === 'orders' && s.labels.direction === 'spike'));
    const dropsOnly = evaluateOrderRate({
      site: 'shop',
      end: NOW,
      series,
      options: { ...options, direction: 'drop' },
    });
    assert.ok(!dropsOnly.signals.some((s) => s.labels.metric === 'orders'));
  });

  it('falls back to the last days, then to "not enough history", while warming up', () => {
    const daysOnly = syntheticSeries({ startMs: NOW - 5 * DAY, endMs: NOW, seed: 5, ordersPerMinute: 20 });
    const daily = evaluateOrderRate({ site: 'shop', end: NOW, series: daysOnly, options });
    assert.ok(
      daily.verdicts.every((v) => v.status !== 'no_history' && 'baseline' in v && v.baseline === 'daily'),
    );
    const fresh = syntheticSeries({ startMs: NOW - 2 * DAY, endMs: NOW, seed: 5, ordersPerMinute: 20 });
    const none = evaluateOrderRate({ site: 'shop', end: NOW, series: fresh, options });
    assert.deepEqual(
      none.verdicts.map((v) => v.status),
      options.metrics.map(() => 'no_history'),
    );
    assert.deepEqual(none.signals, []);
  });

  it('gives no verdict when too few orders are expected to tell', () => {
    const tiny = syntheticSeries({
      startMs: MONDAY,
      endMs: NOW,
      seed: 6,
      ordersPerMinute: 0.05,
      changes: [{ startMs: NOW - 60 * MINUTE, endMs: NOW, factor: 0 }],
    });
    const { signals, verdicts } = evaluateOrderRate({ site: 'shop', end: NOW, series: tiny, options });
    assert.deepEqual(signals, []);
    assert.ok(verdicts.every((v) => v.status === 'low_volume'));
  });

  it('names the segment that explains a drop', () => {
    const dropFrom = NOW - 30 * MINUTE;
    const facts = syntheticFacts({
      startMs: MONDAY,
      endMs: NOW,
      seed: 7,
      ordersPerMinute: 40,
      changes: [{ startMs: dropFrom, endMs: NOW, factor: 0.7 }],
    });
    const breakdowns = new MemoryBreakdowns();
    const normal = {
      os: { iOS: 0.3, Android: 0.3, Windows: 0.3, 'Mac OS': 0.1 },
      device: { mobile: 0.6, desktop: 0.4 },
    };
    // During the drop the iOS orders are gone (30% of all), the rest is as usual.
    const broken = {
      os: { iOS: 0, Android: 0.3 / 0.7, Windows: 0.3 / 0.7, 'Mac OS': 0.1 / 0.7 },
      device: { mobile: 0.3 / 0.7, desktop: 0.4 / 0.7 },
    };
    const series = new MinuteSeries();
    for (const f of facts) {
      series.append(f);
      breakdowns.put(f.minute, splitBreakdown(f.values.orders, f.minute >= dropFrom ? broken : normal));
    }
    const { signals } = evaluateOrderRate({ site: 'shop', end: NOW, series, options, breakdowns });
    const orders = signals.find((s) => s.labels.metric === 'orders' && s.labels.direction === 'drop');
    assert.ok(orders, JSON.stringify(signals.map((s) => s.summary)));
    const hint = orders.evidence!.rootCause as { segments: { dimension: string; value: string }[] };
    assert.equal(hint.segments[0].dimension, 'os');
    assert.equal(hint.segments[0].value, 'iOS');
    assert.match(orders.summary, /mostly os=iOS/);
  });
});
