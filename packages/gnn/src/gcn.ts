/**
 * The two-layer GCN of Kipf & Welling (ICLR 2017, eq. 9):
 *   Z = Â · dropout(ReLU(Â · dropout(X) · W1 [+ b1])) · W2 [+ b2]
 * following tkipf/gcn `models.GCN`: dropout on the inputs of both layers (sparse dropout on
 * X), Glorot-uniform weights, no bias by default. The model is plain data (config and
 * Float32Array weights), so it serialises and exports to ONNX directly.
 */
import { StreamForgeError } from '@streamforge/core/errors';
import type { Rng } from './random.ts';
import type { FeatureNormalization } from './task.ts';

export interface GcnConfig {
  inputDim: number;
  hiddenDim: number;
  numClasses: number;
  /** Dropout rate during training (tkipf/gcn: 0.5); inference never drops. */
  dropout: number;
  bias: boolean;
  /** How the features this model was trained on were prepared; inference must match. */
  featureNormalization: FeatureNormalization;
}

/** How a model was trained, kept with it for the record. */
export interface TrainingRecord {
  dataset: string;
  learningRate: number;
  weightDecay: number;
  epochs: number;
  seed: number;
  earlyStopping: number | null;
}

export interface GcnModel {
  config: GcnConfig;
  /** inputDim × hiddenDim, row-major. */
  w1: Float32Array;
  b1: Float32Array | null;
  /** hiddenDim × numClasses, row-major. */
  w2: Float32Array;
  b2: Float32Array | null;
  training: TrainingRecord | null;
}

export function checkGcnConfig(config: GcnConfig): void {
  const fail = (field: string, reason: string): never => {
    throw new StreamForgeError('SF_CONTRACT_INVALID', `${field}: ${reason}`, { details: { field } });
  };
  for (const field of ['inputDim', 'hiddenDim', 'numClasses'] as const) {
    if (!Number.isInteger(config[field]) || config[field] < 1)
      fail(field, `must be an integer ≥ 1, got ${config[field]}`);
  }
  if (!(config.dropout >= 0 && config.dropout < 1)) fail('dropout', `must be in [0, 1), got ${config.dropout}`);
}

/** Glorot & Bengio (2010) uniform init in ±sqrt(6 / (fanIn + fanOut)), as tkipf/gcn `inits.glorot`. */
function glorot(fanIn: number, fanOut: number, rng: Rng): Float32Array {
  const range = Math.sqrt(6 / (fanIn + fanOut));
  const w = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < w.length; i++) w[i] = (rng.next() * 2 - 1) * range;
  return w;
}

/** A freshly initialised model; biases start at zero, as in tkipf/gcn. */
export function createGcn(config: GcnConfig, rng: Rng): GcnModel {
  checkGcnConfig(config);
  const { inputDim: F, hiddenDim: H, numClasses: C } = config;
  return {
    config: { ...config },
    w1: glorot(F, H, rng),
    b1: config.bias ? new Float32Array(H) : null,
    w2: glorot(H, C, rng),
    b2: config.bias ? new Float32Array(C) : null,
    training: null,
  };
}

/**
 * Activations and gradients of one model on one graph, allocated once and reused every
 * epoch. Rows outside the receptive field of a pass keep stale values and are never read.
 */
export class GcnWorkspace {
  readonly numNodes: number;
  /** dropout(X) · W1, N × H. */
  readonly xw: Float32Array;
  /** dropout(ReLU(Â · xw + b1)), N × H. */
  readonly hidden: Float32Array;
  /** hidden · W2, N × C. */
  readonly hw: Float32Array;
  /** Â · hw + b2, N × C. */
  readonly logits: Float32Array;
  /** Per nonzero of X: 1 when the last training pass kept it. */
  readonly inputKeep: Uint8Array;
  /** Per hidden unit (N × H): 1 when the last training pass kept it. */
  readonly hiddenKeep: Uint8Array;
  /** Inverted-dropout scales of the last pass: 1 / (1 − rate), or 1 without dropout. */
  inputScale = 1;
  hiddenScale = 1;
  /** Whether the last pass dropped anything (then `inputKeep` is meaningful). */
  dropped = false;
  readonly draws: Uint32Array;
  readonly dLogits: Float32Array;
  readonly dHw: Float32Array;
  readonly dHidden: Float32Array;
  readonly dXw: Float32Array;
  readonly gradW1: Float32Array;
  readonly gradB1: Float32Array;
  readonly gradW2: Float32Array;
  readonly gradB2: Float32Array;

  constructor(config: GcnConfig, numNodes: number, featureNonzeros: number) {
    const { inputDim: F, hiddenDim: H, numClasses: C } = config;
    this.numNodes = numNodes;
    this.xw = new Float32Array(numNodes * H);
    this.hidden = new Float32Array(numNodes * H);
    this.hw = new Float32Array(numNodes * C);
    this.logits = new Float32Array(numNodes * C);
    this.inputKeep = new Uint8Array(featureNonzeros);
    this.hiddenKeep = new Uint8Array(numNodes * H);
    this.draws = new Uint32Array(Math.max(featureNonzeros, numNodes * H));
    this.dLogits = new Float32Array(numNodes * C);
    this.dHw = new Float32Array(numNodes * C);
    this.dHidden = new Float32Array(numNodes * H);
    this.dXw = new Float32Array(numNodes * H);
    this.gradW1 = new Float32Array(F * H);
    this.gradB1 = new Float32Array(H);
    this.gradW2 = new Float32Array(H * C);
    this.gradB2 = new Float32Array(C);
  }
}
