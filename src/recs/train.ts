import { type AlsParams, DEFAULT_ALS, type IterationInfo, trainAls } from './als.js';
import { type CooccurrenceParams, computeCooccurrence, DEFAULT_COOCCURRENCE } from './cooccurrence.js';
import {
  DEFAULT_WEIGHTS,
  type EventWeights,
  type LakeEvents,
  type LakeRange,
  loadInteractions,
  modelSite,
  openLakeEvents,
} from './interactions.js';
import { type ModelData, ModelStore } from './model-store.js';
import { ModelRecommender } from './recommender.js';
import type { Recommender } from './types.js';

/**
 * The training job: lake → interactions → ALS factors + co-occurrence neighbours + popularity
 * → a versioned model in the ModelStore. `recs train`, scheduled retraining and `recs eval`
 * (which trains on the days before its split) all go through `buildModel`.
 */

export interface TrainOptions extends LakeRange {
  als?: Partial<AlsParams>;
  cooccurrence?: Partial<CooccurrenceParams>;
  weights?: Partial<EventWeights>;
  onProgress?: (p: TrainProgress) => void;
}

export type TrainProgress =
  | { stage: 'read'; interactions: number; total: number }
  | { stage: 'loaded'; users: number; items: number; interactions: number; events: number; seconds: number }
  | ({ stage: 'als' } & IterationInfo)
  | { stage: 'cooccurrence'; pairs: number; seconds: number };

/** `events`: an open connection whose `recs_events` to train on (eval passes its training days); default: opened from `o`. */
export async function buildModel(
  o: TrainOptions,
  version = 'unsaved',
  events?: LakeEvents,
): Promise<ModelData> {
  const started = performance.now();
  const als: AlsParams = { ...DEFAULT_ALS, ...o.als };
  const co: CooccurrenceParams = { ...DEFAULT_COOCCURRENCE, ...o.cooccurrence };
  const weights: EventWeights = { ...DEFAULT_WEIGHTS, ...o.weights };
  const lake = events ?? (await openLakeEvents(o));
  const release = () => {
    if (!events) lake.close();
  };
  try {
    const siteId = await modelSite(lake.conn, o.site);
    const data = await loadInteractions(lake.conn, weights, (read, total) =>
      o.onProgress?.({ stage: 'read', interactions: read, total }),
    );
    const { matrix } = data;
    if (matrix.indices.length === 0) {
      throw new Error(
        `no view, cart or purchase events of site ${siteId} in ${o.from ?? 'the start'} … ${o.to ?? 'now'}: nothing to train on`,
      );
    }
    o.onProgress?.({
      stage: 'loaded',
      users: matrix.rows,
      items: matrix.cols,
      interactions: matrix.indices.length,
      events: data.events,
      seconds: (performance.now() - started) / 1000,
    });
    const coStarted = performance.now();
    const neighbours = await computeCooccurrence(lake.conn, matrix.cols, co);
    o.onProgress?.({
      stage: 'cooccurrence',
      pairs: neighbours.indices.length,
      seconds: (performance.now() - coStarted) / 1000,
    });
    release(); // before ALS, to free DuckDB's memory
    const factors = await trainAls(matrix, als, (i) => o.onProgress?.({ stage: 'als', ...i }));
    const popularity = new Float32Array(matrix.cols);
    for (let k = 0; k < matrix.indices.length; k++) popularity[matrix.indices[k]]++;
    return {
      info: {
        version,
        siteId,
        trainedAt: new Date().toISOString(),
        from: o.from ?? '',
        to: o.to ?? '',
        users: matrix.rows,
        items: matrix.cols,
        interactions: matrix.indices.length,
        factors: als.factors,
        iterations: als.iterations,
        trainSeconds: (performance.now() - started) / 1000,
        params: {
          alpha: als.alpha,
          lambda: als.lambda,
          cgSteps: als.cgSteps,
          seed: als.seed,
          viewWeight: weights.view,
          cartWeight: weights.cart,
          purchaseWeight: weights.purchase,
          neighbours: co.neighbours,
          beta: co.beta,
          buyWeight: co.buyWeight,
          maxBasket: co.maxBasket,
          minCount: co.minCount,
        },
      },
      userIds: data.userIds,
      itemIds: data.itemIds,
      items: data.items,
      X: factors.X,
      Y: factors.Y,
      history: matrix,
      purchased: data.purchased,
      neighbours,
      popularity,
      aliases: data.aliases,
    };
  } finally {
    release();
  }
}

/** Trains on the lake and stores the result as the new current model. */
export async function trainAndSave(
  o: TrainOptions & { keep?: number },
): Promise<{ version: string; model: ModelData }> {
  const store = new ModelStore(o.dataDir, o.keep);
  const model = await buildModel(o, store.newVersion());
  store.save(model);
  return { version: model.info.version, model };
}

/** The current model as a Recommender, or null when none has been trained yet. */
export function loadRecommender(dataDir: string, version?: string): Recommender | null {
  const store = new ModelStore(dataDir);
  const m = store.load(version ?? store.current());
  return m ? new ModelRecommender(m) : null;
}
