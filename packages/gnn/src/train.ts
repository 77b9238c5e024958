/**
 * Full-batch GCN training as tkipf/gcn `train.py`: each epoch one training step with
 * dropout on the training nodes, then a dropout-free evaluation on the validation nodes,
 * and optional early stopping with their rule (stop when the validation loss exceeds the
 * mean of the previous `window` epochs, once more than `window` epochs have run). Defaults
 * are the paper's CiteSeer/Cora settings: 200 epochs, 16 hidden units, dropout 0.5,
 * learning rate 0.01, weight decay 5e-4 on the first layer.
 */
import { StreamForgeError } from '@streamforge/core/errors';
import { Adam } from './adam.ts';
import { allRows, receptiveField, type ReceptiveField } from './graph.ts';
import { backwardPass, forwardPass, halfSquaredNorm } from './gcn-pass.ts';
import { createGcn, GcnWorkspace, type GcnModel } from './gcn.ts';
import { softmaxCrossEntropy, type LossAndAccuracy } from './loss.ts';
import { createRng, MAX_SEED } from './random.ts';
import { DEFAULT_TRAIN_OPTIONS } from '@streamforge/core/requests';
import { nnz, type SparseMatrix } from './sparse.ts';
import type { GcnTask } from './task.ts';

export interface TrainOptions {
  epochs?: number;
  hidden?: number;
  learningRate?: number;
  weightDecay?: number;
  dropout?: number;
  seed?: number;
  bias?: boolean;
  /** Early-stopping window (tkipf/gcn: 10); null or absent trains all epochs. */
  earlyStopping?: number | null;
  /** Called after every epoch, e.g. to publish training telemetry. */
  onEpoch?: (stats: EpochStats) => void;
}

export { DEFAULT_TRAIN_OPTIONS } from '@streamforge/core/requests';

export interface EpochStats {
  /** 1-based. */
  epoch: number;
  /** Training loss of this epoch's step (with dropout, before the update), incl. weight decay. */
  loss: number;
  /** Training accuracy of the same (dropout) pass, as tkipf/gcn prints it. */
  trainAccuracy: number;
  valLoss: number;
  valAccuracy: number;
  /** Since training started, this epoch's validation pass included. */
  seconds: number;
}

export interface Evaluation {
  train: LossAndAccuracy;
  val: LossAndAccuracy;
  test: LossAndAccuracy;
}

export interface TrainResult {
  model: GcnModel;
  /** Epochs actually run. */
  epochs: number;
  stoppedEarly: boolean;
  /** Final dropout-free evaluation on every split; losses include the weight-decay term. */
  evaluation: Evaluation;
  /** Wall-clock training time including per-epoch validation, excluding the final evaluation. */
  seconds: number;
}

function invalid(field: string, reason: string): StreamForgeError {
  return new StreamForgeError('SF_CONTRACT_INVALID', `${field}: ${reason}`, { details: { field } });
}

function checkOptions(o: Required<Omit<TrainOptions, 'onEpoch'>>): void {
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw invalid('epochs', `must be an integer ≥ 1, got ${o.epochs}`);
  if (!Number.isInteger(o.hidden) || o.hidden < 1) throw invalid('hidden', `must be an integer ≥ 1, got ${o.hidden}`);
  if (!(Number.isFinite(o.learningRate) && o.learningRate > 0))
    throw invalid('learningRate', `must be a number > 0, got ${o.learningRate}`);
  if (!(Number.isFinite(o.weightDecay) && o.weightDecay >= 0))
    throw invalid('weightDecay', `must be a number ≥ 0, got ${o.weightDecay}`);
  if (!(o.dropout >= 0 && o.dropout < 1)) throw invalid('dropout', `must be in [0, 1), got ${o.dropout}`);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > MAX_SEED)
    throw invalid('seed', `must be an integer in [0, ${MAX_SEED}], got ${o.seed}`);
  if (o.earlyStopping !== null && (!Number.isInteger(o.earlyStopping) || o.earlyStopping < 1)) {
    throw invalid('earlyStopping', `must be an integer ≥ 1, got ${o.earlyStopping}`);
  }
}

