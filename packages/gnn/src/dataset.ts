/**
 * The node-classification dataset file (test/fixtures/README.md): `{name, numNodes,
 * numFeatures, numClasses, features: [[indices of the node's features equal to 1], …],
 * labels: [class, -1 = none], edges: [[u, v], …] (undirected, u < v), train, val, test}`,
 * plus optional `edgeWeights`. Validation walks the document like a JSON Schema would, then
 * checks what a schema cannot (indices in range, splits disjoint and labelled), and the
 * first error names the field: `edges[12]: u 7 is not less than v 3`.
 *
 * `features`/`numFeatures` may be left out (the karate-club file): the model then gets the
 * featureless input X = I, as in Kipf & Welling's karate-club experiment. `train`, `val`,
 * `test` may be left out too; `stratifiedSplit` makes one.
 */
import { readFile } from 'node:fs/promises';
import { StreamForgeError } from '@streamforge/core/errors';
import type { Edge } from './graph.ts';

export interface NodeClassificationDataset {
  name: string;
  numNodes: number;
  /** Columns of X: `numFeatures` of the file, or `numNodes` for a featureless dataset (X = I). */
  numFeatures: number;
  numClasses: number;
  /** Per node, the sorted indices of its features equal to 1; null when featureless. */
  features: readonly (readonly number[])[] | null;
  labels: Int32Array;
  edges: readonly Edge[];
  edgeWeights: Float64Array | null;
  split: DatasetSplit | null;
}

export interface DatasetSplit {
  train: Int32Array;
  val: Int32Array;
  test: Int32Array;
}

function invalid(field: string, reason: string): StreamForgeError {
  return new StreamForgeError('SF_CONTRACT_INVALID', `${field}: ${reason}`, { details: { field } });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function integer(value: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in [${min}, ${max}]`;
    throw invalid(field, `must be an integer ${range}, got ${describe(value)}`);
  }
  return value;
}

function array(value: unknown, field: string, length?: number): unknown[] {
  if (!Array.isArray(value)) throw invalid(field, `must be an array, got ${describe(value)}`);
  if (length !== undefined && value.length !== length)
    throw invalid(field, `must have ${length} entries, got ${value.length}`);
  return value;
}

/** Checks a parsed dataset document and returns it in typed form; throws SF_CONTRACT_INVALID naming the field. */
export function validateDataset(doc: unknown): NodeClassificationDataset {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw invalid('(root)', `must be an object, got ${describe(doc)}`);
  const d = doc as Record<string, unknown>;
  if (typeof d.name !== 'string' || d.name === '')
    throw invalid('name', `must be a non-empty string, got ${describe(d.name)}`);
  const numNodes = integer(d.numNodes, 'numNodes', 1);
  const numClasses = integer(d.numClasses, 'numClasses', 2);

  let features: number[][] | null = null;
  let numFeatures = numNodes;
  if (d.features !== undefined || d.numFeatures !== undefined) {
    numFeatures = integer(d.numFeatures, 'numFeatures', 1);
    features = array(d.features, 'features', numNodes) as number[][];
    features.forEach((row, i) => {
      array(row, `features[${i}]`);
      let previous = -1;
      row.forEach((f, k) => {
        integer(f, `features[${i}][${k}]`, 0, numFeatures - 1);
        if (f <= previous)
          throw invalid(
            `features[${i}][${k}]`,
            `feature indices must be strictly increasing, ${f} follows ${previous}`,
          );
        previous = f;
      });
    });
  }

  const labelList = array(d.labels, 'labels', numNodes);
  const labels = new Int32Array(numNodes);
  labelList.forEach((label, i) => {
    labels[i] = integer(label, `labels[${i}]`, -1, numClasses - 1);
  });

  const edgeList = array(d.edges, 'edges');
  const seen = new Set<number>();
  const edges: Edge[] = edgeList.map((edge, k) => {
    const pair = array(edge, `edges[${k}]`, 2);
    const u = integer(pair[0], `edges[${k}][0]`, 0, numNodes - 1);
    const v = integer(pair[1], `edges[${k}][1]`, 0, numNodes - 1);
    if (u >= v)
      throw invalid(
        `edges[${k}]`,
        `u ${u} is not less than v ${v} (each undirected edge is listed once as [u, v], u < v)`,
      );
    const key = u * numNodes + v;
    if (seen.has(key)) throw invalid(`edges[${k}]`, `duplicate edge [${u}, ${v}]`);
    seen.add(key);
    return [u, v] as const;
  });

  let edgeWeights: Float64Array | null = null;
  if (d.edgeWeights !== undefined) {
    const list = array(d.edgeWeights, 'edgeWeights', edges.length);
    edgeWeights = new Float64Array(list.length);
    list.forEach((w, k) => {
      if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0)
        throw invalid(`edgeWeights[${k}]`, `must be a finite number > 0, got ${describe(w)}`);
      edgeWeights![k] = w;
    });
  }

  const split = validateSplit(d, numNodes, labels);
  return { name: d.name, numNodes, numFeatures, numClasses, features, labels, edges, edgeWeights, split };
}

function validateSplit(d: Record<string, unknown>, numNodes: number, labels: Int32Array): DatasetSplit | null {
  const names = ['train', 'val', 'test'] as const;
  const present = names.filter((name) => d[name] !== undefined);
  if (present.length === 0) return null;
  if (present.length !== names.length) {
    const missing = names.filter((name) => d[name] === undefined);
    throw invalid(
      missing[0],
      `missing while ${present.join(', ')} ${present.length === 1 ? 'is' : 'are'} given (give train, val and test together, or none)`,
    );
  }
  const owner = new Map<number, string>();
  const parts = names.map((name) => {
    const list = array(d[name], name);
    return Int32Array.from(list, (node, k) => {
      const i = integer(node, `${name}[${k}]`, 0, numNodes - 1);
      if (labels[i] === -1) throw invalid(`${name}[${k}]`, `node ${i} has no label (labels[${i}] is -1)`);
      const other = owner.get(i);
      if (other !== undefined) throw invalid(`${name}[${k}]`, `node ${i} is already in ${other}`);
      owner.set(i, name);
      return i;
    });
  });
  if (parts[0].length === 0) throw invalid('train', 'must list at least one node');
  return { train: parts[0], val: parts[1], test: parts[2] };
}

/** Reads and validates a dataset file; errors name the file and the field. */
export async function loadDataset(path: string | URL): Promise<NodeClassificationDataset> {
  const where = typeof path === 'string' ? path : path.pathname;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new StreamForgeError('SF_NOT_FOUND', `dataset ${where}: ${reason}`, {
      cause: error,
      details: { file: where },
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new StreamForgeError(
      'SF_CONTRACT_INVALID',
      `dataset ${where}: not valid JSON (${(error as Error).message})`,
      { cause: error, details: { file: where } },
    );
  }
  try {
    return validateDataset(doc);
  } catch (error) {
    if (!StreamForgeError.is(error)) throw error;
    throw new StreamForgeError(error.code, `dataset ${where}: ${error.message}`, {
      cause: error,
      details: { file: where, ...error.details },
    });
  }
}
