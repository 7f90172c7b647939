import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { CanonicalEvent } from '../events/model.js';
import { T0, testEvent } from '../realtime/test-events.js';
import { TOPICS } from '../stream/event-log.js';
import { SqliteEventLog } from '../stream/sqlite-log.js';
import { eventually } from '../testing/server-process.js';
import { ORDERS_GROUP, OrderSink } from './order-sink.js';

const append = (log: SqliteEventLog, events: CanonicalEvent[]) =>
  log.append(
    TOPICS.events,
    events.map((e) => ({
      key: `${e.site_id}:${e.event_id}`,
      value: JSON.stringify(e),
      timestamp: e.received_at,
    })),
  );

const purchases = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) =>
    testEvent({
      type: 'purchase',
      time: T0 + (from + i) * 1000,
      visitor: `v${(from + i) % 3}`,
      user_id: `u${(from + i) % 3}`,
      order_id: `o${Math.floor((from + i) / 2)}`,
      product_id: `p${i % 2}`,
      price: 10,
    }),
  );

describe('order sink', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-order-sink-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const log = new SqliteEventLog({ dir: join(dir, 'stream'), fsync: false });
  after(() => log.close());
  const caughtUp = async (sink: OrderSink) => {
    const last = (await log.stats(TOPICS.events)).lastPosition;
    await eventually(async () => sink.status().position === last, 10_000, 20);
  };
  const totals = (sink: OrderSink) =>
    ['u0', 'u1', 'u2'].map((u) => {
      const c = sink.store.customer('shop', u)!;
      return [c.orders, c.spent];
    });

  it('applies each record once, whether the group is behind or ahead of the store', async () => {
    await append(log, purchases(0, 40));
    let sink = new OrderSink({ log, dataDir: dir, maxBatch: 7, onError: () => {} });
    await sink.start();
    await caughtUp(sink);
    const expected = totals(sink);
    assert.equal(sink.store.counts().lines, 40);
    assert.equal(sink.store.counts().orders, 20);
    await sink.stop();

    // The group's commit went back (a crash between the store's commit and the group's): the
    // store's position wins and nothing is applied twice.
    await log.seek(TOPICS.events, ORDERS_GROUP, 'earliest');
    sink = new OrderSink({ log, dataDir: dir, maxBatch: 7, onError: () => {} });
    await sink.start();
    await caughtUp(sink);
    assert.deepEqual(totals(sink), expected);

    // New records after a restart are applied once.
    await sink.stop();
    await append(log, purchases(40, 10));
    sink = new OrderSink({ log, dataDir: dir, onError: () => {} });
    await sink.start();
    await caughtUp(sink);
    assert.equal(sink.store.counts().lines, 50);
    assert.equal(sink.store.counts().orders, 25);
    await sink.stop();
  });

  it('backfills a new store before it reads the stream, and only once', async () => {
    const other = mkdtempSync(join(dir, 'fresh-'));
    let calls = 0;
    const backfill = async (store: import('./order-store.js').OrderStore) => {
      calls++;
      store.apply([testEvent({ type: 'purchase', time: T0, visitor: 'hist', order_id: 'h1', price: 5 })]);
    };
    let sink = new OrderSink({ log, dataDir: other, group: 'orders-b', backfill, onError: () => {} });
    await sink.start();
    await sink.whenConsuming();
    await caughtUp(sink);
    assert.equal(sink.store.customer('shop', 'hist')?.orders, 1);
    await sink.stop();
    sink = new OrderSink({ log, dataDir: other, group: 'orders-b', backfill, onError: () => {} });
    await sink.start();
    await sink.stop();
    assert.equal(calls, 1);
  });
});
