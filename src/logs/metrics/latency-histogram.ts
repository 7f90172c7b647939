/**
 * Response times as a fixed log-bucket histogram: bucket i holds times in
 * [B·r^(i-1), B·r^i) ms with r = 2^(1/4) (about 19 % wide), from 0.1 ms to about 100 s.
 * Histograms of minutes, hosts and path groups add bucket by bucket, so percentiles over any
 * range come from the merged counts, never from averaging percentiles. A percentile is the
 * geometric middle of its bucket: within ±9.5 % of the true value.
 */

const BASE = 0.1;
const RATIO = 2 ** 0.25;
export const BUCKETS = 82; // 0.1 ms · 2^(81/4) ≈ 120 s; the last bucket takes everything above
const LOG_RATIO = Math.log(RATIO);

export function bucketOf(ms: number): number {
  if (!(ms > BASE)) return 0;
  return Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(ms / BASE) / LOG_RATIO));
}

/** The value reported for a bucket: its geometric middle (0 for the first). */
export function bucketValue(i: number): number {
  if (i <= 0) return 0;
  return BASE * RATIO ** (i - 0.5);
}

/** Sparse histogram: bucket index → count (what is stored per minute). */
export type Histogram = Record<number, number>;

export function addTo(h: Histogram, ms: number): void {
  const b = bucketOf(ms);
  h[b] = (h[b] ?? 0) + 1;
}

export function merge(into: Histogram, h: Histogram | null | undefined): Histogram {
  if (h) for (const [k, n] of Object.entries(h)) into[Number(k)] = (into[Number(k)] ?? 0) + n;
  return into;
}

/** The q-quantile (0 < q ≤ 1) of a histogram, or null when it is empty. */
export function quantile(h: Histogram, q: number): number | null {
  const keys = Object.keys(h)
    .map(Number)
    .sort((a, b) => a - b);
  let total = 0;
  for (const k of keys) total += h[k];
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const k of keys) {
    seen += h[k];
    if (seen >= rank) return Math.round(bucketValue(k) * 100) / 100;
  }
  return null;
}
