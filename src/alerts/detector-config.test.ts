import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseDetectorConfig, settingsBySite } from './detector-config.js';
import { DEFAULT_ORDER_RATE, SENSITIVITY } from './detectors/order-rate.js';
import { DEFAULT_SETTINGS } from './site-detection.js';

describe('per-site detector settings', () => {
  it('merges overrides into the defaults; false turns a detector off', () => {
    const parsed = parseDetectorConfig({
      orderRate: {
        direction: 'drop',
        sensitivity: 'high',
        metrics: ['orders', 'revenue'],
        windows: [10, 30],
      },
      traffic: { ipPer60s: 1200 },
      errors: false,
      thresholds: [{ id: 'no-sales', metric: 'purchases', windowMinutes: 5, op: '<', value: 1 }],
    });
    assert.ok(parsed.ok);
    const s = parsed.value;
    assert.equal(s.orderRate!.direction, 'drop');
    assert.equal(s.orderRate!.z, SENSITIVITY.high);
    assert.deepEqual(s.orderRate!.windows, [10, 30]);
    assert.equal(s.orderRate!.minExpectedOrders, DEFAULT_ORDER_RATE.minExpectedOrders);
    assert.equal(s.traffic!.ipPer60s, 1200);
    assert.equal(s.traffic!.ipPer10s, DEFAULT_SETTINGS.traffic!.ipPer10s);
    assert.equal(s.errors, null);
    assert.equal(s.thresholds[0].id, 'no-sales');
    const numeric = parseDetectorConfig({ orderRate: { sensitivity: 4.5 }, traffic: false });
    assert.ok(numeric.ok && numeric.value.orderRate!.z === 4.5 && numeric.value.traffic === null);
  });

  it('refuses unknown and invalid fields by name, threshold rules included', () => {
    const cases: [unknown, RegExp][] = [
      [{ orderRate: { directon: 'drop' } }, /unknown field "orderRate.directon"/],
      [
        { orderRate: { direction: 'down' } },
        /field "orderRate.direction" is invalid \(drop, spike or both\): got "down"/,
      ],
      [
        { orderRate: { sensitivity: 'extreme' } },
        /field "orderRate.sensitivity" is invalid \(low, medium, high, or standard deviations/,
      ],
      [
        { traffic: { ipPer60s: 0 } },
        /field "traffic.ipPer60s" is invalid \(requests one IP may send in 60 s\): got 0/,
      ],
      [{ alerts: true }, /unknown field "alerts"/],
      [
        { thresholds: [{ id: 'x', metric: 'sales', windowMinutes: 5, op: '<', value: 1 }] },
        /threshold rule 1 \("x"\): unknown metric "sales"/,
      ],
    ];
    for (const [input, message] of cases) {
      const r = parseDetectorConfig(input);
      assert.equal(r.ok, false, JSON.stringify(input));
      if (!r.ok) assert.match(r.errors.join('\n'), message);
    }
  });

  it('gives each site its settings, "*" the rest', () => {
    const bySite = settingsBySite({ '*': { orderRate: { direction: 'drop' } }, shop: { orderRate: false } });
    assert.ok(bySite.ok);
    assert.equal(bySite.value('shop').orderRate, null);
    assert.equal(bySite.value('other').orderRate!.direction, 'drop');
    const bad = settingsBySite({ shop: { traffic: { ipPer10s: -1 } } });
    assert.ok(!bad.ok && /detector settings of site "shop": field "traffic.ipPer10s"/.test(bad.errors[0]));
  });

  it('accepts examples/detectors.json', () => {
    const parsed = settingsBySite(JSON.parse(readFileSync('examples/detectors.json', 'utf8')));
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.errors.join('\n'));
    assert.deepEqual(
      parsed.value('any').thresholds.map((r) => r.id),
      ['no-sales', 'checkout-errors'],
    );
    assert.equal(parsed.value('b2b-shop').errors, null);
  });
});
