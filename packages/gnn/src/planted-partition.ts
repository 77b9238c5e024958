/**
 * Planted-partition graphs (stochastic block model): `communities` groups, an edge inside
 * a group with probability pIn and across groups with pOut ≪ pIn, real-valued node
 * features that carry only a weak, noisy hint of the group. A feature-only classifier
 * does poorly on them; a GCN, which averages features over the neighbourhood, recovers
 * the groups. Used by tests and benchmarks as a graph of known answer, shaped like the
 * graph builder's output (dense real features, weighted edges, N in the hundreds).
 */
import type { Edge } from './graph.ts';
import { createRng, type Rng } from './random.ts';
import { stratifiedSplit } from './split.ts';
import { createTask, type GcnTask } from './task.ts';

export interface PlantedPartitionOptions {
  communities: number;
  nodesPerCommunity: number;
  pIn: number;
  pOut: number;
  numFeatures: number;
  /** Shift of a node's own community's feature dimension, in units of the noise's standard deviation. */
  signal: number;
  trainPerClass: number;
  valPerClass: number;
  seed: number;
}

function gaussian(rng: Rng): number {
  // Box–Muller; 1 − u keeps the logarithm's argument in (0, 1].
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

export function plantedPartition(options: PlantedPartitionOptions): GcnTask {
  const rng = createRng(options.seed);
  const n = options.communities * options.nodesPerCommunity;
  const F = options.numFeatures;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = Math.floor(i / options.nodesPerCommunity);

  const edges: Edge[] = [];
  const weights: number[] = [];
  for (let u = 0; u < n; u++) {
    for (let v = u + 1; v < n; v++) {
      if (rng.next() < (labels[u] === labels[v] ? options.pIn : options.pOut)) {
        edges.push([u, v]);
        weights.push(0.5 + rng.next()); // positive weights in [0.5, 1.5), like correlation strengths
      }
    }
  }

  const features = new Float32Array(n * F);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) features[i * F + f] = gaussian(rng);
    features[i * F + (labels[i] % F)] += options.signal;
  }

  const split = stratifiedSplit(labels, options.communities, {
    trainPerClass: options.trainPerClass,
    valPerClass: options.valPerClass,
    seed: options.seed,
  });
  return createTask({
    name: `planted-partition-${options.communities}x${options.nodesPerCommunity}`,
    numNodes: n,
    edges,
    edgeWeights: weights,
    features,
    numFeatures: F,
    labels,
    numClasses: options.communities,
    split,
  });
}
