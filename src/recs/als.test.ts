import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trainAls } from './als.js';
import { csrFromTriples } from './interactions.js';
import { topN } from './rank.js';

function lcg(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/**
 * A planted store: 4 taste groups of users, 4 groups of 15 items. Users mostly interact with
 * their group's items (head-heavy within the group), sometimes with a global best-seller. One
 * in-group interaction per user is held out; a model that learned the groups finds it more
 * often than a best-seller list does.
 */
describe('implicit ALS', () => {
  it('recovers planted taste groups better than popularity, on two worker threads', async () => {
    const rnd = lcg(11);
    const groups = 4;
    const perGroup = 15;
    const nUsers = 400;
    const nItems = groups * perGroup;
    const train: [number, number, number][] = [];
    const heldOut: number[] = [];
    const seen: Set<number>[] = [];
    for (let u = 0; u < nUsers; u++) {
      const g = u % groups;
      const mine = new Set<number>();
      while (mine.size < 7) mine.add(g * perGroup + Math.floor(rnd() ** 1.5 * perGroup));
      const list = [...mine];
      heldOut.push(list.pop() as number);
      for (const i of list) train.push([u, i, rnd() < 0.2 ? 10 : 1]);
      if (rnd() < 0.5) train.push([u, Math.floor(rnd() * 3), 1]); // global best-sellers: items 0–2
      seen.push(new Set(train.filter((t) => t[0] === u).map((t) => t[1])));
    }
    const m = csrFromTriples(nUsers, nItems, train);
    const losses: number[] = [];
    const model = await trainAls(
      m,
      { factors: 8, iterations: 10, alpha: 2, lambda: 0.1, cgSteps: 3, seed: 1, threads: 2 },
      (i) => losses.push(i.loss),
    );
    assert.equal(losses.length, 10);
    assert.ok(losses[9] < losses[0], `loss falls: ${losses[0]} → ${losses[9]}`);

    const pop = new Float64Array(nItems);
    for (const [, i] of train) pop[i]++;
    let alsHits = 0;
    let popHits = 0;
    for (let u = 0; u < nUsers; u++) {
      const skip = (i: number) => seen[u].has(i);
      const als = topN(
        5,
        nItems,
        (i) => {
          let s = 0;
          for (let a = 0; a < 8; a++) s += model.X[u * 8 + a] * model.Y[i * 8 + a];
          return s;
        },
        skip,
      ).indices;
      const best = topN(5, nItems, (i) => pop[i], skip).indices;
      if (als.includes(heldOut[u])) alsHits++;
      if (best.includes(heldOut[u])) popHits++;
    }
    assert.ok(alsHits > 1.5 * popHits, `ALS hits ${alsHits} vs popularity ${popHits} of ${nUsers}`);
  });

  it('gives the same factors on one thread as on two', async () => {
    const m = csrFromTriples(5, 4, [
      [0, 0, 1],
      [1, 1, 4],
      [2, 2, 10],
      [3, 3, 1],
      [4, 0, 1],
      [4, 3, 1],
    ]);
    const p = { factors: 4, iterations: 3, alpha: 2, lambda: 0.1, cgSteps: 3, seed: 5 };
    const one = await trainAls(m, { ...p, threads: 1 });
    const two = await trainAls(m, { ...p, threads: 2 });
    for (let k = 0; k < one.X.length; k++) assert.ok(Math.abs(one.X[k] - two.X[k]) < 1e-5);
    for (let k = 0; k < one.Y.length; k++) assert.ok(Math.abs(one.Y[k] - two.Y[k]) < 1e-5);
  });
});
