import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { topN } from './rank.js';

describe('top-n selection', () => {
  it('returns the n best in order, skipping what it is told to, like a full sort would', () => {
    let seed = 9;
    const rnd = () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return seed / 4294967296;
    };
    for (let t = 0; t < 300; t++) {
      const a = Array.from({ length: 1 + Math.floor(rnd() * 60) }, () => Math.floor(rnd() * 20));
      const n = 1 + Math.floor(rnd() * 12);
      const got = topN(
        n,
        a.length,
        (i) => a[i],
        (i) => i % 7 === 3,
      );
      const want = a
        .map((s, i) => ({ s, i }))
        .filter(({ i }) => i % 7 !== 3)
        .sort((x, y) => y.s - x.s)
        .slice(0, n);
      assert.deepEqual(
        got.scores,
        want.map((x) => x.s),
      );
      for (let k = 0; k < got.indices.length; k++) assert.equal(a[got.indices[k]], got.scores[k]);
    }
  });
});
