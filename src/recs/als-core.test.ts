import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addGram, lossObserved, mirrorGram, scratch, solveRows, splitRows } from './als-core.js';
import { csrFromTriples } from './interactions.js';

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
const f = 3;
const alpha = 2;
const lambda = 0.1;

function fixture() {
  const m = csrFromTriples(users, items, triples);
  const rnd = lcg(7);
  const Y = Float32Array.from({ length: items * f }, () => rnd() - 0.3);
  const G = new Float64Array(f * f);
  addGram(Y, f, 0, items, G);
  mirrorGram(G, f);
  return { m, Y, G };
}

/** x_u = (YᵀC_uY + λI)⁻¹ YᵀC_u p(u), built densely over every item (zeros included). */
function closedForm(Y: Float32Array, u: number): number[] {
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
  it('matches the closed-form least-squares solution for every user', () => {
    const { m, Y, G } = fixture();
    const X = new Float32Array(users * f);
    // f CG steps solve an f-dimensional system exactly (up to rounding); run twice, warm-started.
    solveRows(m, Y, X, G, 0, users, { f, alpha, lambda, cgSteps: f });
    solveRows(m, Y, X, G, 0, users, { f, alpha, lambda, cgSteps: f });
    for (let u = 0; u < users; u++) {
      const want = closedForm(Y, u);
      for (let a = 0; a < f; a++)
        assert.ok(
          Math.abs(X[u * f + a] - want[a]) < 1e-4,
          `user ${u} factor ${a}: ${X[u * f + a]} vs ${want[a]}`,
        );
    }
  });

  it('converges to the same answer with one warm-started step at a time (steepest descent)', () => {
    const { m, Y, G } = fixture();
    const X = new Float32Array(users * f);
    const s = scratch(f);
    for (let k = 0; k < 500; k++) solveRows(m, Y, X, G, 0, users, { f, alpha, lambda, cgSteps: 1 }, s);
    for (let u = 0; u < users; u++) {
      const want = closedForm(Y, u);
      for (let a = 0; a < f; a++)
        assert.ok(Math.abs(X[u * f + a] - want[a]) < 1e-4, `${X[u * f + a]} vs ${want[a]}`);
    }
  });

  it('computes the weighted loss without visiting the zeros', () => {
    const { m, Y, G } = fixture();
    const rnd = lcg(3);
    const X = Float32Array.from({ length: users * f }, () => rnd() - 0.5);
    let want = 0;
    for (let u = 0; u < users; u++) {
      for (let i = 0; i < items; i++) {
        const w = triples.filter(([uu, ii]) => uu === u && ii === i).reduce((s, t) => s + t[2], 0);
        let xy = 0;
        for (let a = 0; a < f; a++) xy += X[u * f + a] * Y[i * f + a];
        want += (1 + alpha * w) * ((w > 0 ? 1 : 0) - xy) ** 2;
      }
      for (let a = 0; a < f; a++) want += lambda * X[u * f + a] ** 2;
    }
    // What trainAls computes: the observed pairs, plus Σ (YᵀY)∘(XᵀX) + λ tr(XᵀX) from the Gram matrices.
    const XtX = new Float64Array(f * f);
    addGram(X, f, 0, users, XtX);
    mirrorGram(XtX, f);
    let got = lossObserved(m, Y, X, 0, users, f, alpha);
    for (let k = 0; k < f * f; k++) got += G[k] * XtX[k];
    for (let a = 0; a < f; a++) got += lambda * XtX[a * f + a];
    assert.ok(Math.abs(got - want) < 1e-4, `${got} vs ${want}`);
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
