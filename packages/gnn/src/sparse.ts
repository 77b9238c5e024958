/**
 * Compressed sparse row (CSR) matrices: the normalised adjacency Â and the feature matrix X
 * both live in this form. CiteSeer's X is 3327 × 3703 with 105,165 nonzeros (0.85 %), so
 * X·W1 and its gradient run over nonzeros only; dense features from the graph builder
 * (N ≈ 10–500 symbols, a handful of real-valued features) simply have every entry stored.
 */
import { StreamForgeError } from '@streamforge/core/errors';

export interface SparseMatrix {
  readonly rows: number;
  readonly cols: number;
  /** Row i's entries are at rowPtr[i] .. rowPtr[i+1]-1 of colIdx and values. */
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  readonly values: Float32Array;
}

export function nnz(m: SparseMatrix): number {
  return m.rowPtr[m.rows];
}

/**
 * A binary matrix from the column indices of the ones in each row (the dataset's
 * `features` form). Indices are taken as given: `validateDataset` checks them.
 */
export function csrFromIndexRows(indexRows: readonly (readonly number[])[], cols: number): SparseMatrix {
  const rows = indexRows.length;
  const rowPtr = new Int32Array(rows + 1);
  for (let i = 0; i < rows; i++) rowPtr[i + 1] = rowPtr[i] + indexRows[i].length;
  const colIdx = new Int32Array(rowPtr[rows]);
  const values = new Float32Array(colIdx.length).fill(1);
  for (let i = 0; i < rows; i++) colIdx.set(indexRows[i], rowPtr[i]);
  return { rows, cols, rowPtr, colIdx, values };
}

/**
 * A matrix from dense row-major values (`rows × cols`), keeping nonzero entries only.
 * Accepts a flat array or one array per row.
 */
export function csrFromDense(
  data: ArrayLike<number> | readonly (readonly number[])[],
  rows: number,
  cols: number,
): SparseMatrix {
  const flat = isRowArray(data) ? flattenRows(data, rows, cols) : data;
  if (flat.length !== rows * cols) {
    throw new StreamForgeError(
      'SF_CONTRACT_INVALID',
      `features: expected ${rows} × ${cols} = ${rows * cols} values, got ${flat.length}`,
    );
  }
  const rowPtr = new Int32Array(rows + 1);
  const colList: number[] = [];
  const valueList: number[] = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = flat[i * cols + j];
      if (!Number.isFinite(v)) {
        throw new StreamForgeError('SF_CONTRACT_INVALID', `features[${i}][${j}]: must be a finite number, got ${v}`);
      }
      if (v !== 0) {
        colList.push(j);
        valueList.push(v);
      }
    }
    rowPtr[i + 1] = colList.length;
  }
  return { rows, cols, rowPtr, colIdx: Int32Array.from(colList), values: Float32Array.from(valueList) };
}

function isRowArray(data: ArrayLike<number> | readonly (readonly number[])[]): data is readonly (readonly number[])[] {
  return Array.isArray(data) && data.length > 0 && Array.isArray(data[0]);
}

function flattenRows(data: readonly (readonly number[])[], rows: number, cols: number): Float64Array {
  if (data.length !== rows)
    throw new StreamForgeError('SF_CONTRACT_INVALID', `features: expected ${rows} rows, got ${data.length}`);
  const flat = new Float64Array(rows * cols);
  data.forEach((row, i) => {
    if (row.length !== cols)
      throw new StreamForgeError('SF_CONTRACT_INVALID', `features[${i}]: expected ${cols} values, got ${row.length}`);
    flat.set(row, i * cols);
  });
  return flat;
}

/** The n × n identity: the featureless input X = I that Kipf & Welling use for the karate club. */
export function identityCsr(n: number): SparseMatrix {
  const rowPtr = new Int32Array(n + 1);
  for (let i = 0; i <= n; i++) rowPtr[i] = i;
  const colIdx = new Int32Array(n);
  for (let i = 0; i < n; i++) colIdx[i] = i;
  return { rows: n, cols: n, rowPtr, colIdx, values: new Float32Array(n).fill(1) };
}

/**
 * Divides each row by its sum, as tkipf/gcn `utils.preprocess_features` does for
 * bag-of-words features; an all-zero row stays zero (their `r_inv[isinf] = 0`). Meant for
 * nonnegative features: rows of signed real-valued features (log returns) are left to the
 * caller to standardise instead.
 */
export function rowNormalize(m: SparseMatrix): SparseMatrix {
  const values = new Float32Array(m.values.length);
  for (let i = 0; i < m.rows; i++) {
    const start = m.rowPtr[i];
    const end = m.rowPtr[i + 1];
    let sum = 0;
    for (let p = start; p < end; p++) sum += m.values[p];
    const scale = sum === 0 ? 0 : 1 / sum;
    for (let p = start; p < end; p++) values[p] = m.values[p] * scale;
  }
  return { rows: m.rows, cols: m.cols, rowPtr: m.rowPtr, colIdx: m.colIdx, values };
}

/** Row-major dense copy (`rows × cols`), e.g. the X input of the ONNX model. */
export function toDense(m: SparseMatrix): Float32Array {
  const out = new Float32Array(m.rows * m.cols);
  for (let i = 0; i < m.rows; i++) {
    const base = i * m.cols;
    for (let p = m.rowPtr[i]; p < m.rowPtr[i + 1]; p++) out[base + m.colIdx[p]] = m.values[p];
  }
  return out;
}
