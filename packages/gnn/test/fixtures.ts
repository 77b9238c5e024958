/**
 * Data for the GNN tests: the fixture datasets (test/fixtures/gnn, located from this file
 * so no machine path is written down) and small random graphs of known shape.
 */
import { loadDataset } from '../src/dataset.ts';
import type { Edge } from '../src/graph.ts';
import type { PlantedPartitionOptions } from '../src/planted-partition.ts';
import { createRng } from '../src/random.ts';
import { createTask, taskFromDataset, type GcnTask } from '../src/task.ts';

/**
 * Four planted communities of 50 nodes with weak, noisy features: a GCN learns them from the
 * edges (the tests ask 95% test accuracy), a model without edges cannot. bench/gnn.ts trains on it too.
 */
export const FOUR_COMMUNITIES: Omit<PlantedPartitionOptions, 'seed'> = {
  communities: 4,
  nodesPerCommunity: 50,
  pIn: 0.2,
  pOut: 0.01,
  numFeatures: 8,
  signal: 1,
  trainPerClass: 5,
  valPerClass: 10,
};

export function fixtureUrl(name: 'citeseer-planetoid.json' | 'karate-club.json'): URL {
  return new URL(`../../../test/fixtures/gnn/${name}`, import.meta.url);
}

let citeseer: Promise<GcnTask> | undefined;

/** CiteSeer with the standard Planetoid split, row-normalised features (loaded once per file). */
export function citeseerTask(): Promise<GcnTask> {
  citeseer ??= loadDataset(fixtureUrl('citeseer-planetoid.json')).then((d) => taskFromDataset(d));
  return citeseer;
}

export async function karateTask(): Promise<GcnTask> {
  return taskFromDataset(await loadDataset(fixtureUrl('karate-club.json')), { splitSeed: 1 });
}

/**
 * A small random graph with weighted edges, sparse-ish real features (about half the
 * entries zero, so the CSR path skips some) and every node labelled.
 */
export function randomTask(options: {
  nodes: number;
  features: number;
  classes: number;
  edges: number;
  seed: number;
}): GcnTask {
  const rng = createRng(options.seed);
  const { nodes: n, features: F, classes: C } = options;
  const seen = new Set<number>();
  const edges: Edge[] = [];
  const weights: number[] = [];
  while (edges.length < options.edges) {
    const u = rng.nextInt(n);
    const v = rng.nextInt(n);
    if (u === v || seen.has(Math.min(u, v) * n + Math.max(u, v))) continue;
    seen.add(Math.min(u, v) * n + Math.max(u, v));
    edges.push([Math.min(u, v), Math.max(u, v)]);
    weights.push(0.2 + rng.next());
  }
  const features = Array.from({ length: n * F }, () => (rng.next() < 0.5 ? 0 : rng.next() * 2 - 0.5));
  const labels = Array.from({ length: n }, () => rng.nextInt(C));
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const third = Math.floor(n / 3);
  return createTask({
    name: 'random',
    numNodes: n,
    edges,
    edgeWeights: weights,
    features,
    numFeatures: F,
    labels,
    numClasses: C,
    split: {
      train: Int32Array.from(order.slice(0, third)).sort(),
      val: Int32Array.from(order.slice(third, 2 * third)).sort(),
      test: Int32Array.from(order.slice(2 * third)).sort(),
    },
  });
}
