import { ALS_KERNEL_WASM } from './als-kernel-wasm.js';
import type { Csr } from './interactions.js';

/**
 * The arithmetic of implicit-feedback ALS (Hu, Koren & Volinsky 2008).
 *
 * For one user u with the item factors Y fixed, the exact update is
 *   x_u = (YᵀY + λI + Σ_{i∈u} (c_ui − 1) y_i y_iᵀ)⁻¹ Σ_{i∈u} c_ui y_i,   c_ui = 1 + α·w_ui
 * (preference p_ui = 1 for every observed pair). YᵀY is shared by all users, so each solve
 * only touches the user's own items. Like the `implicit` library's CG solver, we do not
 * invert: a few conjugate-gradient steps warm-started from the previous x_u converge to it.
 * Items are the same with the roles swapped (the transposed matrix, X fixed).
 *
 * The loops run in WebAssembly with SIMD (als-kernel.wat), over one shared memory that holds
 * both sparse matrices, both factor matrices, the Gram matrix and a scratch area per thread:
 * an AlsWorkspace. Worker threads receive the same memory and layout and run the same kernel
 * on their own ranges of rows; nothing is copied between threads.
 */

export interface SolveParams {
  f: number;
  alpha: number;
  lambda: number;
  cgSteps: number;
}

export interface Kernel {
  solve_rows(
    indptr: number,
    indices: number,
    values: number,
    Y: number,
    X: number,
    G: number,
    start: number,
    end: number,
    n: number,
    alpha: number,
    lambda: number,
    steps: number,
    scratch: number,
  ): void;
  gram(F: number, start: number, end: number, n: number, G: number): void;
  scores(Y: number, x: number, out: number, rows: number, n: number): void;
  loss_observed(
    indptr: number,
    indices: number,
    values: number,
    Y: number,
    X: number,
    start: number,
    end: number,
    n: number,
    alpha: number,
  ): number;
}

let compiled: WebAssembly.Module | undefined;
export function kernelModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(ALS_KERNEL_WASM, 'base64'));
  return compiled;
}

/** The kernel works on vectors of a multiple of 8 floats; the extra factors are zero throughout. */
export function paddedFactors(f: number): number {
  return Math.ceil(f / 8) * 8;
}

export const PAGE = 65536;
/** wasm32 addresses 4 GiB. */
const MAX_BYTES = 65536 * PAGE;
/** Rows per Gram block: summed in float32 by the kernel, then added into float64. */
export const GRAM_BLOCK = 4096;

interface CsrOffsets {
  indptr: number;
  indices: number;
  values: number;
}

/** Where everything lives in the shared memory (byte offsets), so a worker can make the same views. */
export interface WorkspaceLayout {
  f: number;
  /** Padded factor count: the row stride of X, Y and G. */
  n: number;
  rows: number;
  cols: number;
  nnz: number;
  users: CsrOffsets;
  items: CsrOffsets;
  X: number;
  Y: number;
  G: number;
  /** One per thread: r, p, ap (n floats each) and a Gram block (n × n floats). */
  scratch: number[];
  bytes: number;
}

export function planWorkspace(
  rows: number,
  cols: number,
  nnz: number,
  f: number,
  threads: number,
): WorkspaceLayout {
  const n = paddedFactors(f);
  let at = 0;
  const take = (bytes: number) => {
    const o = at;
    at += Math.ceil(bytes / 16) * 16;
    return o;
  };
  const csr = (r: number): CsrOffsets => ({
    indptr: take((r + 1) * 4),
    indices: take(nnz * 4),
    values: take(nnz * 4),
  });
  const users = csr(rows);
  const items = csr(cols);
  const X = take(rows * n * 4);
  const Y = take(cols * n * 4);
  const G = take(n * n * 4);
  const scratch = Array.from({ length: Math.max(1, threads) }, () => take((3 * n + n * n) * 4));
  return { f, n, rows, cols, nnz, users, items, X, Y, G, scratch, bytes: at };
}

function csrViews(buf: ArrayBufferLike, o: CsrOffsets, rows: number, nnz: number) {
  return {
    indptr: new Int32Array(buf, o.indptr, rows + 1),
    indices: new Int32Array(buf, o.indices, nnz),
    values: new Float32Array(buf, o.values, nnz),
  };
}

export class AlsWorkspace {
  private readonly kernel: Kernel;
  /** users × n, row-major (padded). */
  readonly X: Float32Array;
  /** items × n, row-major (padded). */
  readonly Y: Float32Array;
  /** The Gram matrix of the fixed side, n × n, float32 as the kernel reads it. */
  private readonly G32: Float32Array;
  readonly users: ReturnType<typeof csrViews>;
  readonly items: ReturnType<typeof csrViews>;

  constructor(
    readonly memory: WebAssembly.Memory,
    readonly layout: WorkspaceLayout,
    readonly params: SolveParams,
  ) {
    const instance = new WebAssembly.Instance(kernelModule(), { env: { memory } });
    this.kernel = instance.exports as unknown as Kernel;
    const buf = memory.buffer;
    const { n, rows, cols, nnz } = layout;
    this.X = new Float32Array(buf, layout.X, rows * n);
    this.Y = new Float32Array(buf, layout.Y, cols * n);
    this.G32 = new Float32Array(buf, layout.G, n * n);
    this.users = csrViews(buf, layout.users, rows, nnz);
    this.items = csrViews(buf, layout.items, cols, nnz);
  }

