import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AlsWorkspace, mirrorGram, splitRows } from './als-core.js';
import { type Csr, csrFromTriples, transpose } from './interactions.js';

/** Dense Gaussian elimination with partial pivoting: the exact answer to compare CG with. */
function solveDense(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
    [M[c], M[piv]] = [M[piv], M[c]];
    for (let r = c + 1; r < n; r++) {
      const k = M[r][c] / M[c][c];
      for (let j = c; j <= n; j++) M[r][j] -= k * M[c][j];
    }
  }
  const x = new Array(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let j = r + 1; j < n; j++) s -= M[r][j] * x[j];
    x[r] = s / M[r][r];
  }
  return x;
}

function lcg(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

// 4 users × 6 items, weights like views (1), carts (4), purchases (10).
const triples: [number, number, number][] = [
  [0, 0, 1],
  [0, 2, 4],
  [0, 5, 10],
  [1, 1, 1],
  [1, 2, 1],
  [2, 3, 14],
  [2, 4, 1],
  [2, 0, 1],
  [3, 5, 5],
];
const users = 4;
const items = 6;
const alpha = 2;
const lambda = 0.1;

/** Makes `side` the fixed side for the next solves, as trainAls does: its full Gram matrix, set in the kernel. */
function fixGram(w: AlsWorkspace, side: 'users' | 'items'): Float64Array {
  const G = w.gram(side, 0, side === 'users' ? users : items);
  mirrorGram(G, w.layout.n);
  w.setGram(G);
  return G;
}

/** A workspace over the fixture with random item factors and YᵀY set, as trainAls has it before a user solve. */
function fixture(f: number, cgSteps: number) {
  const m = csrFromTriples(users, items, triples);
  const w = AlsWorkspace.create(m, transpose(m), { f, alpha, lambda, cgSteps }, 1);
  const rnd = lcg(7);
  const Y = Float32Array.from({ length: items * f }, () => rnd() - 0.3);
  w.setFactors('items', Y);
  const G = fixGram(w, 'items');
  return { m, w, Y, G };
}

/** x_u = (YᵀC_uY + λI)⁻¹ YᵀC_u p(u), built densely over every item (zeros included). */
function closedForm(Y: Float32Array, f: number, u: number): number[] {
  const A = Array.from({ length: f }, (_, a) => Array.from({ length: f }, (_, b) => (a === b ? lambda : 0)));
  const b = new Array(f).fill(0);
  for (let i = 0; i < items; i++) {
    const w = triples.filter(([uu, ii]) => uu === u && ii === i).reduce((s, t) => s + t[2], 0);
    const c = 1 + alpha * w;
    const p = w > 0 ? 1 : 0;
    for (let a = 0; a < f; a++) {
      b[a] += c * p * Y[i * f + a];
      for (let bb = 0; bb < f; bb++) A[a][bb] += c * Y[i * f + a] * Y[i * f + bb];
    }
  }
  return solveDense(A, b);
}

describe('ALS conjugate-gradient solver', () => {
  // f = 3 pads to one group of 8 floats; f = 13 to 16, so the kernel's loops run over several
  // lane groups and its matrix-vector product over several blocks of four rows.
  for (const f of [3, 13]) {
    it(`matches the closed-form least-squares solution for every user (${f} factors)`, () => {
      // f CG steps solve an f-dimensional system exactly (up to rounding); run twice, warm-started.
      const { w, Y } = fixture(f, f);
      w.solve('users', 0, users);
      w.solve('users', 0, users);
      const X = w.factors('users');
      for (let u = 0; u < users; u++) {
        const want = closedForm(Y, f, u);
        for (let a = 0; a < f; a++)
          assert.ok(
            Math.abs(X[u * f + a] - want[a]) < 1e-4,
            `user ${u} factor ${a}: ${X[u * f + a]} vs ${want[a]}`,
          );
      }
      // The padding columns the kernel carries stay exactly zero.
      const { n } = w.layout;
      for (let u = 0; u < users; u++) for (let a = f; a < n; a++) assert.equal(w.X[u * n + a], 0);
    });
  }

  it('converges to the same answer with one warm-started step at a time (steepest descent)', () => {
    const f = 3;
    const { w, Y } = fixture(f, 1);
    for (let k = 0; k < 500; k++) w.solve('users', 0, users);
    const X = w.factors('users');
    for (let u = 0; u < users; u++) {
      const want = closedForm(Y, f, u);
      for (let a = 0; a < f; a++)
        assert.ok(Math.abs(X[u * f + a] - want[a]) < 1e-4, `${X[u * f + a]} vs ${want[a]}`);
    }
  });

  it('solves the items side with the roles swapped', () => {
    // Item i's system is user u's with X and Y exchanged: check one item against the closed form
    // built from the transposed triples.
    const f = 5;
    const m = csrFromTriples(users, items, triples);
    const w = AlsWorkspace.create(m, transpose(m), { f, alpha, lambda, cgSteps: f }, 1);
    const rnd = lcg(11);
    const X = Float32Array.from({ length: users * f }, () => rnd() - 0.4);
    w.setFactors('users', X);
    fixGram(w, 'users');
    w.solve('items', 0, items);
    w.solve('items', 0, items);
    const Y = w.factors('items');
    const i = 5; // bought by user 0 (10) and user 3 (5)
    const A = Array.from({ length: f }, (_, a) =>
      Array.from({ length: f }, (_, b) => (a === b ? lambda : 0)),
    );
    const b = new Array(f).fill(0);
    for (let u = 0; u < users; u++) {
      const wt = triples.filter(([uu, ii]) => uu === u && ii === i).reduce((s, t) => s + t[2], 0);
      const c = 1 + alpha * wt;
      for (let a = 0; a < f; a++) {
        b[a] += c * (wt > 0 ? 1 : 0) * X[u * f + a];
        for (let bb = 0; bb < f; bb++) A[a][bb] += c * X[u * f + a] * X[u * f + bb];
      }
    }
    const want = solveDense(A, b);
    for (let a = 0; a < f; a++)
      assert.ok(Math.abs(Y[i * f + a] - want[a]) < 1e-4, `${Y[i * f + a]} vs ${want[a]}`);
  });

  it('computes the weighted loss without visiting the zeros', () => {
    const f = 3;
    const { w, Y, G } = fixture(f, 1);
    const rnd = lcg(3);
    const X = Float32Array.from({ length: users * f }, () => rnd() - 0.5);
    w.setFactors('users', X);
    let want = 0;
    for (let u = 0; u < users; u++) {
      for (let i = 0; i < items; i++) {
        const wt = triples.filter(([uu, ii]) => uu === u && ii === i).reduce((s, t) => s + t[2], 0);
        let xy = 0;
        for (let a = 0; a < f; a++) xy += X[u * f + a] * Y[i * f + a];
        want += (1 + alpha * wt) * ((wt > 0 ? 1 : 0) - xy) ** 2;
      }
      for (let a = 0; a < f; a++) want += lambda * X[u * f + a] ** 2;
    }
    // What trainAls computes: the observed pairs, plus Σ (YᵀY)∘(XᵀX) + λ tr(XᵀX) from the Gram matrices.
    const { n } = w.layout;
    const XtX = w.gram('users', 0, users);
    mirrorGram(XtX, n);
    let got = w.lossObserved(0, users);
    for (let k = 0; k < n * n; k++) got += G[k] * XtX[k];
    for (let a = 0; a < n; a++) got += lambda * XtX[a * n + a];
    assert.ok(Math.abs(got - want) < 1e-4, `${got} vs ${want}`);
  });

  it('refuses a training run too big for one wasm memory, saying what to do', () => {
    // 150 M interactions of 10 M users at 64 factors: 4.8 GB of CSR arrays and factors. The check
    // runs before anything is allocated, so the arrays only need their lengths here.
    const huge = {
      rows: 10_000_000,
      cols: 1_000_000,
      indptr: [],
      indices: { length: 150_000_000 },
      values: [],
    };
    const p = { f: 64, alpha, lambda, cgSteps: 2 };
    assert.throws(
      () => AlsWorkspace.create(huge as unknown as Csr, huge as unknown as Csr, p, 2),
      /needs 4\.\d GiB .* over the 4 GiB .*shorter time range/,
    );
  });

  it('splits rows into contiguous ranges of similar work', () => {
    const indptr = Int32Array.from([0, 100, 101, 102, 103, 200]);
    const parts = splitRows(indptr, 2, 0);
    assert.deepEqual(parts[0][0], 0);
    assert.equal(parts[1][1], 5);
    assert.equal(parts[0][1], parts[1][0]);
    assert.ok(parts[0][1] >= 1 && parts[0][1] <= 4);
  });
});

describe('ALS kernel build', () => {
  it('als-kernel-wasm.ts is what als-kernel.wat assembles to', () => {
    const script = fileURLToPath(new URL('../../scripts/build-kernel.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
});
