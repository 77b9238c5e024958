import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csrFromDense, toDense } from '../src/sparse.ts';
import { createTask, taskFromDataset } from '../src/task.ts';
import { validateDataset } from '../src/dataset.ts';

const split = { train: Int32Array.of(0), val: Int32Array.of(1), test: Int32Array.of(2) };

test('a task from code takes dense real-valued features as they are, with weighted edges', () => {
  const task = createTask({
    numNodes: 3,
    edges: [
      [0, 1],
      [1, 2],
    ],
    edgeWeights: [0.8, 0.4],
    features: [
      [-0.01, 0.2],
      [0.03, 0.1],
      [0, 0.5],
    ],
    numFeatures: 2,
    labels: [0, 1, 1],
    numClasses: 2,
    split,
  });
  assert.equal(task.featureNormalization, 'none');
  assert.deepEqual(Array.from(toDense(task.features)), Array.from(Float32Array.from([-0.01, 0.2, 0.03, 0.1, 0, 0.5])));
  assert.equal(task.adjacency.rowPtr[3], 3 + 4);
});

test('a task from code accepts a CSR feature matrix and row normalisation on request', () => {
  const task = createTask({
    numNodes: 2,
    edges: [[0, 1]],
    features: csrFromDense([1, 3, 0, 2], 2, 2),
    numFeatures: 2,
    labels: [0, 1],
    numClasses: 2,
    split: { train: Int32Array.of(0), val: Int32Array.of(1), test: new Int32Array(0) },
    featureNormalization: 'row',
  });
  assert.deepEqual(Array.from(toDense(task.features)), [0.25, 0.75, 0, 1]);
});

test('a task from code refuses labels and splits that do not fit, naming the field', () => {
  const base = {
    numNodes: 3,
    edges: [[0, 1]] as [number, number][],
    features: [1, 2, 3],
    numFeatures: 1,
    labels: [0, 1, -1],
    numClasses: 2,
    split,
  };
  assert.throws(() => createTask({ ...base, labels: [0, 1] }), /labels: expected 3 entries, got 2/);
  assert.throws(
    () => createTask({ ...base, labels: [0, 2, 1] }),
    /labels\[1\]: must be -1 or a class in \[0, 1\], got 2/,
  );
  assert.throws(() => createTask(base), /split.test\[0\]: node 2 is not a labelled node/);
  assert.throws(
    () => createTask({ ...base, labels: [0, 1, 1], features: [1, 2] }),
    /features: expected 3 × 1 = 3 values, got 2/,
  );
});

test('a dataset without features becomes X = I and one without a split gets a stratified one', () => {
  const dataset = validateDataset({
    name: 'pair',
    numNodes: 10,
    numClasses: 2,
    labels: [0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
    edges: [
      [0, 1],
      [5, 6],
    ],
  });
  const task = taskFromDataset(dataset, { splitSeed: 2 });
  assert.equal(task.features.cols, 10);
  assert.equal(task.splitSource, 'stratified');
  assert.deepEqual([task.split.train.length, task.split.val.length, task.split.test.length], [2, 2, 6]);
});
