import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamForgeError } from '@streamforge/core/errors';
import { plantedPartition } from '../src/planted-partition.ts';
import { identityCsr } from '../src/sparse.ts';
import { predictLogits, shouldStop, trainGcn, type EpochStats } from '../src/train.ts';
import { argmaxRows } from '../src/loss.ts';
import { defaultSplit } from '../src/split.ts';
import { citeseerTask, FOUR_COMMUNITIES, karateTask, randomTask } from './fixtures.ts';

const PUBLISHED_CITESEER = 0.703; // Kipf & Welling 2017, Table 2 (mean of 100 runs)

test('a GCN learns a planted partition with weak, noisy features to at least 95% test accuracy', () => {
  for (const seed of [1, 2, 3]) {
    const task = plantedPartition({ ...FOUR_COMMUNITIES, seed });
    const gcn = trainGcn(task, { seed });
    assert.ok(gcn.evaluation.test.accuracy >= 0.95, `seed ${seed}: GCN test accuracy ${gcn.evaluation.test.accuracy}`);
    // The same network without edges (Â = I, an MLP) sees only the weak features.
    const noGraph = trainGcn({ ...task, adjacency: identityCsr(task.adjacency.rows) }, { seed });
    assert.ok(
      noGraph.evaluation.test.accuracy < 0.6,
      `seed ${seed}: feature-only accuracy ${noGraph.evaluation.test.accuracy}`,
    );
  }
});

test('on CiteSeer with the paper settings the mean test accuracy over 5 seeds is within two points of the published 70.3%', async () => {
  const task = await citeseerTask();
  const accuracies: number[] = [];
  for (const seed of [1, 2, 3, 4, 5]) {
    const result = trainGcn(task, {
      epochs: 200,
      hidden: 16,
      dropout: 0.5,
      learningRate: 0.01,
      weightDecay: 5e-4,
      seed,
    });
    assert.equal(result.epochs, 200);
    accuracies.push(result.evaluation.test.accuracy);
  }
  const mean = accuracies.reduce((s, a) => s + a, 0) / accuracies.length;
  console.log(
    `CiteSeer test accuracy over seeds 1-5: ${accuracies.map((a) => (100 * a).toFixed(1)).join(', ')}; mean ${(100 * mean).toFixed(2)}%`,
  );
  assert.ok(Math.abs(mean - PUBLISHED_CITESEER) <= 0.02, `mean ${mean}`);
});

test('the karate club is split along the two factions', async () => {
  // Kipf & Welling's setting: featureless (X = I), only the instructor (0) and the administrator (33) labelled.
  const task = await karateTask();
  const twoLabels = {
    ...task,
    split: {
      train: Int32Array.of(0, 33),
      val: new Int32Array(0),
      test: Int32Array.from({ length: 32 }, (_, i) => i + 1),
    },
  };
  for (const seed of [1, 2, 3]) {
    const result = trainGcn(twoLabels, { seed, epochs: 100 });
    const predicted = argmaxRows(predictLogits(result.model, task.adjacency, task.features), 2);
    assert.deepEqual([predicted[0], predicted[33]], [task.labels[0], task.labels[33]]);
    assert.ok(result.evaluation.test.accuracy >= 0.9, `seed ${seed}: test accuracy ${result.evaluation.test.accuracy}`);
  }
  // With 3 + 3 random training nodes (the default split) it stays well above chance on every split.
  const accuracies = [0, 1, 2, 3].map(
    (splitSeed) =>
      trainGcn({ ...task, split: defaultSplit(task.labels, 2, splitSeed) }, { seed: 1 }).evaluation.test.accuracy,
  );
  assert.ok(
    Math.min(...accuracies) >= 0.75 && accuracies.reduce((s, a) => s + a) / 4 >= 0.85,
    `accuracies ${accuracies}`,
  );
});

