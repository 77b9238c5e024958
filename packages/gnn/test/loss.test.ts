import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmaxRows, softmaxCrossEntropy, softmaxRows } from '../src/loss.ts';

test('cross-entropy is the mean over the listed rows only, and its gradient is (softmax - one-hot) / rows', () => {
  const logits = Float32Array.from([2, 0, 0, /* row 1 not listed */ 9, 9, 9, 0, 1, 0]);
  const labels = Int32Array.from([0, 2, 2]);
  const gradient = new Float32Array(9).fill(7);
  const { loss, accuracy } = softmaxCrossEntropy(logits, labels, Int32Array.from([0, 2]), 3, gradient);
  const p0 = Math.exp(2) / (Math.exp(2) + 2);
  const p2 = 1 / (2 + Math.exp(1));
  assert.ok(Math.abs(loss - (-Math.log(p0) - Math.log(p2)) / 2) < 1e-6);
  assert.equal(accuracy, 0.5);
  assert.ok(Math.abs(gradient[0] - (p0 - 1) / 2) < 1e-6);
  assert.ok(Math.abs(gradient[8] - (p2 - 1) / 2) < 1e-6);
  assert.deepEqual(Array.from(gradient.subarray(3, 6)), [7, 7, 7]);
});

test('softmax rows sum to one and argmax picks the first maximum', () => {
  const p = softmaxRows(Float32Array.from([1, 2, 3, 0, 0, 0]), 3);
  assert.ok(Math.abs(p[0] + p[1] + p[2] - 1) < 1e-6);
  assert.deepEqual(Array.from(argmaxRows(p, 3)), [2, 0]);
});
