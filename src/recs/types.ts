/**
 * The seam between training (src/recs/train*, als, cooccurrence, baselines, eval) and serving
 * (routes, page, scheduled retraining). A trained model is a versioned directory under
 * `<dataDir>/recs/models/<version>/` written by `ModelStore`; serving loads the current one
 * into memory as a `Recommender`.
 */

/** Why an item is recommended, shown on the dashboard page. */
export interface RecReason {
  /** 'als': similar to what the user interacted with; 'cooccurrence': seen/bought together; 'popular': fallback. */
  kind: 'als' | 'cooccurrence' | 'popular' | 'history';
  /** Human-readable, plain text (escaped by the page): e.g. "bought together 42 times with P123". */
  text: string;
  /** Items this recommendation is based on (the user's history items, or the anchor product). */
  because?: string[];
  /** Co-occurrence counts when kind is 'cooccurrence'. */
  viewedTogether?: number;
  boughtTogether?: number;
}

export interface Recommendation {
  productId: string;
  score: number;
  categoryCode?: string | null;
  brand?: string | null;
  price?: number | null;
  reason: RecReason;
}

export interface ModelInfo {
  version: string;
  siteId: string;
  trainedAt: string;
  /** Time range of the lake events it was trained on (ISO, to exclusive). */
  from: string;
  to: string;
  users: number;
  items: number;
  interactions: number;
  factors: number;
  iterations: number;
  trainSeconds: number;
  params: Record<string, number | string | boolean>;
}

export interface Recommender {
  readonly info: ModelInfo;
  /** Personal recommendations: ALS; users unknown to the model fall back to popularity (reason 'popular'). Already-bought items excluded. */
  forUser(userId: string, n: number): Recommendation[];
  /** "Also viewed / bought": item-to-item co-occurrence (falls back to ALS item factors' neighbours, then category popularity). Unknown item → null. */
  similarItems(productId: string, n: number): Recommendation[] | null;
  /** Whether the model knows this user (has interactions in the training range). */
  knowsUser(userId: string): boolean;
  /** Products no list may contain from now on (replaces the previous set). Returns how many the model knows. */
  setUnavailable(productIds: Iterable<string>): number;
}
