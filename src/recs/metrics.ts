/**
 * Ranking metrics at k for one user: `ranked` is the recommended list (best first), `relevant`
 * the items the user actually went on to interact with. Averaged over users by `MetricSums`.
 */

export interface UserMetrics {
  hit: number;
  precision: number;
  recall: number;
  ndcg: number;
  ap: number;
}

export function userMetrics(
  ranked: readonly number[] | readonly string[],
  relevant: ReadonlySet<number | string>,
  k: number,
): UserMetrics {
  const n = Math.min(k, ranked.length);
  let hits = 0;
  let dcg = 0;
  let apSum = 0;
  for (let i = 0; i < n; i++) {
    if (!relevant.has(ranked[i])) continue;
    hits++;
    dcg += 1 / Math.log2(i + 2);
    apSum += hits / (i + 1);
  }
  const ideal = Math.min(relevant.size, k);
  let idcg = 0;
  for (let i = 0; i < ideal; i++) idcg += 1 / Math.log2(i + 2);
  return {
    hit: hits > 0 ? 1 : 0,
    precision: hits / k,
    recall: relevant.size ? hits / relevant.size : 0,
    ndcg: idcg > 0 ? dcg / idcg : 0,
    ap: ideal > 0 ? apSum / ideal : 0,
  };
}

/** Running means of UserMetrics plus catalogue coverage (distinct items recommended / catalogue). */
export class MetricSums {
  users = 0;
  private sum: UserMetrics = { hit: 0, precision: 0, recall: 0, ndcg: 0, ap: 0 };
  private readonly shown = new Set<number | string>();

  add(
    ranked: readonly number[] | readonly string[],
    relevant: ReadonlySet<number | string>,
    k: number,
  ): void {
    const m = userMetrics(ranked, relevant, k);
    this.users++;
    for (const key of Object.keys(m) as (keyof UserMetrics)[]) this.sum[key] += m[key];
    for (let i = 0; i < Math.min(k, ranked.length); i++) this.shown.add(ranked[i]);
  }

  result(catalogue: number): UserMetrics & { coverage: number; users: number } {
    const d = Math.max(1, this.users);
    return {
      users: this.users,
      hit: this.sum.hit / d,
      precision: this.sum.precision / d,
      recall: this.sum.recall / d,
      ndcg: this.sum.ndcg / d,
      ap: this.sum.ap / d,
      coverage: catalogue > 0 ? this.shown.size / catalogue : 0,
    };
  }
}
