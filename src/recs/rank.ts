/**
 * Top-n selection without sorting everything: one pass keeps the n best (score, index) pairs in
 * a small sorted buffer. n is small (10–100) and catalogues are large, so this is O(items).
 */
export function topN(
  n: number,
  count: number,
  score: (i: number) => number,
  skip?: (i: number) => boolean,
): { indices: number[]; scores: number[] } {
  const idx: number[] = [];
  const sc: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = score(i);
    if (idx.length === n && s <= sc[n - 1]) continue;
    if (Number.isNaN(s) || skip?.(i)) continue;
    let pos = idx.length === n ? n - 1 : idx.length;
    while (pos > 0 && sc[pos - 1] < s) {
      if (pos < n) {
        sc[pos] = sc[pos - 1];
        idx[pos] = idx[pos - 1];
      }
      pos--;
    }
    sc[pos] = s;
    idx[pos] = i;
    if (idx.length > n) {
      idx.length = n;
      sc.length = n;
    }
  }
  return { indices: idx, scores: sc };
}
