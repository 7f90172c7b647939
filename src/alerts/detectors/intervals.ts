/**
 * A set of time intervals [start, end), kept sorted and merged: the minutes an order-rate
 * signal covered, which later baselines leave out so that a past incident at the same time of
 * week does not become the expectation.
 */
export class Intervals {
  private starts: number[] = [];
  private ends: number[] = [];

  constructor(list: [number, number][] = []) {
    for (const [a, b] of list) this.add(a, b);
  }

  add(start: number, end: number): void {
    if (!(end > start)) return;
    // Find the intervals that touch [start, end) and replace them by their union.
    const i = this.firstEndingAfter(start - 1);
    let s = start;
    let e = end;
    let j = i;
    while (j < this.starts.length && this.starts[j] <= end) {
      s = Math.min(s, this.starts[j]);
      e = Math.max(e, this.ends[j]);
      j++;
    }
    this.starts.splice(i, j - i, s);
    this.ends.splice(i, j - i, e);
  }

  /** Whether any interval overlaps [from, to). */
  overlaps(from: number, to: number): boolean {
    const i = this.firstEndingAfter(from);
    return i < this.starts.length && this.starts[i] < to;
  }

  /** Forgets intervals that ended before `time`. */
  trimBefore(time: number): void {
    const i = this.firstEndingAfter(time);
    this.starts.splice(0, i);
    this.ends.splice(0, i);
  }

  toJSON(): [number, number][] {
    return this.starts.map((s, k) => [s, this.ends[k]]);
  }

  get size(): number {
    return this.starts.length;
  }

  /** Index of the first interval whose end is after `t`. */
  private firstEndingAfter(t: number): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ends[mid] > t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
