import { ItemScorer } from './item-scorer.js';
import type { ModelData } from './model-store.js';
import { topN } from './rank.js';
import type { Recommendation, Recommender, RecReason } from './types.js';

/**
 * Ranking functions over a trained model (shared by serving and `recs eval`, so what is
 * evaluated is what is served) and the in-memory `Recommender` built from them.
 * Everything answers from memory: ALS scores are one pass over the item factors with a
 * partial top-n selection; neighbours are precomputed lists.
 */

export type Skip = (item: number) => boolean;

/** Items sorted by popularity (most first), and the same per category code. */
export interface PopularIndex {
  overall: Int32Array;
  byCategory: Map<string, Int32Array>;
}

export function popularIndex(m: ModelData, perCategory = 200): PopularIndex {
  const order = Int32Array.from(m.itemIds.keys()).sort((a, b) => m.popularity[b] - m.popularity[a] || a - b);
  const lists = new Map<string, number[]>();
  for (const i of order) {
    const c = m.items.categoryCode[i];
    if (!c) continue;
    const l = lists.get(c) ?? [];
    if (l.length === 0) lists.set(c, l);
    if (l.length < perCategory) l.push(i);
  }
  return {
    overall: order,
    byCategory: new Map([...lists].map(([c, l]) => [c, Int32Array.from(l)])),
  };
}

/** A user's purchased items, as a skip test. */
export function boughtBy(m: ModelData, u: number): Skip {
  const { indptr, indices } = m.purchased;
  const a = indptr[u];
  const b = indptr[u + 1];
  if (a === b) return () => false;
  const set = new Set(indices.subarray(a, b));
  return (i) => set.has(i);
}

const firstN = (list: ArrayLike<number>, n: number, skip: Skip, taken = new Set<number>()): number[] => {
  const out: number[] = [];
  for (let k = 0; k < list.length && out.length < n; k++) {
    const i = list[k];
    if (!skip(i) && !taken.has(i)) out.push(i);
  }
  return out;
};

export function popularTop(p: PopularIndex, n: number, skip: Skip = () => false): number[] {
  return firstN(p.overall, n, skip);
}

/** ALS: the items with the highest x_u · y_i (all scored at once by the SIMD kernel, then selected). */
export function alsTop(
  m: ModelData,
  u: number,
  n: number,
  skip: Skip,
  scorer: ItemScorer,
): { indices: number[]; scores: number[] } {
  const f = m.info.factors;
  const scores = scorer.score(m.X.subarray(u * f, u * f + f));
  return topN(n, m.itemIds.length, (i) => scores[i], skip);
}

/** Item-to-item: the user's history items vote for their co-occurrence neighbours. */
export function cooccurrenceTop(
  m: ModelData,
  u: number,
  n: number,
  skip: Skip,
  scratch: Float32Array,
): number[] {
  const { indptr, indices, values } = m.history;
  const nb = m.neighbours;
  const touched: number[] = [];
  for (let k = indptr[u]; k < indptr[u + 1]; k++) {
    const h = indices[k];
    const w = Math.log1p(values[k]);
    for (let q = nb.indptr[h]; q < nb.indptr[h + 1]; q++) {
      const j = nb.indices[q];
      if (scratch[j] === 0) touched.push(j);
      scratch[j] += w * nb.scores[q];
    }
  }
  const r = topN(
    n,
    touched.length,
    (t) => scratch[touched[t]],
    (t) => skip(touched[t]),
  );
  for (const j of touched) scratch[j] = 0;
  return r.indices.map((t) => touched[t]);
}

/** The user's own most-interacted items (by confidence weight). */
export function historyTop(m: ModelData, u: number, n: number, skip: Skip): number[] {
  const { indptr, indices, values } = m.history;
  const a = indptr[u];
  const r = topN(
    n,
    indptr[u + 1] - a,
    (k) => values[a + k],
    (k) => skip(indices[a + k]),
  );
  return r.indices.map((k) => indices[a + k]);
}

/** Popular items of the categories the user interacts with most, then popular overall. */
export function categoryTop(m: ModelData, p: PopularIndex, u: number, n: number, skip: Skip): number[] {
  const { indptr, indices, values } = m.history;
  const weight = new Map<string, number>();
  for (let k = indptr[u]; k < indptr[u + 1]; k++) {
    const c = m.items.categoryCode[indices[k]];
    if (c) weight.set(c, (weight.get(c) ?? 0) + values[k]);
  }
  const out: number[] = [];
  const taken = new Set<number>();
  for (const [c] of [...weight].sort((a, b) => b[1] - a[1])) {
    for (const i of firstN(p.byCategory.get(c) ?? [], n - out.length, skip, taken)) {
      out.push(i);
      taken.add(i);
    }
    if (out.length >= n) return out;
  }
  return out.concat(firstN(p.overall, n - out.length, skip, taken));
}

export class ModelRecommender implements Recommender {
  readonly info: ModelData['info'];
  private readonly users: Map<string, number>;
  private readonly items: Map<string, number>;
  private readonly popular: PopularIndex;
  /** |y_i|, for cosine neighbours of item factors. */
  private readonly norms: Float32Array;
  /** Scores every item for a user (its output is reused per request: JavaScript runs one at a time). */
  private readonly scorer: ItemScorer;
  /** 1 for items the store marked unavailable (setUnavailable): never recommended. */
  private readonly unavailable: Uint8Array;
  private readonly isUnavailable: Skip = (i) => this.unavailable[i] === 1;

