/**
 * Train/validation/test splits for datasets that do not ship one (the karate club, graphs
 * the graph builder makes). Planetoid-style (Yang et al. 2016): a fixed number of labelled
 * nodes per class for training, so rare classes are not left out; the rest of the
 * labelled nodes go to validation and test.
 */
import { StreamForgeError } from '@streamforge/core/errors';
import type { DatasetSplit } from './dataset.ts';
import { createRng } from './random.ts';

export interface StratifiedSplitOptions {
  trainPerClass: number;
  valPerClass: number;
  seed: number;
}

/** Per class, `trainPerClass` random nodes train, `valPerClass` validate, the rest test. */
export function stratifiedSplit(labels: Int32Array, numClasses: number, options: StratifiedSplitOptions): DatasetSplit {
  const rng = createRng(options.seed);
  const train: number[] = [];
  const val: number[] = [];
  const test: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    const members: number[] = [];
    labels.forEach((label, i) => {
      if (label === c) members.push(i);
    });
    if (members.length < options.trainPerClass + options.valPerClass) {
      throw new StreamForgeError(
        'SF_CONTRACT_INVALID',
        `labels: class ${c} has ${members.length} labelled nodes, fewer than ${options.trainPerClass} train + ${options.valPerClass} val`,
        { details: { field: 'labels' } },
      );
    }
    rng.shuffle(members);
    train.push(...members.slice(0, options.trainPerClass));
    val.push(...members.slice(options.trainPerClass, options.trainPerClass + options.valPerClass));
    test.push(...members.slice(options.trainPerClass + options.valPerClass));
  }
  const sorted = (xs: number[]): Int32Array => Int32Array.from(xs).sort();
  return { train: sorted(train), val: sorted(val), test: sorted(test) };
}

/**
 * The split used when a dataset has none: 20 per class for training and validation as in
 * Planetoid, shrunk to a fifth of the smallest class each on small graphs (the karate
 * club's 17-node classes give 3 + 3, leaving 22 test nodes).
 */
export function defaultSplit(labels: Int32Array, numClasses: number, seed: number): DatasetSplit {
  const sizes = new Array<number>(numClasses).fill(0);
  for (const label of labels) if (label >= 0) sizes[label]++;
  const smallest = Math.min(...sizes);
  const perClass = Math.max(1, Math.min(20, Math.floor(smallest / 5)));
  return stratifiedSplit(labels, numClasses, { trainPerClass: perClass, valPerClass: perClass, seed });
}
