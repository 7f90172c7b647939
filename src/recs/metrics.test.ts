import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricSums, userMetrics } from './metrics.js';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);

describe('ranking metrics', () => {
  it('scores a list with hits at ranks 1 and 3 out of 2 relevant items', () => {
    const m = userMetrics(['a', 'x', 'b', 'y'], new Set(['a', 'b']), 4);
    assert.equal(m.hit, 1);
    close(m.precision, 2 / 4);
    close(m.recall, 1);
    // DCG = 1/log2(2) + 1/log2(4) = 1.5; ideal = 1 + 1/log2(3)
    close(m.ndcg, 1.5 / (1 + 1 / Math.log2(3)));
    // AP = (1/1 + 2/3) / 2
    close(m.ap, (1 + 2 / 3) / 2);
  });

  it('gives zero for a list without hits, and divides precision by k even for short lists', () => {
    assert.deepEqual(userMetrics(['x', 'y'], new Set(['a']), 10), {
      hit: 0,
      precision: 0,
      recall: 0,
      ndcg: 0,
      ap: 0,
    });
    close(userMetrics(['a'], new Set(['a']), 10).precision, 0.1);
  });

  it('only counts the first k items, and caps the ideal at k', () => {
    const m = userMetrics([1, 2, 3], new Set([3, 4, 5]), 2);
    assert.equal(m.hit, 0);
    const full = userMetrics([3, 4], new Set([3, 4, 5]), 2);
    close(full.ndcg, 1);
    close(full.ap, 1);
    close(full.recall, 2 / 3);
  });

  it('averages over users and measures catalogue coverage', () => {
    const s = new MetricSums();
    s.add([1, 2], new Set([1]), 2);
    s.add([1, 3], new Set([9]), 2);
    const r = s.result(10);
    assert.equal(r.users, 2);
    close(r.hit, 0.5);
    close(r.coverage, 3 / 10);
  });
});
