import { DEFAULT_ALS, trainAls } from '../src/recs/als.js';
import { type Csr, emptyCsr } from '../src/recs/interactions.js';
import { type Bench, type BenchOptions, fmt } from './lib.js';

/**
 * (k) Recommendation training: implicit ALS, 64 factors, on a synthetic 10 M-interaction
 * matrix with planted taste groups (500 k users × 50 k items, ~20 interactions per user,
 * head-heavy inside each group, like a shop). The matrix is built in memory so the figure is
 * the training itself (reading the lake is DuckDB's, measured by the reports benchmark).
 * Baseline in the same run: the same solver on one thread (the ratio is the worker-thread
 * speed-up); peak memory is the process's max RSS.
 */

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export function syntheticMatrix(users: number, items: number, perUser: number, seed = 1): Csr {
  const rnd = lcg(seed);
  const groups = 200;
  const perGroup = Math.floor(items / groups);
  const counts = new Int32Array(users);
  let nnz = 0;
  for (let u = 0; u < users; u++) {
    counts[u] = 1 + Math.floor(rnd() * (2 * perUser - 1));
    nnz += counts[u];
  }
  const m = emptyCsr(users, items, nnz);
  let k = 0;
  for (let u = 0; u < users; u++) {
    m.indptr[u] = k;
    const g = Math.floor(rnd() * groups);
    for (let j = 0; j < counts[u]; j++, k++) {
      // 80% inside the user's group (head-heavy), 20% anywhere.
      m.indices[k] =
        rnd() < 0.8 ? g * perGroup + Math.floor(rnd() ** 2 * perGroup) : Math.floor(rnd() ** 1.5 * items);
      const r = rnd();
      m.values[k] = r < 0.9 ? 1 : r < 0.97 ? 4 : 10;
    }
  }
  m.indptr[users] = k;
  return m;
}

export const recsBench: Bench = {
  id: 'k',
  title: 'recommendation training: implicit ALS, 10 M interactions, 64 factors (vs one thread)',
  async run(o: BenchOptions) {
    const users = o.quick ? 50_000 : 500_000;
    const items = o.quick ? 5_000 : 50_000;
    const iterations = o.quick ? 3 : DEFAULT_ALS.iterations;
    const m = syntheticMatrix(users, items, 20);
    const nnz = m.indices.length;
    o.log(`  matrix: ${fmt(users)} users × ${fmt(items)} items, ${fmt(nnz)} interactions`);
    const params = { ...DEFAULT_ALS, factors: 64, iterations, threads: 2 };

    const perIteration: number[] = [];
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await trainAls(m, params, (i) => {
      perIteration.push(i.seconds);
      o.log(
        `  iteration ${i.iteration}/${i.iterations}: ${i.seconds.toFixed(2)} s, loss ${i.loss.toExponential(4)}`,
      );
    });
    const total = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    // Cores actually used: on a shared machine the two workers may get much less than two.
    const cores = (cpu.user + cpu.system) / 1e6 / total;
    const rssMb = process.resourceUsage().maxRSS / 1024;

    // Baseline: the same solver on one thread, two iterations (the second is the steady state).
    const single: number[] = [];
    await trainAls(m, { ...params, iterations: 2, threads: 1 }, (i) => {
      single.push(i.seconds);
      o.log(`  one thread, iteration ${i.iteration}/2: ${i.seconds.toFixed(2)} s`);
    });
    const steady = perIteration.slice(1);
    const two = steady.reduce((a, b) => a + b, 0) / Math.max(1, steady.length);
    const one = single[single.length - 1];
    return {
      id: 'k',
      name: `ALS training, ${fmt(nnz / 1e6, 1)} M interactions, 64 factors, ${iterations} iterations, 2 worker threads`,
      unit: 's total',
      value: total,
      baselineName: 'same solver on one thread, seconds per iteration (ratio = per-iteration speed-up)',
      baseline: one,
      ratio: one / two,
      goal: '≤ 60 s total for 10 M interactions',
      pass: !o.quick && total <= 60,
      samples: { value: perIteration, baseline: single },
      notes: [
        `${two.toFixed(2)} s per iteration on 2 threads vs ${one.toFixed(2)} s on 1 (×${(one / two).toFixed(2)})`,
        `peak RSS ${fmt(rssMb)} MB (process, includes the matrix and its transposed copy)`,
        `${cores.toFixed(2)} cores used on average while training on 2 threads (CPU time / wall time)`,
      ],
    };
  },
};
