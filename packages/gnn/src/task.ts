/**
 * A node-classification task: everything training and inference read, with the graph and
 * features already in the form the GCN consumes (Â in CSR, X prepared as the model
 * expects). Built from a dataset file or from code (the graph builder's symbols with
 * real-valued features and weighted edges).
 */
import { StreamForgeError } from '@streamforge/core/errors';
import type { DatasetSplit, NodeClassificationDataset } from './dataset.ts';
import { normalizedAdjacency, type Edge } from './graph.ts';
import { defaultSplit } from './split.ts';
import { csrFromDense, csrFromIndexRows, identityCsr, rowNormalize, type SparseMatrix } from './sparse.ts';

/**
 * How raw features become X: `row` divides each row by its sum (Kipf & Welling, for
 * bag-of-words); `none` takes them as they are (signed real-valued features, which the
 * caller standardises). A model records it, so inference prepares features the same way.
 */
export const FEATURE_NORMALIZATIONS = ['row', 'none'] as const;
export type FeatureNormalization = (typeof FEATURE_NORMALIZATIONS)[number];

export interface GcnTask {
  name: string;
  /** Â = D^-1/2 (A + I) D^-1/2. */
  adjacency: SparseMatrix;
  /** X after `featureNormalization`. */
  features: SparseMatrix;
  featureNormalization: FeatureNormalization;
  labels: Int32Array;
  numClasses: number;
  split: DatasetSplit;
  /** Whether the split came from the dataset or was drawn by `defaultSplit`. */
  splitSource: 'given' | 'stratified';
}

export function prepareFeatures(raw: SparseMatrix, normalization: FeatureNormalization): SparseMatrix {
  return normalization === 'row' ? rowNormalize(raw) : raw;
}

export interface TaskFromDatasetOptions {
  /** Seed of the stratified split drawn when the dataset has none. */
  splitSeed?: number;
  featureNormalization?: FeatureNormalization;
}

export function taskFromDataset(dataset: NodeClassificationDataset, options: TaskFromDatasetOptions = {}): GcnTask {
  const raw =
    dataset.features === null ? identityCsr(dataset.numNodes) : csrFromIndexRows(dataset.features, dataset.numFeatures);
  const normalization = options.featureNormalization ?? 'row';
  return {
    name: dataset.name,
    adjacency: normalizedAdjacency({
      numNodes: dataset.numNodes,
      edges: dataset.edges,
      weights: dataset.edgeWeights ?? undefined,
    }),
    features: prepareFeatures(raw, normalization),
    featureNormalization: normalization,
    labels: dataset.labels,
    numClasses: dataset.numClasses,
    split: dataset.split ?? defaultSplit(dataset.labels, dataset.numClasses, options.splitSeed ?? 0),
    splitSource: dataset.split === null ? 'stratified' : 'given',
  };
}

export interface TaskInput {
  name?: string;
  numNodes: number;
  edges: readonly Edge[];
  edgeWeights?: ArrayLike<number>;
  /** Dense row-major `numNodes × numFeatures` values (flat or one array per node), or a CSR matrix. */
  features: ArrayLike<number> | readonly (readonly number[])[] | SparseMatrix;
  numFeatures: number;
  labels: ArrayLike<number>;
  numClasses: number;
  split: DatasetSplit;
  /** Defaults to `none`: code-built features are real-valued. */
  featureNormalization?: FeatureNormalization;
}

/** A task from code, e.g. a correlation graph of symbols with return statistics as features. */
export function createTask(input: TaskInput): GcnTask {
  const raw = isSparse(input.features)
    ? input.features
    : csrFromDense(input.features, input.numNodes, input.numFeatures);
  if (raw.rows !== input.numNodes || raw.cols !== input.numFeatures) {
    throw new StreamForgeError(
      'SF_CONTRACT_INVALID',
      `features: expected ${input.numNodes} × ${input.numFeatures}, got ${raw.rows} × ${raw.cols}`,
      { details: { field: 'features' } },
    );
  }
  if (input.labels.length !== input.numNodes) {
    throw new StreamForgeError(
      'SF_CONTRACT_INVALID',
      `labels: expected ${input.numNodes} entries, got ${input.labels.length}`,
      { details: { field: 'labels' } },
    );
  }
  const labels = Int32Array.from(input.labels);
  labels.forEach((label, i) => {
    if (!Number.isInteger(label) || label < -1 || label >= input.numClasses) {
      throw new StreamForgeError(
        'SF_CONTRACT_INVALID',
        `labels[${i}]: must be -1 or a class in [0, ${input.numClasses - 1}], got ${input.labels[i]}`,
        { details: { field: `labels[${i}]` } },
      );
    }
  });
  for (const [name, rows] of Object.entries(input.split)) {
    rows.forEach((node: number, k: number) => {
      if (node < 0 || node >= input.numNodes || labels[node] === -1) {
        throw new StreamForgeError('SF_CONTRACT_INVALID', `split.${name}[${k}]: node ${node} is not a labelled node`, {
          details: { field: `split.${name}[${k}]` },
        });
      }
    });
  }
  const normalization = input.featureNormalization ?? 'none';
  return {
    name: input.name ?? 'graph',
    adjacency: normalizedAdjacency({ numNodes: input.numNodes, edges: input.edges, weights: input.edgeWeights }),
    features: prepareFeatures(raw, normalization),
    featureNormalization: normalization,
    labels,
    numClasses: input.numClasses,
    split: input.split,
    splitSource: 'given',
  };
}

function isSparse(value: TaskInput['features']): value is SparseMatrix {
  return typeof value === 'object' && value !== null && 'rowPtr' in value && 'colIdx' in value;
}