  /** Lays out a new shared memory for `m` (users × items) and its transpose `t`, and copies them in. */
  static create(m: Csr, t: Csr, params: SolveParams, threads: number): AlsWorkspace {
    const layout = planWorkspace(m.rows, m.cols, m.indices.length, params.f, threads);
    if (layout.bytes >= MAX_BYTES)
      throw new Error(
        `training needs ${(layout.bytes / 2 ** 30).toFixed(1)} GiB of matrices and factors, over the 4 GiB one run can address: train on a shorter time range (--from/--to) or with fewer factors`,
      );
    const pages = Math.max(1, Math.ceil(layout.bytes / PAGE));
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    } catch (err) {
      throw new Error(
        `could not reserve ${(layout.bytes / 2 ** 30).toFixed(1)} GiB for training (${(err as Error).message}): free memory, or train on a shorter time range (--from/--to) or with fewer factors`,
      );
    }
    const w = new AlsWorkspace(memory, layout, params);
    for (const [view, src] of [
      [w.users, m],
      [w.items, t],
    ] as const) {
      view.indptr.set(src.indptr);
      view.indices.set(src.indices);
      view.values.set(src.values);
    }
    return w;
  }

  /** Sets the fixed side's Gram matrix (n × n, both triangles) for the next solves. */
  setGram(G: Float64Array): void {
    this.G32.set(G);
  }

  /** Runs the CG update on rows [start, end) of one side, using scratch area `thread`. */
  solve(side: 'users' | 'items', start: number, end: number, thread = 0): void {
    const { layout: l, params: p } = this;
    const [csr, fixed, solved] = side === 'users' ? [l.users, l.Y, l.X] : [l.items, l.X, l.Y];
    this.kernel.solve_rows(
      csr.indptr,
      csr.indices,
      csr.values,
      fixed,
      solved,
      l.G,
      start,
      end,
      l.n,
      p.alpha,
      p.lambda,
      p.cgSteps,
      l.scratch[thread],
    );
  }

  /** Σ FᵀF over rows [start, end) of one side's factors, n × n in float64, upper triangle only (see mirrorGram). */
  gram(side: 'users' | 'items', start: number, end: number, thread = 0): Float64Array {
    const l = this.layout;
    const n = l.n;
    const F = side === 'users' ? l.X : l.Y;
    const blockAt = l.scratch[thread] + 3 * n * 4;
    const block = new Float32Array(this.memory.buffer, blockAt, n * n);
    const out = new Float64Array(n * n);
    // Blocks on multiples of GRAM_BLOCK from row 0, whatever the range (see trainAls).
    for (let a = start; a < end; a = (Math.floor(a / GRAM_BLOCK) + 1) * GRAM_BLOCK) {
      block.fill(0);
      this.kernel.gram(F, a, Math.min(end, (Math.floor(a / GRAM_BLOCK) + 1) * GRAM_BLOCK), n, blockAt);
      for (let k = 0; k < out.length; k++) out[k] += block[k];
    }
    return out;
  }

  /** The observed pairs' part of the loss over user rows [start, end): Σ c (1 − x·y)² − (x·y)². */
  lossObserved(start: number, end: number): number {
    const l = this.layout;
    return this.kernel.loss_observed(
      l.users.indptr,
      l.users.indices,
      l.users.values,
      l.Y,
      l.X,
      start,
      end,
      l.n,
      this.params.alpha,
    );
  }

  /** One side's factors without the padding columns (rows × f). */
  factors(side: 'users' | 'items'): Float32Array {
    const { f, n } = this.layout;
    const F = side === 'users' ? this.X : this.Y;
    const rows = F.length / n;
    const out = new Float32Array(rows * f);
    for (let r = 0; r < rows; r++) out.set(F.subarray(r * n, r * n + f), r * f);
    return out;
  }

  /** Writes one side's factors from an unpadded rows × f array. */
  setFactors(side: 'users' | 'items', src: Float32Array): void {
    const { f, n } = this.layout;
    const F = side === 'users' ? this.X : this.Y;
    const rows = F.length / n;
    F.fill(0);
    for (let r = 0; r < rows; r++) F.set(src.subarray(r * f, r * f + f), r * n);
  }
}

/** Fills the lower triangle from the upper one. */
export function mirrorGram(G: Float64Array, f: number): void {
  for (let a = 0; a < f; a++) for (let b = a + 1; b < f; b++) G[b * f + a] = G[a * f + b];
}

/** Splits rows into `parts` contiguous ranges of about equal work (rows plus non-zeros). */
export function splitRows(indptr: Int32Array, parts: number, rowCost = 8): [number, number][] {
  const rows = indptr.length - 1;
  const total = indptr[rows] + rows * rowCost;
  const out: [number, number][] = [];
  let start = 0;
  for (let p = 1; p <= parts; p++) {
    const target = (total * p) / parts;
    let end = start;
    if (p === parts) end = rows;
    else while (end < rows && indptr[end] + end * rowCost < target) end++;
    out.push([start, end]);
    start = end;
  }
  return out;
}
