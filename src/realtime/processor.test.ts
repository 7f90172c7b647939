import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { CanonicalEvent } from '../events/model.js';
import { TOPICS } from '../stream/event-log.js';
import { SqliteEventLog } from '../stream/sqlite-log.js';
import { eventually } from '../testing/server-process.js';
import { RealtimeProcessor, type RealtimeUpdate } from './processor.js';
import { T0, testEvent } from './test-events.js';
import { HOUR, MINUTE } from './windows.js';

const append = (log: SqliteEventLog, events: CanonicalEvent[]) =>
  log.append(
    TOPICS.events,
    events.map((e) => ({
      key: `${e.site_id}:${e.event_id}`,
      value: JSON.stringify(e),
      timestamp: e.received_at,
    })),
  );

/** One view per visitor-minute: `perMinute` events in each of `minutes` minutes from `start`. */
const minutes = (start: number, count: number, perMinute: number, site = 'shop') =>
  Array.from({ length: count * perMinute }, (_, i) =>
    testEvent({
      type: i % 10 === 9 ? 'purchase' : 'view',
      time: start + Math.floor(i / perMinute) * MINUTE + (i % perMinute) * 100,
      visitor: `v${i % 7}`,
      price: 10,
      site,
    }),
  );

describe('realtime processor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-realtime-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const log = new SqliteEventLog({ dir: join(dir, 'stream'), fsync: false });
  after(() => log.close());
  const make = () =>
    new RealtimeProcessor({
      log,
      dataDir: dir,
      checkpointIntervalMs: 100,
      updateIntervalMs: 300,
      onError: () => {},
    });
  const caughtUp = async (p: RealtimeProcessor) => {
    const last = (await log.stats(TOPICS.events)).lastPosition;
    await eventually(async () => p.status().positions[TOPICS.events] === last, 10_000, 20);
  };
  const perMinute = (p: RealtimeProcessor, from: number, to: number) =>
    p.snapshot('shop', { range: { from, to } }).series.map((s) => s.events);

  it('counts each record once across restarts, whether the group is ahead of or behind the checkpoint', async () => {
    await append(log, minutes(T0, 3, 20));
    let p = make();
    await p.start();
    await caughtUp(p);
    assert.deepEqual(perMinute(p, T0, T0 + 3 * MINUTE), [20, 20, 20]);
    await p.stop();

    // The group commit is ahead of the checkpoint (as after a crash between the two): replayed anyway.
    await append(log, minutes(T0 + 3 * MINUTE, 1, 20));
    await log.seek(TOPICS.events, 'realtime', 'latest');
    p = make();
    await p.start();
    await caughtUp(p);
    assert.deepEqual(perMinute(p, T0, T0 + 4 * MINUTE), [20, 20, 20, 20]);
    await p.stop();

    // The group is behind the checkpoint: nothing is counted twice.
    await log.seek(TOPICS.events, 'realtime', 'earliest');
    p = make();
    await p.start();
    await caughtUp(p);
    const snap = p.snapshot('shop', { range: { from: T0, to: T0 + 4 * MINUTE } });
    assert.deepEqual(
      snap.series.map((s) => s.events),
      [20, 20, 20, 20],
    );
    assert.equal(snap.totals.orders, 8);
    assert.equal(snap.totals.revenue, 80);
    assert.equal(snap.totals.visitors, 7);
    await p.stop();
  });

  it('reads windows that left memory from the checkpoint DB, and rebuilds the same numbers from the stream', async () => {
    // Three hours later: the first minutes fall behind the hot horizon and are read from SQLite.
    await append(log, minutes(T0 + 3 * HOUR, 2, 5));
    const p = make();
    await p.start();
    await caughtUp(p);
    await eventually(async () => p.status().sites[0].windowsInMemory < 10, 5000, 20);
    const before = p.snapshot('shop', { range: { from: T0, to: T0 + 4 * HOUR }, resolution: 'hour' });
    assert.deepEqual(perMinute(p, T0, T0 + 4 * MINUTE), [20, 20, 20, 20]);
    assert.deepEqual(
      before.series.map((s) => s.events),
      [80, 0, 0, 10],
    );

    await p.rebuild({ time: 0 });
    await caughtUp(p);
    const rebuilt = p.snapshot('shop', { range: { from: T0, to: T0 + 4 * HOUR }, resolution: 'hour' });
    assert.deepEqual(rebuilt.series, before.series);
    assert.deepEqual(rebuilt.totals, before.totals);
    await p.stop();
  });

  it('counts quarantined records per site and pushes at most one update per interval per site', async () => {
    const p = make();
    const updates: RealtimeUpdate[] = [];
    p.onUpdate((u) => u.siteId === 'live' && updates.push(u));
    await p.start();
    const now = Date.now();
    for (let i = 0; i < 5; i++) {
      // Its own site: 'shop' has a watermark hours ahead of the wall clock by now.
      await append(log, [
        testEvent({ type: 'page_view', time: now, visitor: `live${i}`, receivedAt: now, site: 'live' }),
      ]);
      await new Promise((r) => setTimeout(r, 40));
    }
    await log.append(TOPICS.badRecords, [
      {
        key: 'bad-1',
        value: JSON.stringify({
          bad_id: 'bad-1',
          received_at: now,
          site_id: 'live',
          source: 'api',
          reason: 'missing required field "type"',
          raw: '{}',
          line: null,
          file: null,
        }),
      },
    ]);
    await eventually(
      async () =>
        updates.some((u) => u.snapshot.live?.activeVisitors === 5 && u.snapshot.totals.quarantined === 1),
      5000,
      20,
    );
    const times = updates.map((u) => u.at);
    for (let i = 1; i < times.length; i++)
      assert.ok(times[i] - times[i - 1] >= 290, `updates ${times[i] - times[i - 1]} ms apart`);
    const last = updates.at(-1)!.snapshot;
    assert.equal(last.recent[0].visitor_id, 'live4');
    assert.ok(updates.length <= 3, `${updates.length} updates for 5 batches within ~0.5 s`);
    await p.stop();

    const restarted = make();
    await restarted.start();
    const again = restarted.snapshot('live', { range: 'live' });
    assert.equal(again.totals.quarantined, 1);
    assert.equal(again.live?.activeVisitors, 5);
    assert.deepEqual(again.recent, last.recent, 'the feed survives a restart');
    await restarted.stop();
  });
});
