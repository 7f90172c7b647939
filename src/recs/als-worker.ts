import { parentPort } from 'node:worker_threads';
import { AlsWorkspace, type SolveParams, type WorkspaceLayout } from './als-core.js';

/**
 * One ALS worker thread: instantiates the kernel over the shared memory trainAls laid out (the
 * matrices and factors are not copied) and runs the tasks it hands over, each over a range of
 * rows, in its own scratch area.
 */
export interface WorkerInit {
  memory: WebAssembly.Memory;
  layout: WorkspaceLayout;
  params: SolveParams;
  /** Which scratch area of the layout is this thread's. */
  thread: number;
}

export type WorkerTask =
  | { kind: 'solve'; side: 'users' | 'items'; start: number; end: number }
  | { kind: 'gram'; side: 'users' | 'items'; start: number; end: number }
  | { kind: 'loss'; start: number; end: number };

let w: AlsWorkspace | undefined;
let thread = 0;

parentPort?.on('message', (msg: { init?: WorkerInit; task?: WorkerTask }) => {
  if (msg.init) {
    w = new AlsWorkspace(msg.init.memory, msg.init.layout, msg.init.params);
    thread = msg.init.thread;
    parentPort?.postMessage({ ready: true });
    return;
  }
  const t = msg.task;
  if (!t || !w) return;
  if (t.kind === 'solve') {
    w.solve(t.side, t.start, t.end, thread);
    parentPort?.postMessage({ done: true });
  } else if (t.kind === 'gram') {
    const part = w.gram(t.side, t.start, t.end, thread);
    parentPort?.postMessage({ gram: part }, [part.buffer as ArrayBuffer]);
  } else {
    parentPort?.postMessage({ loss: w.lossObserved(t.start, t.end) });
  }
});
