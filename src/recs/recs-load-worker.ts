import { parentPort, workerData } from 'node:worker_threads';
import { ModelStore } from './model-store.js';

/**
 * Reads one model version off the main thread (a large model is hundreds of MB of arrays and a
 * JSON of ids), and hands its arrays over without copying (transferred buffers), so the server
 * keeps answering with the previous model meanwhile.
 */
const { dataDir, version } = workerData as { dataDir: string; version: string };
const model = new ModelStore(dataDir).load(version);
if (!model) throw new Error(`model version ${version} is not in ${dataDir}/recs/models`);
const buffers = new Set<ArrayBuffer>();
for (const a of [
  model.X,
  model.Y,
  model.history.indptr,
  model.history.indices,
  model.history.values,
  model.purchased.indptr,
  model.purchased.indices,
  model.purchased.values,
  model.neighbours.indptr,
  model.neighbours.indices,
  model.neighbours.scores,
  model.neighbours.viewed,
  model.neighbours.bought,
  model.popularity,
  model.items.price,
]) {
  if (a.buffer instanceof ArrayBuffer) buffers.add(a.buffer);
}
parentPort?.postMessage(model, [...buffers]);
