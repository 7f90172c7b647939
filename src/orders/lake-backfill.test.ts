import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { importRees46 } from '../import/rees46-import.js';
import { backfillFromLake } from './lake-backfill.js';
import { OrderStore } from './order-store.js';

const SAMPLE = join(import.meta.dirname, '..', '..', 'test-data', 'rees46_sample.csv');

/** Purchases per user and first event per user, counted from the CSV text itself. */
function fromCsv() {
  const purchases = new Map<string, number>();
  const first = new Map<string, number>();
  for (const line of readFileSync(SAMPLE, 'utf8').trim().split('\n').slice(1)) {
    const f = line.split(',');
    const user = f[7];
    const t = Date.parse(f[0].replace(' UTC', 'Z').replace(' ', 'T'));
    first.set(user, Math.min(first.get(user) ?? t, t));
    if (f[1] === 'purchase') purchases.set(user, (purchases.get(user) ?? 0) + 1);
  }
  return { purchases, first };
}

describe('lake backfill', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-backfill-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('files imported history once, however often it runs', async () => {
    await importRees46(SAMPLE, { dataDir: dir, siteId: 'shop', maxFutureMs: 600_000 });
    const store = new OrderStore(join(dir, 'orders.sqlite'), { activityCap: 3 });
    const first = await backfillFromLake(store, { dataDir: dir });
    const again = await backfillFromLake(store, { dataDir: dir });
    const csv = fromCsv();
    assert.equal(first.newLines, 10);
    assert.equal(again.newLines, 0);
    assert.equal(again.newActivity, 0);
    assert.equal(first.customers, csv.first.size);
    for (const [user, n] of csv.purchases) {
      const c = store.customer('shop', user)!;
      assert.equal(c.orders, n, user);
      assert.equal(store.orders('shop', user, { limit: 100 })!.orders.length, n);
    }
    for (const [user, t] of csv.first) {
      const c = store.customer('shop', user)!;
      assert.equal(c.firstSeen, t, `first seen of ${user}`);
      assert.ok(c.activity.length <= 3);
    }
    store.close();
  });

  it('stops when asked', async () => {
    const store = new OrderStore(join(dir, 'stop.sqlite'));
    await assert.rejects(backfillFromLake(store, { dataDir: dir, signal: AbortSignal.abort() }));
    store.close();
  });
});
