/**
 * The GCN propagation matrix Â = D^-1/2 (A + I) D^-1/2 (Kipf & Welling 2017, eq. 2, the
 * "renormalization trick"; tkipf/gcn `utils.preprocess_adj`), in CSR with every row's
 * columns sorted. Edges are undirected and may carry positive weights (the graph builder's
 * correlation strengths); self-loops get weight 1, as in the paper.
 */
import { StreamForgeError } from '@streamforge/core/errors';
import type { SparseMatrix } from './sparse.ts';

export type Edge = readonly [number, number];

export interface GraphInput {
  numNodes: number;
  /** Undirected edges, each listed once, no self-loops (Â adds them). */
  edges: readonly Edge[];
  /** One positive weight per edge; all 1 when absent. */
  weights?: ArrayLike<number>;
}

function invalid(field: string, reason: string): StreamForgeError {
  return new StreamForgeError('SF_CONTRACT_INVALID', `${field}: ${reason}`, { details: { field } });
}

/** Checks the edge list and weights, naming the first bad entry. */
export function checkGraphInput(input: GraphInput): void {
  const n = input.numNodes;
  if (!Number.isInteger(n) || n < 1) throw invalid('numNodes', `must be an integer ≥ 1, got ${n}`);
  if (input.weights !== undefined && input.weights.length !== input.edges.length) {
    throw invalid('weights', `expected one weight per edge (${input.edges.length}), got ${input.weights.length}`);
  }
  const seen = new Set<number>();
  for (let k = 0; k < input.edges.length; k++) {
    const edge = input.edges[k];
    if (!Array.isArray(edge) || edge.length !== 2) throw invalid(`edges[${k}]`, 'must be a pair [u, v]');
    const [u, v] = edge;
    for (const end of [u, v]) {
      if (!Number.isInteger(end) || end < 0 || end >= n)
        throw invalid(`edges[${k}]`, `node ${end} is not an integer in [0, ${n - 1}]`);
    }
    if (u === v) throw invalid(`edges[${k}]`, `self-loop on node ${u} (Â adds self-loops itself)`);
    const key = Math.min(u, v) * n + Math.max(u, v);
    if (seen.has(key)) throw invalid(`edges[${k}]`, `duplicate edge between ${u} and ${v}`);
    seen.add(key);
    if (input.weights !== undefined) {
      const w = input.weights[k];
      if (!(Number.isFinite(w) && w > 0)) throw invalid(`weights[${k}]`, `must be a finite number > 0, got ${w}`);
    }
  }
}

/** Â = D^-1/2 (A + I) D^-1/2 with D the weighted degree of A + I. */
export function normalizedAdjacency(input: GraphInput): SparseMatrix {
  checkGraphInput(input);
  const n = input.numNodes;
  const m = input.edges.length;
  const degree = new Float64Array(n).fill(1); // the self-loop
  const counts = new Int32Array(n).fill(1);
  for (let k = 0; k < m; k++) {
    const [u, v] = input.edges[k];
    const w = input.weights === undefined ? 1 : input.weights[k];
    degree[u] += w;
    degree[v] += w;
    counts[u]++;
    counts[v]++;
  }
  const rowPtr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) rowPtr[i + 1] = rowPtr[i] + counts[i];
  const colIdx = new Int32Array(rowPtr[n]);
  const values = new Float32Array(rowPtr[n]);
  const fill = rowPtr.slice(0, n);
  const invSqrt = new Float64Array(n);
  for (let i = 0; i < n; i++) invSqrt[i] = 1 / Math.sqrt(degree[i]);
  const put = (i: number, j: number, w: number): void => {
    const p = fill[i]++;
    colIdx[p] = j;
    values[p] = w * invSqrt[i] * invSqrt[j];
  };
  for (let i = 0; i < n; i++) put(i, i, 1);
  for (let k = 0; k < m; k++) {
    const [u, v] = input.edges[k];
    const w = input.weights === undefined ? 1 : input.weights[k];
    put(u, v, w);
    put(v, u, w);
  }
  sortRows({ rows: n, cols: n, rowPtr, colIdx, values });
  return { rows: n, cols: n, rowPtr, colIdx, values };
}

/** Sorts each row's entries by column (insertion sort: rows of a sparse graph are short). */
function sortRows(m: SparseMatrix): void {
  const { colIdx, values } = m;
  for (let i = 0; i < m.rows; i++) {
    const start = m.rowPtr[i];
    const end = m.rowPtr[i + 1];
    for (let p = start + 1; p < end; p++) {
      const c = colIdx[p];
      const v = values[p];
      let q = p - 1;
      while (q >= start && colIdx[q] > c) {
        colIdx[q + 1] = colIdx[q];
        values[q + 1] = values[q];
        q--;
      }
      colIdx[q + 1] = c;
      values[q + 1] = v;
    }
  }
}

/**
 * The rows a 2-layer GCN reads to produce `outputRows` (its receptive field), in
 * increasing order: `hidden` = the outputs and their neighbours, `input` = the hidden rows
 * and their neighbours. Training computes only these rows, since the loss sees only the
 * labelled nodes (on CiteSeer the 120 training nodes reach 1092 of 3327 rows).
 */
export interface ReceptiveField {
  output: Int32Array;
  hidden: Int32Array;
  input: Int32Array;
}

export function receptiveField(adjacency: SparseMatrix, outputRows: ArrayLike<number>): ReceptiveField {
  const output = Int32Array.from(outputRows);
  const hidden = neighbourhood(adjacency, output);
  const input = neighbourhood(adjacency, hidden);
  return { output, hidden, input };
}

/** Every row of `adjacency`, as a receptive field (full-graph evaluation). */
export function allRows(n: number): ReceptiveField {
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  return { output: rows, hidden: rows, input: rows };
}

function neighbourhood(adjacency: SparseMatrix, rows: Int32Array): Int32Array {
  const mark = new Uint8Array(adjacency.rows);
  for (const i of rows) {
    mark[i] = 1;
    for (let p = adjacency.rowPtr[i]; p < adjacency.rowPtr[i + 1]; p++) mark[adjacency.colIdx[p]] = 1;
  }
  const out: number[] = [];
  for (let i = 0; i < mark.length; i++) if (mark[i] === 1) out.push(i);
  return Int32Array.from(out);
}

/** Â as an edge list (dst = row, src = column, self-loops included): the ONNX model's input. */
export function toEdgeList(adjacency: SparseMatrix): { src: Int32Array; dst: Int32Array; weights: Float32Array } {
  const e = adjacency.rowPtr[adjacency.rows];
  const dst = new Int32Array(e);
  for (let i = 0; i < adjacency.rows; i++) dst.fill(i, adjacency.rowPtr[i], adjacency.rowPtr[i + 1]);
  return { src: adjacency.colIdx.slice(), dst, weights: adjacency.values.slice() };
}
