import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { csrFromTriples } from './interactions.js';
import { type ModelData, ModelStore } from './model-store.js';
import { ModelRecommender } from './recommender.js';

/** 3 users × 4 items, 2 factors, set by hand: items 0 and 1 point one way, 2 and 3 the other. */
function model(version: string, siteId = 'demo'): ModelData {
  const history = csrFromTriples(3, 4, [
    [0, 0, 1],
    [0, 1, 10],
    [1, 2, 1],
    [2, 0, 1],
  ]);
  return {
    info: {
      version,
      siteId,
      trainedAt: '2026-12-01T00:00:00.000Z',
      from: '',
      to: '',
      users: 3,
      items: 4,
      interactions: 4,
      factors: 2,
      iterations: 1,
      trainSeconds: 0,
      params: {},
    },
    userIds: ['alice', 'bob', 'carol'],
    itemIds: ['P0', 'P1', 'P2', 'P3'],
    items: {
      categoryCode: ['a.x', 'a.x', 'b.y', null],
      brand: ['acme', null, 'zeta', null],
      price: Float64Array.from([9.99, 5, Number.NaN, 1]),
    },
    X: Float32Array.from([1, 0, 0, 1, 1, 0.1]),
    Y: Float32Array.from([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.8]),
    history,
    purchased: csrFromTriples(3, 4, [[0, 1, 1]]),
    neighbours: {
      indptr: Int32Array.from([0, 1, 1, 1, 1]),
      indices: Int32Array.from([3]),
      scores: Float32Array.from([0.5]),
      viewed: Int32Array.from([7]),
      bought: Int32Array.from([2]),
    },
    popularity: Float32Array.from([2, 1, 1, 0]),
    aliases: [['visitor-of-alice', 'alice']],
  };
}

describe('model store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-recs-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the newest versions, switches current, and rolls back to the previous one', () => {
    const store = new ModelStore(dir, 2);
    assert.equal(store.current(), null);
    assert.equal(store.rollback(), null);
    const v1 = store.newVersion(new Date('2026-12-01T10:00:00Z'));
    store.save(model(v1));
    const v2 = store.newVersion(new Date('2026-12-01T10:00:00Z'));
    assert.notEqual(v1, v2, 'two trainings in the same second get distinct versions');
    store.save(model(v2));
    const v3 = store.newVersion(new Date('2026-12-02T10:00:00Z'));
    store.save(model(v3));
    assert.deepEqual(store.versions(), [v2, v3]);
    assert.equal(store.current(), v3);
    assert.ok(!existsSync(join(store.modelsDir, v1)));
    assert.ok(!readdirSync(store.modelsDir).some((f) => f.startsWith('.')), 'no temporary directories left');

    assert.equal(store.rollback(), v2);
    assert.equal(store.current(), v2);
    assert.equal(store.load()?.info.version, v2);
    assert.equal(store.rollback(), null, 'nothing older than v2 is kept');
    assert.equal(store.info(v3)?.users, 3);
  });

  it('keeps each site its own current model and versions: training one site never prunes another', () => {
    const store = new ModelStore(join(dir, 'sites'), 2);
    const at = (h: number) => store.newVersion(new Date(Date.UTC(2026, 11, 1, h)));
    const a1 = at(1);
    store.save(model(a1, 'shop-a'));
    const b1 = at(2);
    store.save(model(b1, 'shop-b'));
    const c1 = at(3);
    store.save(model(c1, 'shop-c'));
    const a2 = at(4);
    store.save(model(a2, 'shop-a'));
    const a3 = at(5);
    store.save(model(a3, 'shop-a'));
    assert.deepEqual(store.versions(), [b1, c1, a2, a3], 'shop-a keeps its newest two; b and c keep theirs');
    assert.deepEqual(store.currents(), { 'shop-a': a3, 'shop-b': b1, 'shop-c': c1 });
    assert.deepEqual(store.sites(), ['shop-a', 'shop-b', 'shop-c']);

    assert.equal(store.rollback('shop-a'), a2);
    assert.equal(store.current('shop-a'), a2);
    assert.equal(store.current('shop-b'), b1, 'rolling back one site leaves the others');
    assert.equal(store.rollback('shop-b'), null, 'shop-b has nothing older');
    assert.throws(() => store.rollback(), /several sites .*shop-a, shop-b, shop-c.*--site/);
    // Training shop-a again after the rollback keeps the served a2 and the new version.
    const a4 = at(6);
    store.save(model(a4, 'shop-a'));
    assert.deepEqual(store.siteVersions('shop-a'), [a2, a4]);
  });

  it('reads the single `current` file of stores written before per-site pointers', () => {
    const root = join(dir, 'legacy');
    const store = new ModelStore(root, 2);
    const v = store.newVersion(new Date('2026-12-01T10:00:00Z'));
    store.save(model(v, 'shop-a'));
    rmSync(join(store.root, 'current.json'));
    writeFileSync(join(store.root, 'current'), `${v}\n`);
    assert.equal(store.current('shop-a'), v);
    assert.equal(store.current('shop-b'), null);
  });

  it('loads back exactly what was saved', () => {
    const store = new ModelStore(join(dir, 'exact'));
    const m = model(store.newVersion());
    store.save(m);
    const back = store.load() as ModelData;
    assert.deepEqual(back.Y, m.Y);
    assert.deepEqual(back.history.indices, m.history.indices);
    assert.deepEqual(back.items.categoryCode, m.items.categoryCode);
    assert.equal(back.items.price[0], 9.99);
    assert.ok(Number.isNaN(back.items.price[2]));
    assert.deepEqual(back.userIds, m.userIds);
    assert.deepEqual(back.aliases, m.aliases);
  });
});

