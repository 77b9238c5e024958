/**
 * The two sparse–dense products every GCN pass is made of, over a chosen list of rows:
 *   out[r] = scale · Σ_p S[r, c_p] · D[c_p]          (forward: X·W1, Â·(XW1), Â·(HW2))
 *   out[c_p] += scale · S[r, c_p] · G[r]   for all r  (backward: Â^T·G, X^T·G)
 * The K columns of D, G and out are walked four at a time with the four sums in local
 * variables, so V8 keeps them in registers instead of loading and storing a Float32Array
 * element per multiply-add: on CiteSeer's X·W1 (105k nonzeros × 16) that halves the time.
 * `keep` (one flag per nonzero of S, from sparse dropout) skips dropped entries.
 */
import type { SparseMatrix } from './sparse.ts';

export function sparseTimesDense(
  s: SparseMatrix,
  rows: Int32Array,
  dense: Float32Array,
  K: number,
  out: Float32Array,
  keep: Uint8Array | null,
  scale: number,
): void {
  const { rowPtr, colIdx, values } = s;
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    const start = rowPtr[r];
    const end = rowPtr[r + 1];
    const o = r * K;
    let h = 0;
    for (; h + 4 <= K; h += 4) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let p = start; p < end; p++) {
        if (keep !== null && keep[p] === 0) continue;
        const v = values[p];
        const w = colIdx[p] * K + h;
        a0 += v * dense[w];
        a1 += v * dense[w + 1];
        a2 += v * dense[w + 2];
        a3 += v * dense[w + 3];
      }
      out[o + h] = a0 * scale;
      out[o + h + 1] = a1 * scale;
      out[o + h + 2] = a2 * scale;
      out[o + h + 3] = a3 * scale;
    }
    for (; h < K; h++) {
      let a = 0;
      for (let p = start; p < end; p++) {
        if (keep !== null && keep[p] === 0) continue;
        a += values[p] * dense[colIdx[p] * K + h];
      }
      out[o + h] = a * scale;
    }
  }
}

/** out += scale · S^T · G, reading only the listed rows of S and G (others count as zero). */
export function addSparseTransposeTimesDense(
  s: SparseMatrix,
  rows: Int32Array,
  g: Float32Array,
  K: number,
  out: Float32Array,
  keep: Uint8Array | null,
  scale: number,
): void {
  const { rowPtr, colIdx, values } = s;
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    const start = rowPtr[r];
    const end = rowPtr[r + 1];
    const o = r * K;
    let h = 0;
    for (; h + 4 <= K; h += 4) {
      const g0 = g[o + h] * scale;
      const g1 = g[o + h + 1] * scale;
      const g2 = g[o + h + 2] * scale;
      const g3 = g[o + h + 3] * scale;
      if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0) continue; // ReLU and dropout zero many rows
      for (let p = start; p < end; p++) {
        if (keep !== null && keep[p] === 0) continue;
        const v = values[p];
        const w = colIdx[p] * K + h;
        out[w] += v * g0;
        out[w + 1] += v * g1;
        out[w + 2] += v * g2;
        out[w + 3] += v * g3;
      }
    }
    for (; h < K; h++) {
      const gh = g[o + h] * scale;
      if (gh === 0) continue;
      for (let p = start; p < end; p++) {
        if (keep !== null && keep[p] === 0) continue;
        out[colIdx[p] * K + h] += values[p] * gh;
      }
    }
  }
}
