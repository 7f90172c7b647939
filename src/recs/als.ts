import { Worker } from 'node:worker_threads';
import { AlsWorkspace, GRAM_BLOCK, mirrorGram, type SolveParams, splitRows } from './als-core.js';
import type { WorkerInit, WorkerTask } from './als-worker.js';
import { type Csr, transpose } from './interactions.js';
import { type AlsParams, DEFAULT_ALS } from './params.js';

export { type AlsParams, DEFAULT_ALS };

/**
 * Implicit ALS training: alternates user and item solves (conjugate gradient, see als-core.ts),
 * with the rows split across worker threads that share the matrices and factors through one
 * shared WebAssembly memory (AlsWorkspace). `threads: 1` runs everything on the calling thread (the benchmark's
 * baseline, and small test matrices).
 */

export interface AlsModel {
  factors: number;
  /** users × factors, row-major. */
  X: Float32Array;
  /** items × factors, row-major. */
  Y: Float32Array;
}

export interface IterationInfo {
  iteration: number;
  iterations: number;
  /** Weighted squared error + regularisation, divided by the confidence mass (lower is better). */
  loss: number;
  seconds: number;
}

/** Small uniform random numbers from a seeded generator (mulberry32), so training is reproducible. */
function initFactors(out: Float32Array, seed: number, scale: number): void {
  let a = seed >>> 0 || 1;
  for (let k = 0; k < out.length; k++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[k] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * scale;
  }
}

function workerUrl(): { code: string } | URL {
  // Under tsx (tests, the CLI) the worker is a .ts file that needs tsx's loader registered in
  // the worker too; a built copy runs the .js directly.
  if (import.meta.url.endsWith('.ts')) {
    const file = new URL('./als-worker.ts', import.meta.url).href;
    const api = import.meta.resolve('tsx/esm/api');
    return {
      code: `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(file)}); })`,
    };
  }
  return new URL('./als-worker.js', import.meta.url);
}

class Pool {
  private workers: Worker[] = [];
  async start(n: number, init: Omit<WorkerInit, 'thread'>): Promise<void> {
    const target = workerUrl();
    for (let i = 0; i < n; i++) {
      const w = target instanceof URL ? new Worker(target) : new Worker(target.code, { eval: true });
      w.unref();
      this.workers.push(w);
    }
    await Promise.all(this.workers.map((w, thread) => this.call(w, { init: { ...init, thread } })));
  }
  private call(w: Worker, msg: unknown): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>) => {
        w.off('error', onError);
        resolve(m);
      };
      const onError = (e: Error) => {
        w.off('message', onMessage);
        reject(e);
      };
      w.once('message', onMessage);
      w.once('error', onError);
      w.postMessage(msg);
    });
  }
  run(tasks: WorkerTask[]): Promise<Record<string, unknown>[]> {
    return Promise.all(tasks.map((task, i) => this.call(this.workers[i % this.workers.length], { task })));
  }
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Trains user and item factors for the user × item matrix `m`. */
export async function trainAls(
  m: Csr,
  p: AlsParams = DEFAULT_ALS,
  onIteration?: (i: IterationInfo) => void,
): Promise<AlsModel> {
  const f = p.factors;
  const params: SolveParams = { f, alpha: p.alpha, lambda: p.lambda, cgSteps: p.cgSteps };
  const threads = Math.max(1, Math.min(p.threads, m.rows));
  const w = AlsWorkspace.create(m, transpose(m), params, threads);
  const { n } = w.layout;
  const Y0 = new Float32Array(m.cols * f);
  initFactors(Y0, p.seed, 0.01);
  w.setFactors('items', Y0);
  /** The fixed side's Gram matrix in float64, n × n (padded; the padding is zero). */
  const G = new Float64Array(n * n);

  let mass = 0;
  for (let k = 0; k < m.values.length; k++) mass += 1 + p.alpha * m.values[k];
  const norm = mass + m.rows * m.cols - m.values.length;

  const pool = threads > 1 ? new Pool() : undefined;
  const userParts = splitRows(w.users.indptr, threads);
  const itemParts = splitRows(w.items.indptr, threads);
  // Gram parts start on block boundaries, so every block sums the same rows in float32 whatever
  // the thread count (one thread and two give the same factors).
  const rowParts = (rows: number): [number, number][] => {
    const at = (i: number) => Math.min(rows, Math.round((rows * i) / threads / GRAM_BLOCK) * GRAM_BLOCK);
    return Array.from({ length: threads }, (_, i) => [at(i), i === threads - 1 ? rows : at(i + 1)]);
  };

  const gram = async (side: 'users' | 'items') => {
    const rows = side === 'users' ? m.rows : m.cols;
    if (!pool) G.set(w.gram(side, 0, rows));
    else {
      G.fill(0);
      const parts = await pool.run(
        rowParts(rows).map(([start, end]) => ({ kind: 'gram', side, start, end })),
      );
      for (const r of parts) {
        const g = r.gram as Float64Array;
        for (let k = 0; k < g.length; k++) G[k] += g[k];
      }
    }
    mirrorGram(G, n);
    w.setGram(G);
  };
  const solve = async (side: 'users' | 'items') => {
    const parts = side === 'users' ? userParts : itemParts;
    if (!pool) for (const [a, b] of parts) w.solve(side, a, b);
    else await pool.run(parts.map(([start, end]) => ({ kind: 'solve', side, start, end })));
  };
  const XtX = new Float64Array(n * n);
  const loss = async (): Promise<number> => {
    // G holds YᵀY here, XtX the users' Gram matrix (X has not changed since it was computed).
    let l = 0;
    for (let k = 0; k < n * n; k++) l += G[k] * XtX[k];
    for (let a = 0; a < n; a++) l += p.lambda * XtX[a * n + a];
    if (!pool) l += w.lossObserved(0, m.rows);
    else
      for (const r of await pool.run(userParts.map(([start, end]) => ({ kind: 'loss', start, end }))))
        l += r.loss as number;
    const Y = w.Y;
    for (let k = 0; k < Y.length; k++) l += p.lambda * Y[k] * Y[k];
    return l / norm;
  };

  try {
    await pool?.start(threads, { memory: w.memory, layout: w.layout, params });
    for (let it = 1; it <= p.iterations && m.rows > 0 && m.cols > 0; it++) {
      const started = performance.now();
      if (it === 1) await gram('items'); // later iterations end with YᵀY in G
      await solve('users');
      await gram('users');
      XtX.set(G);
      await solve('items');
      await gram('items');
      const l = await loss();
      onIteration?.({
        iteration: it,
        iterations: p.iterations,
        loss: l,
        seconds: (performance.now() - started) / 1000,
      });
    }
  } finally {
    await pool?.stop();
  }
  return { factors: f, X: w.factors('users'), Y: w.factors('items') };
}
