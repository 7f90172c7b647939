import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ItemScorer } from './item-scorer.js';
import type { ModelData } from './model-store.js';
import { topN } from './rank.js';
import { alsTop } from './recommender.js';

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

describe('ALS ranking', () => {
  it('ranks by x_u · y_i exactly as a plain dot product does, for any number of factors', () => {
    let seed = 3;
    const rnd = () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return seed / 4294967296 - 0.5;
    };
    for (const f of [1, 3, 4, 7, 64]) {
      const users = 5;
      const items = 301; // not a multiple of 4: the kernel scores four rows at a time
      const X = Float32Array.from({ length: users * f }, rnd);
      const Y = Float32Array.from({ length: items * f }, rnd);
      const m = { info: { factors: f }, itemIds: Array.from({ length: items }, (_, i) => `p${i}`), X, Y };
      const scorer = new ItemScorer(Y, items, f);
      for (let u = 0; u < users; u++) {
        const got = alsTop(m as unknown as ModelData, u, 10, (i) => i % 5 === 0, scorer);
        const want = Array.from({ length: items }, (_, i) => {
          let s = 0;
          for (let a = 0; a < f; a++) s += X[u * f + a] * Y[i * f + a];
          return { i, s };
        })
          .filter(({ i }) => i % 5 !== 0)
          .sort((x, y) => y.s - x.s)
          .slice(0, 10);
        assert.deepEqual(
          got.indices,
          want.map((w) => w.i),
          `f = ${f}, user ${u}`,
        );
        for (let k = 0; k < 10; k++) assert.ok(Math.abs(got.scores[k] - want[k].s) < 1e-5);
      }
    }
  });
});