describe('recommender', () => {
  const r = new ModelRecommender(model('v'));

  it('recommends by the user factors and never an item the user bought', () => {
    const recs = r.forUser('alice', 4);
    assert.ok(!recs.some((x) => x.productId === 'P1'), 'alice bought P1');
    assert.equal(recs[0].productId, 'P0');
    assert.equal(recs[0].reason.kind, 'als');
    assert.deepEqual(recs[0].reason.because?.[0], 'P0');
    assert.equal(recs[0].price, 9.99);
    assert.equal(r.forUser('bob', 1)[0].productId, 'P2');
    assert.ok(r.knowsUser('visitor-of-alice'), 'a stitched visitor id finds the account');
    assert.deepEqual(r.forUser('visitor-of-alice', 4), recs);
  });

  it('falls back to popularity for users it does not know', () => {
    assert.equal(r.knowsUser('alice'), true);
    assert.equal(r.knowsUser('mallory'), false);
    const recs = r.forUser('mallory', 2);
    assert.deepEqual(
      recs.map((x) => x.productId),
      ['P0', 'P1'],
    );
    assert.ok(recs.every((x) => x.reason.kind === 'popular'));
  });

  it('leaves out products marked unavailable, in every kind of list, until they are available again', () => {
    const r2 = new ModelRecommender(model('v'));
    assert.equal(r2.setUnavailable(['P0', 'not-in-the-model']), 1, 'one of the two is in the model');
    const ids = (xs: { productId: string }[] | null) => (xs ?? []).map((x) => x.productId);
    assert.ok(!ids(r2.forUser('alice', 4)).includes('P0'), 'personal list');
    assert.ok(!ids(r2.forUser('mallory', 4)).includes('P0'), 'popular list of an unknown user');
    assert.ok(!ids(r2.similarItems('P3', 4)).includes('P0'), 'similar items');
    assert.ok(ids(r2.similarItems('P0', 4)).length > 0, 'an unavailable product still has similar items');
    r2.setUnavailable([]);
    assert.equal(r2.forUser('alice', 4)[0].productId, 'P0');
  });

  it('answers similar items with co-occurrence first, then item-factor neighbours', () => {
    const sim = r.similarItems('P0', 3) ?? [];
    assert.equal(sim[0].productId, 'P3');
    assert.equal(sim[0].reason.kind, 'cooccurrence');
    assert.equal(sim[0].reason.viewedTogether, 7);
    assert.equal(sim[0].reason.boughtTogether, 2);
    assert.equal(sim[1].productId, 'P1', 'P1 points the same way as P0');
    assert.equal(sim[1].reason.kind, 'als');
    assert.ok(!sim.some((x) => x.productId === 'P0'));
    assert.equal(r.similarItems('nope', 3), null);
  });
});
