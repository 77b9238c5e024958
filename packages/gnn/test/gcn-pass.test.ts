import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allRows, receptiveField, type ReceptiveField } from '../src/graph.ts';
import { createGcn, GcnWorkspace, type GcnModel } from '../src/gcn.ts';
import { backwardPass, forwardPass } from '../src/gcn-pass.ts';
import { createRng } from '../src/random.ts';
import { nnz, toDense } from '../src/sparse.ts';
import type { GcnTask } from '../src/task.ts';
import { randomTask } from './fixtures.ts';

type Params = Record<'w1' | 'b1' | 'w2' | 'b2', Float64Array>;

/**
 * The same network written the obvious way, dense and in float64, with the dropout masks
 * of a recorded training pass: the yardstick for the fast float32 passes.
 */
function referenceLoss(
  task: GcnTask,
  p: Params,
  masks: { input: Uint8Array; hidden: Uint8Array; scale: number } | null,
  rows: Int32Array,
  weightDecay: number,
) {
  const n = task.adjacency.rows;
  const F = task.features.cols;
  const H = p.b1.length;
  const C = p.b2.length;
  const A = toDense(task.adjacency);
  const X = new Float64Array(n * F);
  const { rowPtr, colIdx, values } = task.features;
  for (let i = 0; i < n; i++) {
    for (let q = rowPtr[i]; q < rowPtr[i + 1]; q++)
      X[i * F + colIdx[q]] = masks === null ? values[q] : masks.input[q] * values[q] * masks.scale;
  }
  const matmul = (a: ArrayLike<number>, b: ArrayLike<number>, r: number, k: number, c: number): Float64Array => {
    const out = new Float64Array(r * c);
    for (let i = 0; i < r; i++)
      for (let t = 0; t < k; t++) for (let j = 0; j < c; j++) out[i * c + j] += a[i * k + t] * b[t * c + j];
    return out;
  };
  const z1 = matmul(A, matmul(X, p.w1, n, F, H), n, n, H);
  const hidden = z1.map((z, q) => {
    const active = Math.max(0, z + p.b1[q % H]);
    return masks === null ? active : active * masks.hidden[q] * masks.scale;
  });
  const z2 = matmul(A, matmul(hidden, p.w2, n, H, C), n, n, C).map((z, q) => z + p.b2[q % C]);
  let loss = 0;
  for (const i of rows) {
    const logits = z2.subarray(i * C, i * C + C);
    const max = Math.max(...logits);
    const lse = max + Math.log(logits.reduce((s, z) => s + Math.exp(z - max), 0));
    loss += lse - logits[task.labels[i]];
  }
  const l2 = p.w1.reduce((s, w) => s + w * w, 0) / 2;
  return { loss: loss / rows.length + weightDecay * l2, logits: z2 };
}

function paramsOf(model: GcnModel): Params {
  const H = model.config.hiddenDim;
  const C = model.config.numClasses;
  return {
    w1: Float64Array.from(model.w1),
    b1: model.b1 === null ? new Float64Array(H) : Float64Array.from(model.b1),
    w2: Float64Array.from(model.w2),
    b2: model.b2 === null ? new Float64Array(C) : Float64Array.from(model.b2),
  };
}

