import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { OrderStore } from '../orders/order-store.js';
import { T0, testEvent } from '../realtime/test-events.js';
import { type ModelSource, RecsService } from './recs-service.js';
import type { ModelInfo, Recommendation, Recommender } from './types.js';

/**
 * What serving promises around model versions: nothing served says how to train; a new version
 * replaces the old one only once it is loaded (requests meanwhile get the old one); a version
 * that fails to load leaves the old one served; purchases newer than the model are left out.
 * The models are small hand-made Recommenders (the seam), the order history is the real store.
 */

function info(version: string, to = new Date(T0).toISOString()): ModelInfo {
  return {
    version,
    siteId: 'shop',
    trainedAt: to,
    from: new Date(T0 - 7 * 86_400_000).toISOString(),
    to,
    users: 1,
    items: 5,
    interactions: 10,
    factors: 8,
    iterations: 3,
    trainSeconds: 0.1,
    params: {},
  };
}

/** Recommends products `<version>-p0…` in order, leaving out what `bought` lists. */
function model(version: string, bought: string[] = [], to?: string): Recommender {
  const rec = (i: number): Recommendation => ({
    productId: `${version}-p${i}`,
    score: 1 - i / 100,
    reason: { kind: 'als', text: `because of ${version}` },
  });
  return {
    info: info(version, to),
    forUser: (user, n) =>
      Array.from({ length: 20 }, (_, i) => rec(i))
        .filter((r) => !(user === 'alice' && bought.includes(r.productId)))
        .slice(0, n),
    similarItems: (product, n) => (product.startsWith(version) ? [rec(1), rec(2)].slice(0, n) : null),
    knowsUser: (user) => user === 'alice',
    setUnavailable: () => 0,
  };
}

class Source implements ModelSource {
  current: string | null = null;
  stored: ModelInfo[] = [];
  pending = new Map<string, { resolve: (m: Recommender) => void; reject: (e: Error) => void }>();
  loads = 0;
  currentVersion() {
    return this.current;
  }
  versions() {
    return this.stored;
  }
  load(_site: string, version: string) {
    this.loads++;
    return new Promise<Recommender>((resolve, reject) => this.pending.set(version, { resolve, reject }));
  }
}

describe('recs service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-recs-service-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('says how to train while no model exists', async () => {
    const svc = new RecsService({ source: new Source(), sites: () => ['shop'], pollMs: 0 });
    await svc.start();
    const r = svc.forUser('shop', 'alice', 5);
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.status === 503 && r.reason.includes('storepulse recs train'), JSON.stringify(r));
    assert.match(svc.models('shop').hint ?? '', /storepulse recs train/);
  });

  it('serves the old model until the new one is loaded, then switches', async () => {
    const source = new Source();
    const errors: string[] = [];
    const svc = new RecsService({
      source,
      sites: () => ['shop'],
      pollMs: 0,
      onError: (e) => errors.push(e.message),
    });
    source.current = 'v1';
    const started = svc.start();
    source.pending.get('v1')?.resolve(model('v1'));
    await started;
    const first = svc.forUser('shop', 'alice', 3);
    assert.ok(first.ok);
    assert.equal(first.model.version, 'v1');
    assert.deepEqual(
      first.recommendations.map((r) => r.productId),
      ['v1-p0', 'v1-p1', 'v1-p2'],
    );

    source.current = 'v2';
    const refreshed = svc.refresh();
    // v2 is still loading: every answer comes from v1, whole.
    const during = svc.forUser('shop', 'alice', 3);
    assert.ok(during.ok && during.model.version === 'v1');
    assert.ok(during.recommendations.every((r) => r.productId.startsWith('v1-')));
    source.pending.get('v2')?.resolve(model('v2'));
    await refreshed;
    const afterSwap = svc.forUser('shop', 'alice', 3);
    assert.ok(afterSwap.ok && afterSwap.model.version === 'v2');

    // A broken v3 leaves v2 served, is reported, and is not reloaded on every poll.
    source.current = 'v3';
    const broken = svc.refresh();
    source.pending.get('v3')?.reject(new Error('truncated factors file'));
    await broken;
    await svc.refresh();
    assert.equal(source.loads, 3);
    assert.deepEqual(errors, ['truncated factors file']);
    const still = svc.forUser('shop', 'alice', 1);
    assert.ok(still.ok && still.model.version === 'v2');
  });

  it('answers similar items, and 404 with a reason for a product the model does not know', async () => {
    const source = new Source();
    source.current = 'v1';
    const svc = new RecsService({ source, sites: () => ['shop'], pollMs: 0 });
    const started = svc.start();
    source.pending.get('v1')?.resolve(model('v1'));
    await started;
    const known = svc.similarItems('shop', 'v1-p0', 10);
    assert.ok(known.ok);
    assert.deepEqual(
      known.items.map((r) => r.productId),
      ['v1-p1', 'v1-p2'],
    );
    const unknown = svc.similarItems('shop', 'nope', 10);
    assert.ok(!unknown.ok && unknown.status === 404 && unknown.reason.includes('"nope"'));
    const cold = svc.forUser('shop', 'bob', 2);
    assert.ok(cold.ok && cold.coldStart);
    const warm = svc.forUser('shop', 'alice', 2);
    assert.ok(warm.ok && !warm.coldStart);
  });

  it('leaves out products the order history saw bought after the model was trained', async () => {
    const orders = new OrderStore(join(dir, 'orders.sqlite'));
    const buy = (product: string, minutes: number) =>
      testEvent({
        type: 'purchase',
        time: T0 + minutes * 60_000,
        visitor: 'v-alice',
        user_id: 'alice',
        order_id: `o-${product}`,
        product_id: product,
        price: 10,
      });
    // v1-p0 bought before the model's range ended (the model knows), v1-p1 and v1-p3 after.
    orders.apply([buy('v1-p0', -10), buy('v1-p1', 5), buy('v1-p3', 6)]);
    const source = new Source();
    source.current = 'v1';
    const svc = new RecsService({ source, sites: () => ['shop'], orders, pollMs: 0 });
    const started = svc.start();
    source.pending.get('v1')?.resolve(model('v1', ['v1-p0']));
    await started;
    const r = svc.forUser('shop', 'alice', 4);
    assert.ok(r.ok);
    assert.deepEqual(
      r.recommendations.map((x) => x.productId),
      ['v1-p2', 'v1-p4', 'v1-p5', 'v1-p6'],
    );
    assert.equal(r.excludedRecentPurchases, 2);
    orders.close();
  });
});
