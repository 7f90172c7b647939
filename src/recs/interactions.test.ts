import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LAKE_TABLES } from '../lake/lake.js';
import { LakeWriter } from '../lake/writer.js';
import { BOT_UA, T0, testEvent } from '../realtime/test-events.js';
import { computeCooccurrence } from './cooccurrence.js';
import { loadInteractions, modelSite, openLakeEvents } from './interactions.js';

const MIN = 60_000;

/** What training reads from a real lake (Parquet written by the lake writer). */
describe('interactions from the lake', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-recs-lake-'));
  before(async () => {
    const e = (minute: number, type: string, visitor: string, product: string | undefined, extra = {}) =>
      testEvent({ type, time: T0 + minute * MIN, visitor, product_id: product, price: 10, ...extra });
    const events = [
      // v1 browses anonymously, then logs in as u1 and buys P2: all of it is u1's.
      e(0, 'view', 'v1', 'P1', { session_id: 's1' }),
      e(1, 'view', 'v1', 'P1', { session_id: 's1' }),
      e(2, 'view', 'v1', 'P2', { session_id: 's1' }),
      e(60, 'cart', 'v1', 'P2', { user_id: 'u1', session_id: 's2' }),
      e(61, 'purchase', 'v1', 'P2', { user_id: 'u1', session_id: 's2', order_id: 'o1', quantity: 1 }),
      // v2 never logs in.
      e(5, 'view', 'v2', 'P1', { session_id: 's3' }),
      e(6, 'view', 'v2', 'P3', { session_id: 's3' }),
      // Left out: a crawler, a page view without product, an event after the range.
      ...Array.from({ length: 5 }, (_, i) =>
        e(10 + i, 'view', 'bot', 'P3', { userAgent: BOT_UA, session_id: 'sb' }),
      ),
      e(20, 'page_view', 'v2', undefined, { url: 'https://shop.example/' }),
      e(600, 'view', 'v2', 'P4', { session_id: 's4' }),
      // Another store in the same lake.
      testEvent({ type: 'view', time: T0, visitor: 'x', product_id: 'Q1', site: 'other' }),
    ];
    const writer = await LakeWriter.open(dataDir);
    await writer.write(
      LAKE_TABLES.events,
      events.map((x) => JSON.stringify(x)),
      'part-1-20.parquet',
    );
    writer.close();
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('sums event weights per user and product, stitches a visitor to their account, leaves out bots', async () => {
    const lake = await openLakeEvents({ dataDir, site: 'shop', to: new Date(T0 + 300 * MIN).toISOString() });
    try {
      assert.equal(await modelSite(lake.conn, undefined), 'shop');
      const d = await loadInteractions(lake.conn, { view: 1, cart: 4, purchase: 10 });
      assert.deepEqual(d.userIds, ['u1', 'v2']);
      assert.deepEqual(d.aliases, [['v1', 'u1']], 'v1 is found as u1');
      assert.deepEqual(d.itemIds, ['P1', 'P2', 'P3']);
      const row = (u: number) =>
        Object.fromEntries(
          Array.from(d.matrix.indices.subarray(d.matrix.indptr[u], d.matrix.indptr[u + 1]), (i, k) => [
            d.itemIds[i],
            d.matrix.values[d.matrix.indptr[u] + k],
          ]),
        );
      assert.deepEqual(row(0), { P1: 2, P2: 1 + 4 + 10 });
      assert.deepEqual(row(1), { P1: 1, P3: 1 });
      assert.deepEqual(Array.from(d.purchased.indices), [1], 'u1 bought P2');
      assert.deepEqual(Array.from(d.purchased.indptr), [0, 1, 1]);
      assert.equal(d.items.price[0], 10);

      const nb = await computeCooccurrence(lake.conn, d.itemIds.length, {
        neighbours: 5,
        beta: 0.5,
        buyWeight: 1,
        maxBasket: 50,
        minCount: 1,
      });
      // P1 was seen with P2 (session s1) and with P3 (session s3).
      const p1 = Array.from(nb.indices.subarray(nb.indptr[0], nb.indptr[1]), (i) => d.itemIds[i]).sort();
      assert.deepEqual(p1, ['P2', 'P3']);
      assert.equal(nb.viewed[nb.indptr[0]], 1);
    } finally {
      lake.close();
    }
  });

  it('refuses to mix stores: several sites need --site', async () => {
    const lake = await openLakeEvents({ dataDir });
    try {
      await assert.rejects(modelSite(lake.conn, undefined), /several sites \(other, shop\).*--site/);
    } finally {
      lake.close();
    }
  });
});
