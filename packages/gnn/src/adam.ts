/**
 * Adam (Kingma & Ba 2015) in the form of TensorFlow 1's `tf.train.AdamOptimizer`, which
 * tkipf/gcn trains with: the bias corrections fold into the step size,
 *   lr_t = lr · sqrt(1 − β2^t) / (1 − β1^t),  w ← w − lr_t · m / (sqrt(v) + ε),
 * with β1 0.9, β2 0.999, ε 1e-8. Weight decay is not applied here: it is part of the loss
 * (and so of the gradient), as in tkipf/gcn, not decoupled as in AdamW.
 */

export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export class Adam {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private readonly params: Float32Array[];
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private t = 0;

  constructor(params: Float32Array[], options: AdamOptions) {
    this.learningRate = options.learningRate;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.params = params;
    this.m = params.map((p) => new Float32Array(p.length));
    this.v = params.map((p) => new Float32Array(p.length));
  }

  /** One update; `grads[k]` is the gradient of `params[k]` given at construction. */
  step(grads: Float32Array[]): void {
    this.t++;
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const lr = (this.learningRate * Math.sqrt(1 - b2 ** this.t)) / (1 - b1 ** this.t);
    for (let k = 0; k < this.params.length; k++) {
      const w = this.params[k];
      const g = grads[k];
      const m = this.m[k];
      const v = this.v[k];
      for (let i = 0; i < w.length; i++) {
        const gi = g[i];
        const mi = b1 * m[i] + (1 - b1) * gi;
        const vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] -= (lr * mi) / (Math.sqrt(vi) + eps);
      }
    }
  }
}
