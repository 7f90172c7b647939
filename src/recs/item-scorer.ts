import { type Kernel, kernelModule, PAGE, paddedFactors } from './als-core.js';

/**
 * x · y_i for every item at once, for serving and evaluation: the ALS kernel's SIMD
 * matrix-vector product (als-kernel.wat) over a padded copy of the item factors in a memory of
 * its own. About ten times faster than the scalar JavaScript loop for 64 factors.
 */
export class ItemScorer {
  private readonly kernel: Kernel;
  private readonly x: Float32Array;
  private readonly out: Float32Array;
  private readonly at: { Y: number; x: number; out: number; rows: number; n: number };

  constructor(
    Y: Float32Array,
    readonly items: number,
    readonly f: number,
  ) {
    const n = paddedFactors(f);
    const rows = Math.ceil(Math.max(1, items) / 4) * 4;
    const yBytes = rows * n * 4;
    this.at = { Y: 0, x: yBytes, out: yBytes + n * 4, rows, n };
    const bytes = yBytes + n * 4 + rows * 4;
    const pages = Math.max(1, Math.ceil(bytes / PAGE));
    // The kernel module imports a shared memory (training shares it with worker threads).
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    this.kernel = new WebAssembly.Instance(kernelModule(), { env: { memory } }).exports as unknown as Kernel;
    const padded = new Float32Array(memory.buffer, 0, rows * n);
    for (let i = 0; i < items; i++) padded.set(Y.subarray(i * f, i * f + f), i * n);
    this.x = new Float32Array(memory.buffer, this.at.x, n);
    this.out = new Float32Array(memory.buffer, this.at.out, items);
  }

  /** Every item's score against `x` (f floats). The array is reused by the next call. */
  score(x: Float32Array): Float32Array {
    this.x.set(x.subarray(0, this.f));
    const { Y, out, rows, n } = this.at;
    this.kernel.scores(Y, this.at.x, out, rows, n);
    return this.out;
  }
}