test('one seed gives bit-identical weights and telemetry, another seed a different model', () => {
  const task = randomTask({ nodes: 60, features: 10, classes: 3, edges: 120, seed: 9 });
  const run = (seed: number) => {
    const stats: EpochStats[] = [];
    const result = trainGcn(task, { seed, epochs: 30, onEpoch: (s) => stats.push({ ...s, seconds: 0 }) });
    return { result, stats };
  };
  const a = run(4);
  const b = run(4);
  const c = run(5);
  assert.deepEqual(a.result.model.w1, b.result.model.w1);
  assert.deepEqual(a.result.model.w2, b.result.model.w2);
  assert.deepEqual(a.stats, b.stats);
  assert.deepEqual(a.result.evaluation, b.result.evaluation);
  assert.notDeepEqual(a.result.model.w1, c.result.model.w1);
});

test('the epoch callback reports every epoch with loss and train/val accuracy, and the loss falls', () => {
  const task = plantedPartition({
    communities: 3,
    nodesPerCommunity: 30,
    pIn: 0.3,
    pOut: 0.02,
    numFeatures: 6,
    signal: 1,
    trainPerClass: 5,
    valPerClass: 5,
    seed: 2,
  });
  const stats: EpochStats[] = [];
  const result = trainGcn(task, { seed: 2, epochs: 50, onEpoch: (s) => stats.push(s) });
  assert.deepEqual(
    stats.map((s) => s.epoch),
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  for (const s of stats) {
    assert.ok(
      Number.isFinite(s.loss) &&
        s.trainAccuracy >= 0 &&
        s.trainAccuracy <= 1 &&
        s.valAccuracy >= 0 &&
        s.valAccuracy <= 1,
    );
  }
  assert.ok(stats[49].loss < stats[0].loss);
  assert.ok(stats[49].seconds >= stats[0].seconds);
  assert.deepEqual(result.model.training, {
    dataset: task.name,
    learningRate: 0.01,
    weightDecay: 5e-4,
    epochs: 50,
    seed: 2,
    earlyStopping: null,
  });
});

test("early stopping follows tkipf/gcn's window rule", () => {
  const window = 3;
  assert.equal(shouldStop([5, 4, 3, 2], window), false); // needs window + 2 losses
  assert.equal(shouldStop([5, 4, 3, 2, 1], window), false); // still falling
  assert.equal(shouldStop([5, 1, 1, 1, 1.1], window), true); // above the mean of the previous 3
  assert.equal(shouldStop([5, 1, 2, 3, 1.9], window), false); // below the mean of 1, 2, 3
});

test('training with early stopping ends before the epoch budget once validation loss rises', async () => {
  const task = await karateTask();
  const stats: EpochStats[] = [];
  const result = trainGcn(task, { seed: 1, epochs: 1000, earlyStopping: 10, onEpoch: (s) => stats.push(s) });
  assert.ok(result.stoppedEarly && result.epochs < 1000, `ran ${result.epochs} epochs`);
  assert.equal(stats.length, result.epochs);
  const losses = stats.map((s) => s.valLoss);
  assert.ok(shouldStop(losses, 10) && !shouldStop(losses.slice(0, -1), 10));
});

test('bad training options are refused naming the option', () => {
  const task = randomTask({ nodes: 10, features: 3, classes: 2, edges: 10, seed: 1 });
  const refuses = (options: Parameters<typeof trainGcn>[1], message: RegExp) =>
    assert.throws(
      () => trainGcn(task, options),
      (e: unknown) => StreamForgeError.is(e) && message.test(e.message),
    );
  refuses({ epochs: 0 }, /^epochs: must be an integer ≥ 1, got 0/);
  refuses({ hidden: 1.5 }, /^hidden: must be an integer ≥ 1, got 1.5/);
  refuses({ learningRate: -1 }, /^learningRate: must be a number > 0, got -1/);
  refuses({ weightDecay: Number.NaN }, /^weightDecay: must be a number ≥ 0, got NaN/);
  refuses({ dropout: 1 }, /^dropout: must be in \[0, 1\), got 1/);
  refuses({ seed: -3 }, /^seed: must be an integer in \[0, 4294967295\], got -3/);
  refuses({ earlyStopping: 0 }, /^earlyStopping: must be an integer ≥ 1, got 0/);
  assert.throws(
    () => trainGcn({ ...task, split: { ...task.split, val: new Int32Array(0) } }, { earlyStopping: 5 }),
    /earlyStopping: needs validation nodes/,
  );
});