  constructor(readonly model: ModelData) {
    this.info = model.info;
    this.users = new Map(model.userIds.map((id, u) => [id, u]));
    for (const [visitor, user] of model.aliases ?? []) {
      const u = this.users.get(user);
      if (u !== undefined && !this.users.has(visitor)) this.users.set(visitor, u);
    }
    this.items = new Map(model.itemIds.map((id, i) => [id, i]));
    this.popular = popularIndex(model);
    this.scorer = new ItemScorer(model.Y, model.itemIds.length, model.info.factors);
    this.unavailable = new Uint8Array(model.itemIds.length);
    const f = model.info.factors;
    this.norms = new Float32Array(model.itemIds.length);
    for (let i = 0; i < this.norms.length; i++) {
      let s = 0;
      for (let a = 0; a < f; a++) s += model.Y[i * f + a] ** 2;
      this.norms[i] = Math.sqrt(s);
    }
  }

  knowsUser(userId: string): boolean {
    return this.users.has(userId);
  }

  setUnavailable(productIds: Iterable<string>): number {
    this.unavailable.fill(0);
    let known = 0;
    for (const id of productIds) {
      const i = this.items.get(id);
      if (i !== undefined) {
        this.unavailable[i] = 1;
        known++;
      }
    }
    return known;
  }

  forUser(userId: string, n: number): Recommendation[] {
    const u = this.users.get(userId);
    if (u === undefined) return this.popularList(popularTop(this.popular, n, this.isUnavailable));
    const bought = boughtBy(this.model, u);
    const skip: Skip = (i) => this.unavailable[i] === 1 || bought(i);
    const r = alsTop(this.model, u, n, skip, this.scorer);
    const history = historyTop(this.model, u, 20, () => false);
    return r.indices.map((i, k) => {
      const because = this.closest(i, history, 3);
      return this.rec(i, r.scores[k], {
        kind: 'als',
        text: because.length
          ? `shoppers with a history like yours chose it; closest to ${because.join(', ')} in your history`
          : 'shoppers with a history like yours chose it',
        because,
      });
    });
  }

  similarItems(productId: string, n: number): Recommendation[] | null {
    const i = this.items.get(productId);
    if (i === undefined) return null;
    const m = this.model;
    const nb = m.neighbours;
    const out: Recommendation[] = [];
    const taken = new Set<number>([i]);
    for (let q = nb.indptr[i]; q < nb.indptr[i + 1] && out.length < n; q++) {
      const j = nb.indices[q];
      if (this.unavailable[j] === 1) continue;
      taken.add(j);
      const v = nb.viewed[q];
      const b = nb.bought[q];
      const parts = [
        v > 0 ? `viewed together ${v} time${v === 1 ? '' : 's'}` : '',
        b > 0 ? `bought together ${b} time${b === 1 ? '' : 's'}` : '',
      ];
      out.push(
        this.rec(j, nb.scores[q], {
          kind: 'cooccurrence',
          text: `${parts.filter(Boolean).join(', ')} with ${productId}`,
          because: [productId],
          viewedTogether: v,
          boughtTogether: b,
        }),
      );
    }
    if (out.length < n) {
      // Too few co-occurrences (a new or rare product): neighbours in the ALS item space.
      const f = m.info.factors;
      const { Y } = m;
      const yo = i * f;
      const ni = this.norms[i];
      if (ni > 0) {
        const r = topN(
          n - out.length,
          m.itemIds.length,
          (j) => {
            let s = 0;
            for (let a = 0; a < f; a++) s += Y[j * f + a] * Y[yo + a];
            return this.norms[j] > 0 ? s / (ni * this.norms[j]) : Number.NaN;
          },
          (j) => taken.has(j) || this.unavailable[j] === 1,
        );
        r.indices.forEach((j, k) => {
          taken.add(j);
          out.push(
            this.rec(j, r.scores[k], {
              kind: 'als',
              text: `shoppers who interact with ${productId} also interact with it`,
              because: [productId],
            }),
          );
        });
      }
    }
    if (out.length < n) {
      const c = m.items.categoryCode[i];
      const list = (c && this.popular.byCategory.get(c)) || this.popular.overall;
      for (const j of firstN(list, n - out.length, this.isUnavailable, taken)) {
        out.push(this.rec(j, m.popularity[j], { kind: 'popular', text: c ? `popular in ${c}` : 'popular' }));
      }
    }
    return out;
  }

  private popularList(items: number[]): Recommendation[] {
    return items.map((i) =>
      this.rec(i, this.model.popularity[i], {
        kind: 'popular',
        text: `popular: ${this.model.popularity[i]} shoppers interacted with it`,
      }),
    );
  }

  /** The history items whose factors point most the same way as item i's. */
  private closest(i: number, history: number[], k: number): string[] {
    const f = this.info.factors;
    const { Y } = this.model;
    const scored = history.map((h) => {
      let s = 0;
      for (let a = 0; a < f; a++) s += Y[h * f + a] * Y[i * f + a];
      return { h, s: this.norms[h] > 0 ? s / this.norms[h] : 0 };
    });
    return scored
      .sort((a, b) => b.s - a.s)
      .slice(0, k)
      .map((x) => this.model.itemIds[x.h]);
  }

  private rec(i: number, score: number, reason: RecReason): Recommendation {
    const price = this.model.items.price[i];
    return {
      productId: this.model.itemIds[i],
      score,
      categoryCode: this.model.items.categoryCode[i],
      brand: this.model.items.brand[i],
      price: Number.isNaN(price) ? null : price,
      reason,
    };
  }
}
