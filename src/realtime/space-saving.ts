/**
 * Space-Saving heavy hitters (Metwally et al., 2005) for top pages, products, brands, …: k
 * counters find every item more frequent than n/k, each count an overestimate by at most its
 * `error`. Exact while a window has at most k distinct items, which covers browsers, OSes and
 * most shops' brands.
 *
 * Written here: npm's `bloom-filters` offers a count-min based top-k, not Space-Saving, and no
 * merge. The counters live in a min-heap (with a key → slot index), so both an increment and
 * the eviction of the smallest counter cost O(log k) rather than a scan of all k.
 */

export interface TopItem {
  key: string;
  count: number;
  /** The count may be too high by at most this much (0 = exact). */
  error: number;
}

/** Plain, serialisable form. */
export interface SpaceSavingState {
  capacity: number;
  keys: string[];
  counts: number[];
  errors: number[];
}

export class SpaceSaving {
  private keys: string[] = [];
  private counts: number[] = [];
  private errors: number[] = [];
  private readonly slot = new Map<string, number>();

  constructor(readonly capacity = 100) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`capacity must be ≥ 1, got ${capacity}`);
  }

  get size(): number {
    return this.keys.length;
  }

  add(key: string, weight = 1): void {
    const i = this.slot.get(key);
    if (i !== undefined) {
      this.counts[i] += weight;
      this.siftDown(i);
    } else if (this.keys.length < this.capacity) {
      this.keys.push(key);
      this.counts.push(weight);
      this.errors.push(0);
      this.slot.set(key, this.keys.length - 1);
      this.siftUp(this.keys.length - 1);
    } else {
      // The newcomer takes over the smallest counter, inheriting its count as possible error.
      this.slot.delete(this.keys[0]);
      this.keys[0] = key;
      this.errors[0] = this.counts[0];
      this.counts[0] += weight;
      this.slot.set(key, 0);
      this.siftDown(0);
    }
  }

  /** Largest first; ties by key so results are stable across restarts. */
  top(n = this.capacity): TopItem[] {
    return this.keys
      .map((key, i) => ({ key, count: this.counts[i], error: this.errors[i] }))
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .slice(0, n);
  }

  /**
   * A summary of both inputs (mergeable-summaries rule): an item missing from a full sketch
   * may have been counted up to that sketch's minimum, which is added to its count and error
   * so counts stay upper bounds. Keeps the `capacity` largest.
   */
  static merge(a: SpaceSaving, b: SpaceSaving): SpaceSaving {
    const capacity = Math.max(a.capacity, b.capacity);
    const floorA = a.size >= a.capacity ? a.counts[0] : 0;
    const floorB = b.size >= b.capacity ? b.counts[0] : 0;
    const inA = a.entries();
    const inB = b.entries();
    const merged: [string, { count: number; error: number }][] = [];
    for (const key of new Set([...inA.keys(), ...inB.keys()])) {
      const x = inA.get(key) ?? { count: floorA, error: floorA };
      const y = inB.get(key) ?? { count: floorB, error: floorB };
      merged.push([key, { count: x.count + y.count, error: x.error + y.error }]);
    }
    const kept = merged.sort((x, y) => y[1].count - x[1].count).slice(0, capacity);
    const out = new SpaceSaving(capacity);
    for (const [key, { count, error }] of kept) {
      out.keys.push(key);
      out.counts.push(count);
      out.errors.push(error);
    }
    out.heapify();
    return out;
  }

  toState(): SpaceSavingState {
    return {
      capacity: this.capacity,
      keys: this.keys.slice(),
      counts: this.counts.slice(),
      errors: this.errors.slice(),
    };
  }

  static fromState(s: SpaceSavingState): SpaceSaving {
    const out = new SpaceSaving(s.capacity);
    out.keys = s.keys.slice();
    out.counts = s.counts.slice();
    out.errors = s.errors.slice();
    out.heapify();
    return out;
  }

  private entries(): Map<string, { count: number; error: number }> {
    return new Map(this.keys.map((key, i) => [key, { count: this.counts[i], error: this.errors[i] }]));
  }

  private heapify(): void {
    this.slot.clear();
    for (let i = 0; i < this.keys.length; i++) this.slot.set(this.keys[i], i);
    for (let i = (this.keys.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private swap(i: number, j: number): void {
    const { keys, counts, errors } = this;
    [keys[i], keys[j]] = [keys[j], keys[i]];
    [counts[i], counts[j]] = [counts[j], counts[i]];
    [errors[i], errors[j]] = [errors[j], errors[i]];
    this.slot.set(keys[i], i);
    this.slot.set(keys[j], j);
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.counts[parent] <= this.counts[i]) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const n = this.keys.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < n && this.counts[l] < this.counts[min]) min = l;
      if (r < n && this.counts[r] < this.counts[min]) min = r;
      if (min === i) return;
      this.swap(i, min);
      i = min;
    }
  }
}
