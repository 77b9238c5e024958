import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportGcnToOnnx } from '../src/onnx-export.ts';
import { createOnnxSession, onnxFeeds, predictWithOnnx, runOnnx } from '../src/onnx-inference.ts';
import { plantedPartition } from '../src/planted-partition.ts';
import { softmaxRows } from '../src/loss.ts';
import { toDense } from '../src/sparse.ts';
import { predictLogits, trainGcn } from '../src/train.ts';
import type { GcnTask } from '../src/task.ts';
import { citeseerTask, randomTask } from './fixtures.ts';

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

async function compare(task: GcnTask, bias: boolean, epochs: number): Promise<number> {
  const { model } = trainGcn(task, { seed: 3, epochs, bias });
  const session = await createOnnxSession(exportGcnToOnnx(model));
  try {
    const tsLogits = predictLogits(model, task.adjacency, task.features);
    const onnxLogits = await predictWithOnnx(session, task.adjacency, task.features, 'logits');
    const onnxProbabilities = await predictWithOnnx(session, task.adjacency, task.features);
    const diff = Math.max(
      maxAbsDiff(onnxLogits, tsLogits),
      maxAbsDiff(onnxProbabilities, softmaxRows(tsLogits, task.numClasses)),
    );
    assert.ok(diff <= 1e-4, `max abs difference ${diff}`);
    return diff;
  } finally {
    await session.release();
  }
}

test('ONNX and the TypeScript forward pass agree to 1e-4 on a small weighted graph, with and without bias', async () => {
  const task = randomTask({ nodes: 30, features: 5, classes: 3, edges: 50, seed: 21 });
  await compare(task, false, 40);
  await compare(task, true, 40);
});

test('ONNX and the TypeScript forward pass agree to 1e-4 on CiteSeer', async () => {
  const diff = await compare(await citeseerTask(), false, 200);
  console.log(`CiteSeer ONNX vs TypeScript: max abs difference ${diff.toExponential(2)}`);
});

test('one ONNX model serves graphs of any size, fed dense features directly', async () => {
  const options = { communities: 3, pIn: 0.3, pOut: 0.02, numFeatures: 4, signal: 1, trainPerClass: 3, valPerClass: 3 };
  const small = plantedPartition({ ...options, nodesPerCommunity: 10, seed: 1 });
  const large = plantedPartition({ ...options, nodesPerCommunity: 70, seed: 2 });
  const { model } = trainGcn(small, { seed: 1, epochs: 50 });
  const session = await createOnnxSession(exportGcnToOnnx(model));
  try {
    for (const task of [small, large]) {
      const fromOnnx = await runOnnx(session, onnxFeeds(task.adjacency, toDense(task.features)), 'logits');
      assert.equal(fromOnnx.length, task.adjacency.rows * 3);
      assert.ok(maxAbsDiff(fromOnnx, predictLogits(model, task.adjacency, task.features)) <= 1e-4);
    }
  } finally {
    await session.release();
  }
});
