import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HyperLogLog } from './hyperloglog.js';

const filled = (from: number, to: number, prefix = 'visitor-') => {
  const hll = new HyperLogLog();
  for (let i = from; i < to; i++) hll.add(`${prefix}${i}`);
  return hll;
};
const relErr = (estimate: number, exact: number) => Math.abs(estimate - exact) / exact;

describe('HyperLogLog (p = 14)', () => {
  for (const n of [1_000, 100_000, 1_000_000]) {
    it(`estimates ${n.toLocaleString('en')} distinct visitors within 2 %, for four id shapes`, () => {
      const errors = ['visitor-', 'v', 'u:', '7f3a-'].map((prefix) =>
        relErr(filled(0, n, prefix).count(), n),
      );
      const pct = errors.map((e) => `${(e * 100).toFixed(2)} %`).join(', ');
      console.log(`# HLL error at n=${n}: ${pct}`);
      assert.ok(Math.max(...errors) <= 0.02, `errors ${pct}`);
    });
  }

  it('counts small sets exactly and ignores repeats', () => {
    const hll = new HyperLogLog();
    assert.equal(hll.count(), 0);
    for (let round = 0; round < 5; round++) for (const v of ['a', 'b', 'c']) hll.add(v);
    assert.equal(hll.count(), 3);
    // Beyond a handful, two visitors may share a register: still within a fraction of a percent.
    assert.ok(relErr(filled(0, 300).count(), 300) <= 0.01);
  });

  it('merges overlapping sets into their union (sparse + sparse, sparse + dense, dense + dense)', () => {
    // 0..60k ∪ 40k..100k = 100k distinct; the overlap must not be counted twice.
    const union = filled(0, 60_000).merge(filled(40_000, 100_000));
    assert.ok(relErr(union.count(), 100_000) <= 0.02, `union estimate ${union.count()}`);
    const small = filled(0, 100).merge(filled(50, 150));
    assert.equal(small.count(), filled(0, 150).count());
    const mixed = filled(0, 100).merge(filled(0, 50_000));
    assert.equal(mixed.count(), filled(0, 50_000).count(), 'a subset adds nothing');
    // Merging is the same as having added everything to one sketch.
    assert.deepEqual(filled(0, 30_000).merge(filled(30_000, 70_000)).encode(), filled(0, 70_000).encode());
  });

  it('round-trips through its compact encoding', () => {
    const sparse = filled(0, 300);
    assert.ok(sparse.encode().length <= 1 + 3 * 300, 'a sparse sketch costs 3 bytes per visitor');
    assert.deepEqual(HyperLogLog.decode(sparse.encode()).encode(), sparse.encode());
    const dense = filled(0, 20_000);
    assert.equal(dense.encode().length, 1 + 16_384);
    assert.equal(HyperLogLog.decode(dense.encode()).count(), dense.count());
    assert.throws(() => HyperLogLog.decode(new Uint8Array([9, 1, 2])), /not a HyperLogLog sketch/);
  });
});
