/**
 * Forward and backward passes of the two-layer GCN over typed arrays. Speed comes from:
 * - the association order Â·(X·W1), never (Â·X)·W1: X·W1 is N × 16, Â·X is N × F;
 * - X in CSR, so X·W1 and its gradient X^T·dXW1 touch only nonzeros (sparse dropout marks
 *   kept nonzeros, tkipf/gcn `layers.sparse_dropout`);
 * - the receptive field: the loss sees only labelled rows, so a training pass computes only
 *   the rows that reach them (CiteSeer: 1092 of 3327 rows for the 120 training nodes) and
 *   the backward pass scatters from those rows alone;
 * - register-blocked sparse kernels (kernels.ts);
 * - buffers from `GcnWorkspace`, so an epoch allocates nothing.
 */
import type { ReceptiveField } from './graph.ts';
import type { GcnModel, GcnWorkspace } from './gcn.ts';
import { addSparseTransposeTimesDense, sparseTimesDense } from './kernels.ts';
import { softmaxCrossEntropy, type LossAndAccuracy } from './loss.ts';
import { keepThreshold, type Rng } from './random.ts';
import type { SparseMatrix } from './sparse.ts';

/**
 * Computes `ws.logits` for the rows of `field.output`. With `dropoutRate` > 0 and an `rng`
 * (training) draws fresh inverted-dropout masks for X and for the hidden layer.
 */
export function forwardPass(
  model: GcnModel,
  adjacency: SparseMatrix,
  features: SparseMatrix,
  ws: GcnWorkspace,
  field: ReceptiveField,
  dropoutRate: number,
  rng: Rng | null,
): void {
  const H = model.config.hiddenDim;
  const C = model.config.numClasses;
  const dropping = dropoutRate > 0 && rng !== null;
  const threshold = dropping ? keepThreshold(dropoutRate) : 0;
  const scale = dropping ? 1 / (1 - dropoutRate) : 1;
  ws.dropped = dropping;
  ws.inputScale = scale;
  ws.hiddenScale = scale;
  const draws = ws.draws;

  // Layer 1, transform: xw = dropout(X) · W1 over the rows the hidden layer reads.
  const inputRows = field.input;
  if (dropping) {
    const xPtr = features.rowPtr;
    const keep = ws.inputKeep;
    let count = 0;
    for (let k = 0; k < inputRows.length; k++) count += xPtr[inputRows[k] + 1] - xPtr[inputRows[k]];
    rng.fillU32(draws, count);
    let d = 0;
    for (let k = 0; k < inputRows.length; k++) {
      const i = inputRows[k];
      for (let p = xPtr[i]; p < xPtr[i + 1]; p++) keep[p] = draws[d++] < threshold ? 1 : 0;
    }
  }
  sparseTimesDense(features, inputRows, model.w1, H, ws.xw, dropping ? ws.inputKeep : null, scale);

  // Layer 1, propagate: hidden = dropout(ReLU(Â · xw + b1)).
  const hidden = ws.hidden;
  const hiddenRows = field.hidden;
  sparseTimesDense(adjacency, hiddenRows, ws.xw, H, hidden, null, 1);
  const b1 = model.b1;
  const hiddenKeep = ws.hiddenKeep;
  if (dropping) rng.fillU32(draws, hiddenRows.length * H);
  let d = 0;
  for (let k = 0; k < hiddenRows.length; k++) {
    const o = hiddenRows[k] * H;
    for (let h = 0; h < H; h++) {
      const z = b1 === null ? hidden[o + h] : hidden[o + h] + b1[h];
      if (dropping) {
        const kept = draws[d++] < threshold;
        hiddenKeep[o + h] = kept ? 1 : 0;
        hidden[o + h] = z > 0 && kept ? z * scale : 0;
      } else hidden[o + h] = Math.max(z, 0);
    }
  }

  // Layer 2, transform: hw = hidden · W2 (skipping the zeros ReLU and dropout leave).
  const w2 = model.w2;
  const hw = ws.hw;
  for (let k = 0; k < hiddenRows.length; k++) {
    const i = hiddenRows[k];
    const o = i * C;
    hw.fill(0, o, o + C);
    for (let h = 0; h < H; h++) {
      const x = hidden[i * H + h];
      if (x === 0) continue;
      const w = h * C;
      for (let c = 0; c < C; c++) hw[o + c] += x * w2[w + c];
    }
  }

  // Layer 2, propagate: logits = Â · hw + b2.
  const logits = ws.logits;
  const outputRows = field.output;
  sparseTimesDense(adjacency, outputRows, hw, C, logits, null, 1);
  const b2 = model.b2;
  if (b2 !== null) {
    for (let k = 0; k < outputRows.length; k++) {
      const o = outputRows[k] * C;
      for (let c = 0; c < C; c++) logits[o + c] += b2[c];
    }
  }
}

