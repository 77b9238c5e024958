/**
 * Graph windows as a GCN task. Several windows train one model as one graph of disjoint
 * components (one per window): the GCN propagates only along edges, so a window's vertices
 * never see another window's, and full-batch training over all of them is one `trainGcn`.
 *
 * Features are standardised per feature with the mean and standard deviation of the
 * training vertices only (later windows' statistics would leak the future into training); the
 * model's metadata keeps them, so inference prepares features exactly the same way.
 * Without edges (`noGraph`) Â = I and the same two-layer network is an MLP on each vertex's
 * own features: the no-graph baseline.
 */
import { createTask, type Edge, type GcnTask } from '@streamforge/gnn';
import type { GraphWindow } from '@streamforge/core/store';

export interface Standardization {
  mean: number[];
  std: number[];
}

export interface UnionNode {
  window: number;
  symbol: string;
  features: number[];
  /** The label's class, −1 when the vertex has none. */
  label: number;
}

export interface GraphUnion {
  nodes: UnionNode[];
  edges: Edge[];
  weights: number[];
  /** Index of each window's first node in `nodes`. */
  offsets: Map<number, number>;
}

/** The windows' vertices and edges as one graph (node ids run window after window). */
export function unionOf(windows: readonly GraphWindow[]): GraphUnion {
  const nodes: UnionNode[] = [];
  const edges: Edge[] = [];
  const weights: number[] = [];
  const offsets = new Map<number, number>();
  for (const w of windows) {
    offsets.set(w.window, nodes.length);
    const index = new Map<string, number>();
    for (const v of w.vertices) {
      index.set(v.symbol, nodes.length);
      nodes.push({ window: w.window, symbol: v.symbol, features: v.features, label: v.label?.class ?? -1 });
    }
    for (const e of w.edges) {
      edges.push([index.get(e.from)!, index.get(e.to)!]);
      weights.push(e.weight);
    }
  }
  return { nodes, edges, weights, offsets };
}

/** Mean and population standard deviation of each column; a constant column gets std 1. */
export function standardizationOf(rows: readonly (readonly number[])[], width: number): Standardization {
  const mean = new Array<number>(width).fill(0);
  const std = new Array<number>(width).fill(0);
  if (rows.length === 0) return { mean, std: std.map(() => 1) };
  for (const row of rows) for (let j = 0; j < width; j++) mean[j]! += row[j]! / rows.length;
  for (const row of rows) for (let j = 0; j < width; j++) std[j]! += (row[j]! - mean[j]!) ** 2 / rows.length;
  return { mean, std: std.map((v) => (Math.sqrt(v) > 1e-12 ? Math.sqrt(v) : 1)) };
}

/** Row-major features of `rows`, standardised (no standardisation: as they are). */
export function standardized(
  rows: readonly (readonly number[])[],
  width: number,
  s: Standardization | null,
): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((row, i) => {
    for (let j = 0; j < width; j++) out[i * width + j] = s === null ? row[j]! : (row[j]! - s.mean[j]!) / s.std[j]!;
  });
  return out;
}

export interface UnionTaskOptions {
  name: string;
  numFeatures: number;
  standardization: Standardization;
  train: readonly number[];
  test?: readonly number[];
  /** Drop every edge: the no-graph baseline. */
  noGraph?: boolean;
}

/** The GCN task of a union graph: binary next-window direction (0 down or flat, 1 up). */
export function unionTask(union: GraphUnion, options: UnionTaskOptions): GcnTask {
  return createTask({
    name: options.name,
    numNodes: union.nodes.length,
    edges: options.noGraph ? [] : union.edges,
    ...(options.noGraph ? {} : { edgeWeights: union.weights }),
    features: standardized(
      union.nodes.map((n) => n.features),
      options.numFeatures,
      options.standardization,
    ),
    numFeatures: options.numFeatures,
    labels: union.nodes.map((n) => n.label),
    numClasses: 2,
    split: { train: Int32Array.from(options.train), val: new Int32Array(0), test: Int32Array.from(options.test ?? []) },
  });
}
