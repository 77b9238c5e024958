import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Adam } from '../src/adam.ts';

test('the first Adam step moves each weight by about the learning rate against its gradient', () => {
  const w = Float32Array.from([1, -2, 0.5]);
  const adam = new Adam([w], { learningRate: 0.01 });
  adam.step([Float32Array.from([0.3, -4, 1e-3])]);
  assert.ok(Math.abs(w[0] - 0.99) < 1e-6);
  assert.ok(Math.abs(w[1] - -1.99) < 1e-6);
  assert.ok(Math.abs(w[2] - 0.49) < 1e-5);
});

test('Adam follows the TensorFlow 1 update rule tkipf/gcn trains with', () => {
  const w = Float32Array.from([0.2]);
  const adam = new Adam([w], { learningRate: 0.1 });
  const grads = [0.5, -0.2, 0.1];
  let m = 0;
  let v = 0;
  let expected = 0.2;
  grads.forEach((g, t) => {
    adam.step([Float32Array.of(g)]);
    m = 0.9 * m + 0.1 * g;
    v = 0.999 * v + 0.001 * g * g;
    const lr = (0.1 * Math.sqrt(1 - 0.999 ** (t + 1))) / (1 - 0.9 ** (t + 1));
    expected -= (lr * m) / (Math.sqrt(v) + 1e-8);
    assert.ok(Math.abs(w[0] - expected) < 1e-6, `step ${t + 1}: ${w[0]} vs ${expected}`);
  });
});

test('Adam minimises a quadratic', () => {
  const w = Float32Array.from([3, -3]);
  const g = new Float32Array(2);
  const adam = new Adam([w], { learningRate: 0.05 });
  for (let i = 0; i < 500; i++) {
    g[0] = 2 * (w[0] - 1);
    g[1] = 2 * (w[1] + 0.5);
    adam.step([g]);
  }
  assert.ok(Math.abs(w[0] - 1) < 1e-2 && Math.abs(w[1] + 0.5) < 1e-2, `w = ${w}`);
});