/** Trains a fresh two-layer GCN on `task`; one seed gives one result. */
export function trainGcn(task: GcnTask, options: TrainOptions = {}): TrainResult {
  const o = { ...DEFAULT_TRAIN_OPTIONS, earlyStopping: null, ...options };
  checkOptions(o);
  const { train, val } = task.split;
  if (train.length === 0) throw invalid('split.train', 'has no nodes to train on');
  if (o.earlyStopping !== null && val.length === 0)
    throw invalid('earlyStopping', 'needs validation nodes (split.val is empty)');

  const rng = createRng(o.seed);
  const model = createGcn(
    {
      inputDim: task.features.cols,
      hiddenDim: o.hidden,
      numClasses: task.numClasses,
      dropout: o.dropout,
      bias: o.bias,
      featureNormalization: task.featureNormalization,
    },
    rng,
  );
  const ws = new GcnWorkspace(model.config, task.adjacency.rows, nnz(task.features));
  const params = [model.w1, model.w2];
  const grads = [ws.gradW1, ws.gradW2];
  if (model.b1 !== null && model.b2 !== null) {
    params.push(model.b1, model.b2);
    grads.push(ws.gradB1, ws.gradB2);
  }
  const adam = new Adam(params, { learningRate: o.learningRate });
  const trainField = receptiveField(task.adjacency, train);
  const valField = receptiveField(task.adjacency, val);

  const started = performance.now();
  const valLosses: number[] = [];
  let epoch = 0;
  let stoppedEarly = false;
  while (epoch < o.epochs) {
    epoch++;
    forwardPass(model, task.adjacency, task.features, ws, trainField, o.dropout, rng);
    const step = backwardPass(model, task.adjacency, task.features, task.labels, ws, trainField, o.weightDecay);
    adam.step(grads);
    const valResult =
      val.length === 0
        ? { loss: Number.NaN, accuracy: Number.NaN }
        : evaluateField(model, task, ws, valField, o.weightDecay);
    valLosses.push(valResult.loss);
    o.onEpoch?.({
      epoch,
      loss: step.loss,
      trainAccuracy: step.accuracy,
      valLoss: valResult.loss,
      valAccuracy: valResult.accuracy,
      seconds: (performance.now() - started) / 1000,
    });
    if (o.earlyStopping !== null && shouldStop(valLosses, o.earlyStopping)) {
      stoppedEarly = epoch < o.epochs;
      break;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  model.training = {
    dataset: task.name,
    learningRate: o.learningRate,
    weightDecay: o.weightDecay,
    epochs: epoch,
    seed: o.seed,
    earlyStopping: o.earlyStopping,
  };
  return { model, epochs: epoch, stoppedEarly, evaluation: evaluateGcn(model, task, ws), seconds };
}

/**
 * tkipf/gcn `train.py`: `epoch > early_stopping and cost_val[-1] >
 * np.mean(cost_val[-(early_stopping+1):-1])` with a 0-based epoch, i.e. at least
 * window + 2 losses.
 */
export function shouldStop(valLosses: readonly number[], window: number): boolean {
  const n = valLosses.length;
  if (n < window + 2) return false;
  let sum = 0;
  for (let k = n - 1 - window; k < n - 1; k++) sum += valLosses[k];
  return valLosses[n - 1] > sum / window;
}

function evaluateField(
  model: GcnModel,
  task: GcnTask,
  ws: GcnWorkspace,
  field: ReceptiveField,
  weightDecay: number,
): LossAndAccuracy {
  forwardPass(model, task.adjacency, task.features, ws, field, 0, null);
  const result = softmaxCrossEntropy(ws.logits, task.labels, field.output, model.config.numClasses);
  return { loss: result.loss + weightDecay * halfSquaredNorm(model.w1), accuracy: result.accuracy };
}

/**
 * Dropout-free loss and accuracy on each split, from one full forward pass. Losses
 * include the weight-decay term the model was trained with, as tkipf/gcn's `evaluate`.
 */
export function evaluateGcn(model: GcnModel, task: GcnTask, workspace?: GcnWorkspace): Evaluation {
  const ws = workspace ?? new GcnWorkspace(model.config, task.adjacency.rows, nnz(task.features));
  forwardPass(model, task.adjacency, task.features, ws, allRows(task.adjacency.rows), 0, null);
  const penalty = (model.training?.weightDecay ?? 0) * halfSquaredNorm(model.w1);
  const on = (rows: Int32Array): LossAndAccuracy => {
    const r = softmaxCrossEntropy(ws.logits, task.labels, rows, model.config.numClasses);
    return { loss: r.loss + penalty, accuracy: r.accuracy };
  };
  return { train: on(task.split.train), val: on(task.split.val), test: on(task.split.test) };
}

/** Logits (N × C, row-major) of every node: the dropout-free TypeScript forward pass. */
export function predictLogits(
  model: GcnModel,
  adjacency: SparseMatrix,
  features: SparseMatrix,
  workspace?: GcnWorkspace,
): Float32Array {
  if (features.rows !== adjacency.rows || features.cols !== model.config.inputDim) {
    throw invalid(
      'features',
      `expected ${adjacency.rows} × ${model.config.inputDim} (nodes × model inputs), got ${features.rows} × ${features.cols}`,
    );
  }
  if (workspace !== undefined && workspace.numNodes !== adjacency.rows)
    throw invalid('workspace', `sized for ${workspace.numNodes} nodes, the graph has ${adjacency.rows}`);
  const ws = workspace ?? new GcnWorkspace(model.config, adjacency.rows, nnz(features));
  forwardPass(model, adjacency, features, ws, allRows(adjacency.rows), 0, null);
  return ws.logits.slice();
}
