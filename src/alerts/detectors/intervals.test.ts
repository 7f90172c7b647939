import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Intervals } from './intervals.js';

describe('intervals', () => {
  it('merges what touches or overlaps and answers overlap queries', () => {
    const x = new Intervals([
      [10, 20],
      [30, 40],
    ]);
    x.add(20, 25); // touches [10, 20)
    x.add(35, 50);
    x.add(0, 5);
    assert.deepEqual(x.toJSON(), [
      [0, 5],
      [10, 25],
      [30, 50],
    ]);
    assert.equal(x.overlaps(5, 10), false);
    assert.equal(x.overlaps(24, 26), true);
    assert.equal(x.overlaps(25, 30), false);
    assert.equal(x.overlaps(49, 60), true);
    x.add(4, 31);
    assert.deepEqual(x.toJSON(), [[0, 50]]);
    x.trimBefore(60);
    assert.equal(x.size, 0);
  });
});
