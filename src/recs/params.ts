/** Hyper-parameters and their defaults (chosen by `recs eval` on a demo store: docs/RECOMMENDATIONS.md). Kept free of heavy imports so the CLI can show them in --help. */

/** Confidence weight of each event type, summed per (user, item). */
export interface EventWeights {
  view: number;
  cart: number;
  purchase: number;
}

export const DEFAULT_WEIGHTS: EventWeights = { view: 1, cart: 4, purchase: 10 };

export interface AlsParams {
  factors: number;
  iterations: number;
  alpha: number;
  lambda: number;
  /** Conjugate-gradient steps per row and half-iteration. */
  cgSteps: number;
  seed: number;
  threads: number;
}

export const DEFAULT_ALS: AlsParams = {
  factors: 64,
  iterations: 10,
  alpha: 4,
  lambda: 1,
  cgSteps: 2,
  seed: 1,
  threads: 2,
};

export interface CooccurrenceParams {
  /** Neighbours kept per item. */
  neighbours: number;
  /** Popularity damping exponent. */
  beta: number;
  /** How much a bought-together pair counts relative to a viewed-together pair. */
  buyWeight: number;
  /** Sessions (or buyers) with more distinct items than this are skipped: crawlers, not people. */
  maxBasket: number;
  /** Pairs seen together fewer times than this are ignored (noise). */
  minCount: number;
}

export const DEFAULT_COOCCURRENCE: CooccurrenceParams = {
  neighbours: 50,
  beta: 0.3,
  buyWeight: 0.5,
  maxBasket: 50,
  minCount: 1,
};
