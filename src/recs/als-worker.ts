import { parentPort } from 'node:worker_threads';
import { addGram, type CsrView, lossObserved, type SolveParams, scratch, solveRows } from './als-core.js';

/**
 * One ALS worker thread: holds views of the shared matrices and factors (SharedArrayBuffer,
 * nothing copied) and runs the tasks trainAls hands it, each over a range of rows.
 */
export interface WorkerInit {
  users: CsrView; // users × items
  items: CsrView; // items × users
  X: Float32Array; // user factors
  Y: Float32Array; // item factors
  G: Float64Array; // the Gram matrix of the fixed side, f × f
  params: SolveParams;
}

export type WorkerTask =
  | { kind: 'solve'; side: 'users' | 'items'; start: number; end: number }
  | { kind: 'gram'; side: 'users' | 'items'; start: number; end: number }
  | { kind: 'loss'; start: number; end: number };

let init: WorkerInit | undefined;
let s: ReturnType<typeof scratch> | undefined;

parentPort?.on('message', (msg: { init?: WorkerInit; task?: WorkerTask }) => {
  if (msg.init) {
    init = msg.init;
    s = scratch(init.params.f);
    parentPort?.postMessage({ ready: true });
    return;
  }
  const t = msg.task;
  if (!t || !init || !s) return;
  const { users, items, X, Y, G, params } = init;
  if (t.kind === 'solve') {
    if (t.side === 'users') solveRows(users, Y, X, G, t.start, t.end, params, s);
    else solveRows(items, X, Y, G, t.start, t.end, params, s);
    parentPort?.postMessage({ done: true });
  } else if (t.kind === 'gram') {
    const part = new Float64Array(params.f * params.f);
    addGram(t.side === 'users' ? X : Y, params.f, t.start, t.end, part);
    parentPort?.postMessage({ gram: part }, [part.buffer]);
  } else {
    parentPort?.postMessage({ loss: lossObserved(users, Y, X, t.start, t.end, params.f, params.alpha) });
  }
});
