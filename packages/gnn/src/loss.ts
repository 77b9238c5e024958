/**
 * Softmax cross-entropy over a set of labelled rows, as tkipf/gcn
 * `metrics.masked_softmax_cross_entropy` (mean over the masked nodes) and
 * `masked_accuracy`.
 */

export interface LossAndAccuracy {
  /** Mean cross-entropy over the rows (no regularisation term). */
  loss: number;
  accuracy: number;
}

/**
 * Loss and accuracy of `logits` (row-major, `numClasses` columns) on `rows`. When
 * `gradient` is given, writes d(loss)/d(logits) for those rows into it (other rows are
 * left alone): (softmax − one-hot) / |rows|.
 */
export function softmaxCrossEntropy(
  logits: Float32Array,
  labels: Int32Array,
  rows: Int32Array,
  numClasses: number,
  gradient: Float32Array | null = null,
): LossAndAccuracy {
  const count = rows.length;
  if (count === 0) return { loss: Number.NaN, accuracy: Number.NaN };
  const C = numClasses;
  const inv = 1 / count;
  let loss = 0;
  let correct = 0;
  for (let k = 0; k < count; k++) {
    const i = rows[k];
    const o = i * C;
    const y = labels[i];
    let max = logits[o];
    let best = 0;
    for (let c = 1; c < C; c++) {
      const z = logits[o + c];
      if (z > max) {
        max = z;
        best = c;
      }
    }
    if (best === y) correct++;
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(logits[o + c] - max);
    loss += Math.log(sum) - (logits[o + y] - max);
    if (gradient !== null) {
      const s = inv / sum;
      for (let c = 0; c < C; c++) gradient[o + c] = Math.exp(logits[o + c] - max) * s - (c === y ? inv : 0);
    }
  }
  return { loss: loss * inv, accuracy: correct * inv };
}

/** Row-wise softmax of row-major logits. */
export function softmaxRows(logits: Float32Array, numClasses: number): Float32Array {
  const out = new Float32Array(logits.length);
  const C = numClasses;
  for (let o = 0; o < logits.length; o += C) {
    let max = logits[o];
    for (let c = 1; c < C; c++) if (logits[o + c] > max) max = logits[o + c];
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(logits[o + c] - max);
    for (let c = 0; c < C; c++) out[o + c] = Math.exp(logits[o + c] - max) / sum;
  }
  return out;
}

/** The predicted class of every row (first maximum on ties). */
export function argmaxRows(scores: Float32Array, numClasses: number): Int32Array {
  const out = new Int32Array(scores.length / numClasses);
  for (let i = 0; i < out.length; i++) {
    const o = i * numClasses;
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (scores[o + c] > scores[o + best]) best = c;
    out[i] = best;
  }
  return out;
}
