import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MINUTE, MinuteSeries } from './series.js';
import {
  evaluateThreshold,
  parseThresholdRule,
  parseThresholdRules,
  ruleActive,
  type ThresholdRule,
} from './threshold.js';

const NO_SALES = {
  id: 'no-sales',
  metric: 'purchases',
  windowMinutes: 5,
  op: '<',
  value: 1,
  between: { from: '08:00', to: '23:00' },
};

function series(from: number, to: number, purchasesPerMinute: (m: number) => number) {
  const s = new MinuteSeries();
  for (let m = from; m < to; m += MINUTE)
    s.append({
      minute: m,
      values: {
        purchases: purchasesPerMinute(m),
        orders: purchasesPerMinute(m),
        sessions: 30,
        engaged_sessions: 20,
      },
    });
  return s;
}

function withoutWindow() {
  const { windowMinutes, ...rest } = NO_SALES;
  return rest;
}

describe('threshold rules', () => {
  it('"purchases per 5 min < 1 between 08:00 and 23:00" fires in the day, not at night', () => {
    const parsed = parseThresholdRule(NO_SALES);
    assert.ok(parsed.ok);
    const day = Date.UTC(2026, 10, 23, 14);
    const s = series(day - 60 * MINUTE, day, (m) => (m < day - 5 * MINUTE ? 2 : 0));
    const signal = evaluateThreshold(parsed.value, 'shop', day, s);
    assert.ok(signal);
    assert.deepEqual(signal.labels, {
      alertname: 'threshold',
      site: 'shop',
      rule: 'no-sales',
      metric: 'purchases',
    });
    assert.equal(signal.value, 0);
    assert.match(signal.summary, /purchases over the last 5 min is 0 \(rule no-sales: < 1\)/);
    // One sale in the window: quiet. At 03:00 nobody buys, and the rule is not active.
    assert.equal(
      evaluateThreshold(
        parsed.value,
        'shop',
        day,
        series(day - 60 * MINUTE, day, (m) => (m === day - MINUTE ? 1 : 0)),
      ),
      null,
    );
    const night = Date.UTC(2026, 10, 23, 3);
    assert.equal(
      evaluateThreshold(
        parsed.value,
        'shop',
        night,
        series(night - 60 * MINUTE, night, () => 0),
      ),
      null,
    );
  });

  it('works on ratios and respects time zones, days and sites', () => {
    const rule: ThresholdRule = {
      id: 'conv',
      site: 'shop',
      metric: 'conversion',
      windowMinutes: 10,
      op: '<',
      value: 0.01,
      days: ['mon'],
      between: { from: '22:00', to: '02:00' },
      timeZone: 'Europe/Berlin',
    };
    assert.ok(parseThresholdRule(rule).ok);
    // Monday 23 Nov 2026 21:30 UTC is 22:30 in Berlin: active; 20:30 UTC (21:30 Berlin) is not.
    assert.equal(ruleActive(rule, Date.UTC(2026, 10, 23, 21, 30)), true);
    assert.equal(ruleActive(rule, Date.UTC(2026, 10, 23, 20, 30)), false);
    assert.equal(ruleActive(rule, Date.UTC(2026, 10, 24, 21, 30)), false); // Tuesday
    const end = Date.UTC(2026, 10, 23, 21, 30);
    const s = series(end - 30 * MINUTE, end, () => 0);
    assert.equal(evaluateThreshold(rule, 'shop', end, s)?.value, 0);
    assert.equal(evaluateThreshold(rule, 'other-site', end, s), null);
  });

  it('refuses bad rules with errors that name the rule, the field and the fix', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...NO_SALES, windw: 5 }, /unknown field "windw"; did you mean "windowMinutes"\?/],
      [withoutWindow(), /missing required field "windowMinutes"/],
      [{ ...NO_SALES, op: '=' }, /field "op" is invalid \(one of <, <=, >, >=\): got "="/],
      [
        { ...NO_SALES, metric: 'sales' },
        /unknown metric "sales"; use one of requests, .*orders.*error_rate\.<series>/,
      ],
      [
        { ...NO_SALES, between: { from: '8:00', to: '23:00' } },
        /field "between.from" is invalid \(HH:MM, 24-hour clock\)/,
      ],
      [{ ...NO_SALES, timeZone: 'Mars/Olympus' }, /time zone "Mars\/Olympus" is unknown/],
      [{ ...NO_SALES, id: 'No Sales!' }, /field "id" is invalid \(lowercase letters, digits, - and _\)/],
      ['purchases < 1', /must be a JSON object/],
    ];
    for (const [input, message] of cases) {
      const r = parseThresholdRule(input);
      assert.equal(r.ok, false, JSON.stringify(input));
      if (!r.ok) assert.match(r.errors.join('\n'), message);
    }
    const list = parseThresholdRules([NO_SALES, { ...NO_SALES }, { ...NO_SALES, id: 'x', value: 'one' }]);
    assert.equal(list.ok, false);
    if (!list.ok) {
      assert.match(list.errors.join('\n'), /threshold rule 2: id "no-sales" is used twice/);
      assert.match(list.errors.join('\n'), /threshold rule 3 \("x"\): field "value" is invalid/);
    }
  });
});
