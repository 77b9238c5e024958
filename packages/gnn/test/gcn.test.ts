import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGcn, type GcnConfig } from '../src/gcn.ts';
import { createRng } from '../src/random.ts';

const config: GcnConfig = {
  inputDim: 50,
  hiddenDim: 16,
  numClasses: 4,
  dropout: 0.5,
  bias: true,
  featureNormalization: 'row',
};

test('weights start Glorot-uniform within ±sqrt(6 / (fan in + fan out)) and biases at zero', () => {
  const model = createGcn(config, createRng(1));
  const r1 = Math.sqrt(6 / (50 + 16));
  const r2 = Math.sqrt(6 / (16 + 4));
  assert.equal(model.w1.length, 50 * 16);
  assert.ok(model.w1.every((w) => Math.abs(w) <= r1) && Math.max(...model.w1.map(Math.abs)) > 0.9 * r1);
  assert.ok(model.w2.every((w) => Math.abs(w) <= r2));
  assert.deepEqual(Array.from(model.b1 ?? []), new Array(16).fill(0));
  assert.equal(createGcn({ ...config, bias: false }, createRng(1)).b2, null);
  assert.equal(model.training, null);
});

test('a config that cannot make a model is refused naming the field', () => {
  assert.throws(
    () => createGcn({ ...config, hiddenDim: 0 }, createRng(1)),
    /^StreamForgeError: hiddenDim: must be an integer ≥ 1, got 0/,
  );
  assert.throws(() => createGcn({ ...config, dropout: 1 }, createRng(1)), /dropout: must be in \[0, 1\), got 1/);
});
