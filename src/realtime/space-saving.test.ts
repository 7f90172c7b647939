import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../demo/prng.js';
import { SpaceSaving } from './space-saving.js';

/** n draws from a Zipf(s) distribution over `items` keys, with exact counts alongside. */
function zipfStream(items: number, s: number, n: number, seed: number) {
  const weights = Array.from({ length: items }, (_, i) => 1 / (i + 1) ** s);
  const total = weights.reduce((a, b) => a + b, 0);
  const cdf: number[] = [];
  let acc = 0;
  for (const w of weights) {
    acc += w / total;
    cdf.push(acc);
  }
  const rng = mulberry32(seed);
  // Keys are shuffled names, so the sketch cannot profit from insertion order.
  const names = Array.from({ length: items }, (_, i) => `/p/${(i * 7919) % items}`);
  const stream: string[] = [];
  const exact = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const u = rng();
    let lo = 0;
    let hi = items - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    stream.push(names[lo]);
    exact.set(names[lo], (exact.get(names[lo]) ?? 0) + 1);
  }
  const top = [...exact].sort((a, b) => b[1] - a[1]);
  return { stream, exact, top };
}

describe('Space-Saving top-k', () => {
  it('finds the true top 10 of a Zipf stream over 10,000 pages with k = 100', () => {
    const { stream, exact, top } = zipfStream(10_000, 1.1, 200_000, 42);
    const ss = new SpaceSaving(100);
    for (const key of stream) ss.add(key);
    const found = ss.top(10);
    assert.deepEqual(
      found.map((t) => t.key),
      top.slice(0, 10).map(([k]) => k),
    );
    for (const t of found) {
      const real = exact.get(t.key)!;
      assert.ok(t.count >= real && t.count - t.error <= real, `${t.key}: ${t.count}±${t.error} vs ${real}`);
    }
  });

  it('is exact while there are at most k distinct keys', () => {
    const ss = new SpaceSaving(5);
    for (const [k, n] of [
      ['chrome', 7],
      ['firefox', 3],
      ['safari', 5],
      ['edge', 1],
    ] as const)
      for (let i = 0; i < n; i++) ss.add(k);
    assert.deepEqual(ss.top(3), [
      { key: 'chrome', count: 7, error: 0 },
      { key: 'safari', count: 5, error: 0 },
      { key: 'firefox', count: 3, error: 0 },
    ]);
  });

  it('merges two halves of a stream into the same top 10 as the whole, and survives its state', () => {
    const { stream, top } = zipfStream(5_000, 1.2, 100_000, 7);
    const a = new SpaceSaving(100);
    const b = new SpaceSaving(100);
    for (const [i, key] of stream.entries()) (i % 2 === 0 ? a : b).add(key);
    const merged = SpaceSaving.merge(a, b);
    assert.deepEqual(
      merged.top(10).map((t) => t.key),
      top.slice(0, 10).map(([k]) => k),
    );
    assert.deepEqual(SpaceSaving.fromState(merged.toState()).top(100), merged.top(100));
    const small = SpaceSaving.merge(tiny({ x: 2, y: 1 }), tiny({ x: 1, z: 4 }));
    assert.deepEqual(small.top(), [
      { key: 'z', count: 4, error: 0 },
      { key: 'x', count: 3, error: 0 },
      { key: 'y', count: 1, error: 0 },
    ]);
  });
});

function tiny(counts: Record<string, number>): SpaceSaving {
  const ss = new SpaceSaving(3);
  for (const [k, n] of Object.entries(counts)) for (let i = 0; i < n; i++) ss.add(k);
  return ss;
}
