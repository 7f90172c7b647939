/**
 * A small seeded PRNG (mulberry32) and the few distributions the simulator needs. No
 * dependency: the demo must give byte-identical output for a seed on every machine, so the
 * generator and its sampling helpers live here, together.
 */

export type Rng = () => number; // uniform in [0, 1)

export function mulberry32(seed: number): Rng {
  const generator = reseedableRng();
  generator.reseed(seed);
  return generator.rng;
}

/**
 * A mulberry32 whose state can be reset. Hot loops (one per simulated minute, one per visitor)
 * reuse one instead of allocating a closure each time, and their call sites stay monomorphic.
 */
export function reseedableRng(): { rng: Rng; reseed: (seed: number) => void } {
  let a = 0;
  return {
    rng: () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
    reseed: (seed) => {
      a = seed >>> 0;
    },
  };
}

/** Mixes up to three integers into one 32-bit seed (murmur3 finaliser), so sub-streams (a minute, a visitor) get independent generators. */
export function hashSeed(a: number, b = 0, c = 0): number {
  return mix(mix(mix(0x9e3779b9, a), b), c);
}

function mix(h: number, p: number): number {
  let x = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x ^ Math.floor(p / 4294967296), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export const randInt = (rng: Rng, min: number, max: number): number =>
  min + Math.floor(rng() * (max - min + 1));

export const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)];

/** Picks by weight; `cumulative` is the running sum of weights (see `cumulate`). */
export function pickWeighted<T>(rng: Rng, items: readonly T[], cumulative: readonly number[]): T {
  const x = rng() * cumulative[cumulative.length - 1];
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return items[lo];
}

export function cumulate(weights: readonly number[]): number[] {
  let sum = 0;
  return weights.map((w) => (sum += w));
}

export function gaussian(rng: Rng): number {
  // Box–Muller; 1 - rng() keeps log away from 0.
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** Log-normal with the given median: prices and dwell times are skewed with long right tails. */
export const logNormal = (rng: Rng, median: number, sigma: number): number =>
  median * Math.exp(sigma * gaussian(rng));

/** Number of failures before the first success: session lengths and scrape depths. */
export const geometric = (rng: Rng, p: number): number => Math.floor(Math.log(1 - rng()) / Math.log(1 - p));

export function poisson(rng: Rng, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gaussian(rng)));
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rng();
  while (p > limit) {
    k++;
    p *= rng();
  }
  return k;
}

/** A UUID v4-looking id (REES46 `user_session` style), drawn from the seeded stream. */
export function uuid(rng: Rng): string {
  // Written into a reused buffer and read back as one flat string: building it from pieces
  // leaves a tree of ~10 string fragments per session for the garbage collector to copy.
  for (let word = 0; word < 4; word++) {
    const bits = Math.floor(rng() * 4294967296);
    for (let k = 0; k < 8; k++) UUID_TEXT[UUID_DIGITS[word * 8 + k]] = HEX[(bits >>> (28 - 4 * k)) & 15];
  }
  UUID_TEXT[14] = HEX[4]; // version 4
  UUID_TEXT[19] = HEX[8 | (UUID_TEXT[19] & 3)]; // variant 10xx
  return UUID_TEXT.toString('latin1');
}

const HEX = Buffer.from('0123456789abcdef');
const UUID_TEXT = Buffer.from('00000000-0000-0000-0000-000000000000');
const UUID_DIGITS = [...UUID_TEXT.keys()].filter((i) => UUID_TEXT[i] !== 0x2d);