/** ½‖W‖², the tf.nn.l2_loss that tkipf/gcn multiplies by the weight decay. */
export function halfSquaredNorm(w: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < w.length; i++) sum += w[i] * w[i];
  return sum / 2;
}

/**
 * After `forwardPass` over `field`, the loss on `field.output` (labelled rows) and its
 * gradients in `ws.grad*`. The loss is tkipf/gcn's: mean cross-entropy plus
 * weightDecay · ½‖W1‖² — decay on the first layer only (`models.GCN._loss` loops over
 * `self.layers[0].vars`). Returns the regularised loss and the accuracy of this pass.
 */
export function backwardPass(
  model: GcnModel,
  adjacency: SparseMatrix,
  features: SparseMatrix,
  labels: Int32Array,
  ws: GcnWorkspace,
  field: ReceptiveField,
  weightDecay: number,
): LossAndAccuracy {
  const H = model.config.hiddenDim;
  const C = model.config.numClasses;
  const outputRows = field.output;
  const hiddenRows = field.hidden;
  const inputRows = field.input;
  const dLogits = ws.dLogits;
  const result = softmaxCrossEntropy(ws.logits, labels, outputRows, C, dLogits);

  // d(hw) = Â^T · dLogits, scattered from the labelled rows; db2 = column sums of dLogits.
  const dHw = ws.dHw;
  for (let k = 0; k < hiddenRows.length; k++) dHw.fill(0, hiddenRows[k] * C, hiddenRows[k] * C + C);
  addSparseTransposeTimesDense(adjacency, outputRows, dLogits, C, dHw, null, 1);
  const gradB2 = ws.gradB2.fill(0);
  for (let k = 0; k < outputRows.length; k++) {
    const o = outputRows[k] * C;
    for (let c = 0; c < C; c++) gradB2[c] += dLogits[o + c];
  }

  // dW2 = hidden^T · d(hw); d(pre-activation) = d(hw) · W2^T through dropout and ReLU:
  // hidden > 0 exactly where the unit was both active and kept, and then d/dz = scale.
  const hidden = ws.hidden;
  const w2 = model.w2;
  const gradW2 = ws.gradW2.fill(0);
  const dHidden = ws.dHidden;
  const gradB1 = ws.gradB1.fill(0);
  const scale = ws.hiddenScale;
  for (let k = 0; k < hiddenRows.length; k++) {
    const j = hiddenRows[k];
    const oh = j * H;
    const oc = j * C;
    for (let h = 0; h < H; h++) {
      const x = hidden[oh + h];
      if (x <= 0) {
        dHidden[oh + h] = 0;
        continue;
      }
      const w = h * C;
      let g = 0;
      for (let c = 0; c < C; c++) {
        const dy = dHw[oc + c];
        gradW2[w + c] += x * dy;
        g += dy * w2[w + c];
      }
      g *= scale;
      dHidden[oh + h] = g;
      gradB1[h] += g;
    }
  }

  // d(xw) = Â^T · d(pre-activation), scattered from the hidden rows.
  const dXw = ws.dXw;
  for (let k = 0; k < inputRows.length; k++) dXw.fill(0, inputRows[k] * H, inputRows[k] * H + H);
  addSparseTransposeTimesDense(adjacency, hiddenRows, dHidden, H, dXw, null, 1);

  // dW1 = dropout(X)^T · d(xw) + weightDecay · W1, over the kept nonzeros of X only.
  const w1 = model.w1;
  const gradW1 = ws.gradW1;
  for (let q = 0; q < w1.length; q++) gradW1[q] = weightDecay * w1[q];
  addSparseTransposeTimesDense(features, inputRows, dXw, H, gradW1, ws.dropped ? ws.inputKeep : null, ws.inputScale);

  const penalty = weightDecay === 0 ? 0 : weightDecay * halfSquaredNorm(w1);
  return { loss: result.loss + penalty, accuracy: result.accuracy };
}
