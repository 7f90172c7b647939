import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSnapshot } from './snapshot.js';
import { T0, testEvent } from './test-events.js';
import { DEFAULT_WINDOW_OPTIONS, HOUR, MINUTE, WindowEngine } from './windows.js';

const at = (m: number, s: number) => T0 + m * MINUTE + s * 1000;
const ARRIVAL = at(3, 40);

describe('event-time windows with a watermark (allowed lateness 60 s)', () => {
  // [event time, visitor, expected outcome]; received 2 s after the event unless late.
  const sequence: [number, string, 'accepted' | 'late'][] = [
    [at(0, 10), 'a', 'accepted'], // watermark → 11:59:10
    [at(0, 50), 'b', 'accepted'], // → 11:59:50
    [at(1, 30), 'a', 'accepted'], // → 12:00:30
    [at(0, 20), 'c', 'accepted'], // out of order, but 12:00 is still open
    [at(2, 5), 'd', 'accepted'], // → 12:01:05: closes 12:00
    [at(0, 55), 'e', 'late'], // 12:00 has closed
    [at(1, 59), 'b', 'accepted'], // 12:01 is open until the watermark reaches 12:02
    [at(3, 30), 'a', 'accepted'], // → 12:02:30: closes 12:01
    [at(-2, 0), 'f', 'late'], // far behind
  ];

  const run = () => {
    const engine = new WindowEngine(DEFAULT_WINDOW_OPTIONS);
    const outcomes = sequence.map(([time, visitor, expected]) =>
      engine.ingest(
        testEvent({
          type: 'page_view',
          time,
          visitor,
          receivedAt: expected === 'late' ? ARRIVAL : time + 2000,
        }),
      ),
    );
    return { engine, outcomes, site: engine.site('shop') };
  };

  it('accepts out-of-order events within the lateness and counts later ones as late, by arrival minute', () => {
    const { outcomes, site } = run();
    assert.deepEqual(
      outcomes,
      sequence.map(([, , expected]) => expected),
    );
    assert.equal(site.watermark, at(2, 30));
    const minute = (m: number) => site.windows.minute.get(at(m, 0));
    assert.deepEqual(
      [0, 1, 2, 3].map((m) => [minute(m)?.agg.events, minute(m)?.closed]),
      [
        [3, true],
        [2, true],
        [1, false],
        [1, false],
      ],
    );
    const hour = site.windows.hour.get(T0);
    assert.equal(hour?.agg.events, 7, 'the hour is the sum of its minutes: late events are in neither');
    assert.equal(hour?.closed, false);
    assert.deepEqual(site.abnormal.minute.get(at(3, 0)), { late: 2, quarantined: 0, invalid: 0 });
    assert.deepEqual(site.abnormal.hour.get(T0), { late: 2, quarantined: 0, invalid: 0 });
    assert.deepEqual(
      site.feed.list(2).map((f) => [f.visitor_id, f.late]),
      [
        ['f', true],
        ['a', false],
      ],
    );
  });

  it('closes the hour when the watermark passes its end', () => {
    const { engine, site } = run();
    engine.ingest(testEvent({ type: 'page_view', time: T0 + HOUR + 61_000, visitor: 'z' }));
    assert.equal(site.windows.hour.get(T0)?.closed, true);
    assert.equal(site.windows.hour.get(T0 + HOUR)?.closed, false);
  });

  it('does not let a sender clock that runs ahead move the watermark past the arrival time', () => {
    const { engine, site } = run();
    // Stamped 12:09 but received at 12:03:45: the watermark moves to 12:02:45, not 12:08.
    engine.ingest(testEvent({ type: 'view', time: at(9, 0), visitor: 'skewed', receivedAt: at(3, 45) }));
    assert.equal(site.watermark, at(2, 45));
    assert.equal(engine.ingest(testEvent({ type: 'view', time: at(3, 0), visitor: 'g' })), 'accepted');
  });

  it('serves the last-5-minutes view and a zero-filled per-minute series', () => {
    const { engine, site } = run();
    const live = site.lastMinutes(ARRIVAL, 5).summary();
    assert.equal(live.events, 7);
    assert.equal(live.visitors, 4); // a, b, c, d
    const snap = buildSnapshot(
      'shop',
      engine.sites.get('shop'),
      { range: 'live', now: ARRIVAL },
      DEFAULT_WINDOW_OPTIONS,
    );
    assert.equal(snap.series.length, 60);
    assert.deepEqual(
      snap.series.slice(-5).map((p) => [p.start, p.events, p.visitors, p.late, p.closed]),
      [
        [at(-1, 0), 0, 0, 0, true],
        [at(0, 0), 3, 3, 0, true],
        [at(1, 0), 2, 2, 0, true],
        [at(2, 0), 1, 1, 0, false],
        [at(3, 0), 1, 1, 2, false],
      ],
    );
    assert.equal(snap.live?.activeVisitors, 4);
    assert.equal(snap.totals.events, 7);
    assert.equal(snap.totals.late, 2);
    assert.equal(snap.recent.length, 9);
    const hourly = buildSnapshot(
      'shop',
      site,
      { range: { from: T0, to: T0 + 2 * HOUR }, resolution: 'hour' },
      DEFAULT_WINDOW_OPTIONS,
    );
    assert.deepEqual(
      hourly.series.map((p) => [p.start, p.events, p.late]),
      [
        [T0, 7, 2],
        [T0 + HOUR, 0, 0],
      ],
    );
    assert.equal(hourly.live, null);
  });
});