function checkGradients(options: { bias: boolean; dropout: number; field: 'train' | 'all'; seed: number }): void {
  const task = randomTask({ nodes: 14, features: 6, classes: 3, edges: 20, seed: options.seed });
  const rng = createRng(options.seed);
  const model = createGcn(
    {
      inputDim: 6,
      hiddenDim: 5,
      numClasses: 3,
      dropout: options.dropout,
      bias: options.bias,
      featureNormalization: 'none',
    },
    rng,
  );
  // Nonzero biases, so their gradients are exercised away from the initial point.
  if (model.b1) for (let h = 0; h < model.b1.length; h++) model.b1[h] = 0.1 * (h - 2);
  if (model.b2) for (let c = 0; c < model.b2.length; c++) model.b2[c] = 0.05 * (c - 1);
  const weightDecay = 0.01;
  const field: ReceptiveField =
    options.field === 'train' ? receptiveField(task.adjacency, task.split.train) : allRows(14);
  const lossRows = options.field === 'train' ? task.split.train : field.output;
  const fieldForLoss = { ...field, output: lossRows };
  const ws = new GcnWorkspace(model.config, 14, nnz(task.features));
  forwardPass(model, task.adjacency, task.features, ws, fieldForLoss, options.dropout, rng);
  const fast = backwardPass(model, task.adjacency, task.features, task.labels, ws, fieldForLoss, weightDecay);

  const masks =
    options.dropout > 0 ? { input: ws.inputKeep, hidden: ws.hiddenKeep, scale: 1 / (1 - options.dropout) } : null;
  const p = paramsOf(model);
  const reference = referenceLoss(task, p, masks, lossRows, weightDecay);
  assert.ok(Math.abs(fast.loss - reference.loss) < 1e-5, `loss ${fast.loss} vs reference ${reference.loss}`);
  for (const i of lossRows) {
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(ws.logits[i * 3 + c] - reference.logits[i * 3 + c]) < 1e-5);
  }

  // Central differences on the float64 reference (h = 1e-6: truncation and rounding both ~1e-10).
  const analytic: Params = {
    w1: Float64Array.from(ws.gradW1),
    b1: Float64Array.from(ws.gradB1),
    w2: Float64Array.from(ws.gradW2),
    b2: Float64Array.from(ws.gradB2),
  };
  const names = options.bias ? (['w1', 'b1', 'w2', 'b2'] as const) : (['w1', 'w2'] as const);
  let checked = 0;
  for (const name of names) {
    for (let k = 0; k < p[name].length; k++) {
      const saved = p[name][k];
      p[name][k] = saved + 1e-6;
      const up = referenceLoss(task, p, masks, lossRows, weightDecay).loss;
      p[name][k] = saved - 1e-6;
      const down = referenceLoss(task, p, masks, lossRows, weightDecay).loss;
      p[name][k] = saved;
      const numeric = (up - down) / 2e-6;
      const error = Math.abs(numeric - analytic[name][k]);
      assert.ok(
        error < 2e-5 + 1e-3 * Math.abs(numeric),
        `${name}[${k}]: analytic ${analytic[name][k]} vs numeric ${numeric}`,
      );
      checked++;
    }
  }
  assert.ok(checked >= 6 * 5 + 5 * 3);
}

test('gradients of the GCN agree with finite differences of a float64 reference (no dropout, no bias, full graph)', () => {
  checkGradients({ bias: false, dropout: 0, field: 'all', seed: 11 });
});

test('gradients agree with finite differences through sparse input dropout, hidden dropout and biases', () => {
  for (const seed of [12, 13, 14]) checkGradients({ bias: true, dropout: 0.5, field: 'all', seed });
});

test('a training pass restricted to the receptive field of the training nodes gives the full-graph loss and gradients', () => {
  for (const seed of [15, 16]) checkGradients({ bias: true, dropout: 0.3, field: 'train', seed });
});

test('the forward pass over a receptive field gives the same logits as over the whole graph', () => {
  const task = randomTask({ nodes: 40, features: 8, classes: 4, edges: 60, seed: 3 });
  const model = createGcn(
    { inputDim: 8, hiddenDim: 6, numClasses: 4, dropout: 0.5, bias: true, featureNormalization: 'none' },
    createRng(3),
  );
  const full = new GcnWorkspace(model.config, 40, nnz(task.features));
  forwardPass(model, task.adjacency, task.features, full, allRows(40), 0, null);
  const part = new GcnWorkspace(model.config, 40, nnz(task.features));
  const field = receptiveField(task.adjacency, task.split.test);
  assert.ok(field.input.length < 40 || field.hidden.length <= 40);
  forwardPass(model, task.adjacency, task.features, part, field, 0, null);
  for (const i of task.split.test)
    assert.deepEqual(part.logits.subarray(i * 4, i * 4 + 4), full.logits.subarray(i * 4, i * 4 + 4));
});
