import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DAY, MINUTE, MinuteSeries } from './detectors/series.js';
import { evaluateThreshold, type ThresholdRule } from './detectors/threshold.js';
import { type PointSource, previewThresholdRule } from './rule-preview.js';

const END = Date.UTC(2026, 10, 23, 12);
const OUTAGE = { from: END - 2 * DAY, to: END - 2 * DAY + 30 * MINUTE };

/** Eight days of a shop selling 2 orders a minute from 40 sessions, with a 30-minute outage. */
function shop(): MinuteSeries {
  const s = new MinuteSeries();
  for (let m = END - 8 * DAY; m < END; m += MINUTE) {
    const down = m >= OUTAGE.from && m < OUTAGE.to;
    s.append({
      minute: m,
      values: { orders: down ? 0 : 2, sessions: 40, engaged_sessions: 40, requests: 300 },
    });
  }
  return s;
}

/** What DetectionEngine.points() answers: per-minute values, null outside the data, ≤ 2880 a call. */
function pointsOf(s: MinuteSeries): PointSource {
  return (metric, from, to) => {
    const out = [];
    for (let m = from; m < to && out.length < 2880; m += MINUTE)
      out.push({ minute: m, value: s.value(metric, m) });
    return out;
  };
}

const NO_ORDERS: ThresholdRule = { id: 'no-orders', metric: 'orders', windowMinutes: 10, op: '<', value: 1 };

describe('threshold rule preview', () => {
  it('finds the outage in the last 7 days, minute for minute as the live evaluation', () => {
    const series = shop();
    const started = performance.now();
    const p = previewThresholdRule({ rule: NO_ORDERS, site: 'shop', points: pointsOf(series), to: END });
    const ms = performance.now() - started;
    assert.ok(ms < 1000, `7 days previewed in ${ms.toFixed(0)} ms`);
    assert.equal(p.series.length, 7 * 1440);
    assert.equal(p.evaluated, 7 * 1440);
    // The first window of 10 empty minutes ends 10 min in; the first with an order again ends a minute after.
    assert.deepEqual(p.intervals, [
      { start: OUTAGE.from + 10 * MINUTE, end: OUTAGE.to + MINUTE, peak: 0, open: false },
    ]);
    assert.equal(p.firedMinutes, 21);
    let live = 0;
    for (let end = p.from + MINUTE; end <= p.to; end += MINUTE)
      if (evaluateThreshold(NO_ORDERS, 'shop', end, series)) live++;
    assert.equal(live, p.firedMinutes);
    const [t, v] = p.series.find(([at]) => at === OUTAGE.from + 10 * MINUTE) ?? [];
    assert.deepEqual([t, v], [OUTAGE.from + 10 * MINUTE, 0]);
  });

  it('reads both halves of a ratio and respects active hours', () => {
    const rule: ThresholdRule = {
      id: 'conversion',
      metric: 'conversion',
      windowMinutes: 30,
      op: '<',
      value: 0.03,
      between: { from: '08:00', to: '20:00' },
    };
    const p = previewThresholdRule({ rule, site: 'shop', points: pointsOf(shop()), to: END });
    assert.equal(p.series.find(([at]) => at === END - DAY)?.[1], 0.05);
    // The outage starts at 12:00 UTC, inside the active hours.
    assert.equal(p.intervals.length, 1);
    assert.ok(p.intervals[0].start > OUTAGE.from && p.intervals[0].end <= OUTAGE.to + 30 * MINUTE);
    assert.equal(p.evaluated, 7 * 12 * 60);
  });

  it('says when an open incident is still firing at the end of the data', () => {
    const s = shop();
    const p = previewThresholdRule({
      rule: { ...NO_ORDERS, op: '>', value: 5 },
      site: 'shop',
      points: pointsOf(s),
      to: END,
    });
    assert.equal(p.intervals.length, 2);
    assert.equal(p.intervals[1].open, true);
    assert.equal(p.intervals[1].end, END);
    assert.equal(p.intervals[0].start, END - 7 * DAY + MINUTE);
    assert.equal(p.intervals[0].peak, 20);
  });

  it('explains an empty answer', () => {
    const empty = previewThresholdRule({ rule: NO_ORDERS, site: 'shop', points: () => [], to: END });
    assert.deepEqual([empty.intervals, empty.series.length], [[], 0]);
    assert.match(empty.note ?? '', /no per-minute data/);
    const other = previewThresholdRule({
      rule: { ...NO_ORDERS, site: 'other' },
      site: 'shop',
      points: pointsOf(shop()),
      to: END,
    });
    assert.match(other.note ?? '', /site "other" only/);
  });
});
