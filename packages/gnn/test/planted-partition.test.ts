import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plantedPartition } from '../src/planted-partition.ts';

const options = {
  communities: 3,
  nodesPerCommunity: 40,
  pIn: 0.25,
  pOut: 0.01,
  numFeatures: 5,
  signal: 1,
  trainPerClass: 4,
  valPerClass: 6,
  seed: 8,
};

test('a planted partition has far more edges inside communities than across them', () => {
  const task = plantedPartition(options);
  const { rowPtr, colIdx } = task.adjacency;
  let inside = 0;
  let across = 0;
  for (let i = 0; i < 120; i++) {
    for (let p = rowPtr[i]; p < rowPtr[i + 1]; p++) {
      if (colIdx[p] === i) continue;
      if (task.labels[colIdx[p]] === task.labels[i]) inside++;
      else across++;
    }
  }
  assert.ok(inside > 10 * across, `${inside} inside, ${across} across`);
  assert.deepEqual([task.features.rows, task.features.cols, task.numClasses], [120, 5, 3]);
  assert.equal(task.featureNormalization, 'none');
  assert.deepEqual([task.split.train.length, task.split.val.length, task.split.test.length], [12, 18, 90]);
});

test('a planted partition is reproducible from its seed', () => {
  assert.deepEqual(plantedPartition(options), plantedPartition(options));
  assert.notDeepEqual(plantedPartition({ ...options, seed: 9 }).adjacency, plantedPartition(options).adjacency);
});
