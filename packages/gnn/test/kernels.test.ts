import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addSparseTransposeTimesDense, sparseTimesDense } from '../src/kernels.ts';
import { createRng } from '../src/random.ts';
import { csrFromDense, toDense } from '../src/sparse.ts';

const rng = createRng(17);
const R = 7;
const N = 9;
const dense = Float32Array.from({ length: R * N }, () => (rng.next() < 0.6 ? 0 : rng.next() - 0.5));
const s = csrFromDense(dense, R, N);
const keep = Uint8Array.from({ length: s.values.length }, () => (rng.next() < 0.5 ? 1 : 0));
/** S with the dropped entries zeroed, dense. */
const kept = toDense({ ...s, values: s.values.map((v, p) => v * keep[p]) });

for (const K of [16, 6, 3]) {
  test(`S·D over chosen rows matches the dense product, with dropped entries skipped (K = ${K})`, () => {
    const d = Float32Array.from({ length: N * K }, () => rng.next() - 0.5);
    const out = new Float32Array(R * K).fill(99);
    const rows = Int32Array.of(0, 2, 3, 6);
    sparseTimesDense(s, rows, d, K, out, keep, 2);
    for (let r = 0; r < R; r++) {
      for (let k = 0; k < K; k++) {
        let expected = 0;
        for (let c = 0; c < N; c++) expected += 2 * kept[r * N + c] * d[c * K + k];
        if (rows.includes(r)) assert.ok(Math.abs(out[r * K + k] - expected) < 1e-6);
        else assert.equal(out[r * K + k], 99); // rows outside the list are not touched
      }
    }
  });

  test(`S^T·G accumulates from the chosen rows only (K = ${K})`, () => {
    const g = Float32Array.from({ length: R * K }, () => rng.next() - 0.5);
    const out = new Float32Array(N * K).fill(1);
    const rows = Int32Array.of(1, 4, 5);
    addSparseTransposeTimesDense(s, rows, g, K, out, null, 0.5);
    for (let c = 0; c < N; c++) {
      for (let k = 0; k < K; k++) {
        let expected = 1;
        for (const r of rows) expected += 0.5 * dense[r * N + c] * g[r * K + k];
        assert.ok(Math.abs(out[c * K + k] - expected) < 1e-6);
      }
    }
  });
}
