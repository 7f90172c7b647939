import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { csrFromTriples } from './interactions.js';
import { type ModelData, ModelStore } from './model-store.js';
import { StoreModelSource } from './recs-model-source.js';

/** 3 users × 4 items, 2 factors: items P0 and P1 point one way, P2 and P3 the other. */
function model(version: string, siteId: string, note = ''): ModelData {
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
      params: { note },
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
    history: csrFromTriples(3, 4, [
      [0, 0, 1],
      [0, 1, 10],
      [1, 2, 1],
      [2, 0, 1],
    ]),
    purchased: csrFromTriples(3, 4, [[0, 1, 1]]),
    neighbours: {
      indptr: Int32Array.from([0, 1, 1, 1, 1]),
      indices: Int32Array.from([3]),
      scores: Float32Array.from([0.5]),
      viewed: Int32Array.from([7]),
      bought: Int32Array.from([2]),
    },
    popularity: Float32Array.from([2, 1, 1, 0]),
  };
}

describe('model source over the model store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-recs-source-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds each site its model, and loads it in a worker into a working Recommender', async () => {
    const source = new StoreModelSource(dir);
    assert.equal(source.currentVersion('shop'), null);
    assert.deepEqual(source.versions('shop'), []);

    const store = new ModelStore(dir, 3);
    // Braces and quotes in a parameter must not confuse reading the info from the file's head.
    store.save(model('20261201T000000Z', 'shop', '{"}{\\'));
    assert.equal(source.currentVersion('shop'), '20261201T000000Z');
    assert.equal(source.currentVersion('other'), null);
    assert.equal(source.versions('shop')[0].params.note, '{"}{\\');
    // A model from before info.json: the info is read from the head of model.json.
    rmSync(join(dir, 'recs', 'models', '20261201T000000Z', 'info.json'), { force: true });
    const older = new StoreModelSource(dir);
    assert.equal(older.currentVersion('shop'), '20261201T000000Z');
    assert.equal(older.versions('shop')[0].params.note, '{"}{\\');

    // Another site trained after it: the store's current is theirs, this site keeps its own.
    store.save(model('20261202T000000Z', 'other'));
    assert.equal(source.currentVersion('other'), '20261202T000000Z');
    assert.equal(source.currentVersion('shop'), '20261201T000000Z');
    store.save(model('20261203T000000Z', 'shop'));
    assert.equal(source.currentVersion('shop'), '20261203T000000Z');
    assert.deepEqual(
      source.versions('shop').map((v) => v.version),
      ['20261203T000000Z', '20261201T000000Z'],
    );

    const rec = await source.load('shop', '20261203T000000Z');
    assert.equal(rec.info.version, '20261203T000000Z');
    assert.ok(rec.knowsUser('alice'));
    const forAlice = rec.forUser('alice', 2).map((r) => r.productId);
    assert.ok(!forAlice.includes('P1'), 'alice bought P1');
    const similar = rec.similarItems('P0', 1);
    assert.deepEqual(
      similar?.map((r) => [r.productId, r.reason.viewedTogether, r.reason.boughtTogether]),
      [['P3', 7, 2]],
    );
    assert.equal(rec.similarItems('nope', 1), null);
    await assert.rejects(source.load('shop', '20991231T000000Z'), /no such file|not in/);
  });
});
