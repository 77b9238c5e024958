/**
 * `@streamforge/gnn`: graph neural networks for StreamForge. Datasets and graphs
 * (Â in CSR), a two-layer GCN (Kipf & Welling 2017) trained in TypeScript, ONNX export and
 * onnxruntime-node inference, model storage, and the `gnn train` command.
 */
export { Adam, type AdamOptions } from './adam.ts';
export { loadDataset, validateDataset, type DatasetSplit, type NodeClassificationDataset } from './dataset.ts';
export { checkGcnConfig, createGcn, GcnWorkspace, type GcnConfig, type GcnModel, type TrainingRecord } from './gcn.ts';
export { backwardPass, forwardPass, halfSquaredNorm } from './gcn-pass.ts';
export {
  allRows,
  checkGraphInput,
  normalizedAdjacency,
  receptiveField,
  toEdgeList,
  type Edge,
  type GraphInput,
  type ReceptiveField,
} from './graph.ts';
export { argmaxRows, softmaxCrossEntropy, softmaxRows, type LossAndAccuracy } from './loss.ts';
export { exportGcnToOnnx, ONNX_INPUTS, ONNX_IR_VERSION, ONNX_OPSET, ONNX_OUTPUTS } from './onnx-export.ts';
export {
  createOnnxSession,
  ONNX_SESSION_OPTIONS,
  onnxFeeds,
  predictWithOnnx,
  runOnnx,
  type OnnxOutput,
  type OnnxSession,
} from './onnx-inference.ts';
export { plantedPartition, type PlantedPartitionOptions } from './planted-partition.ts';
export { createRng, keepThreshold, MAX_SEED, Rng } from './random.ts';
export { defaultSplit, stratifiedSplit, type StratifiedSplitOptions } from './split.ts';
export {
  csrFromDense,
  csrFromIndexRows,
  identityCsr,
  nnz,
  rowNormalize,
  toDense,
  type SparseMatrix,
} from './sparse.ts';
export {
  createTask,
  FEATURE_NORMALIZATIONS,
  prepareFeatures,
  taskFromDataset,
  type FeatureNormalization,
  type GcnTask,
  type TaskFromDatasetOptions,
  type TaskInput,
} from './task.ts';
export {
  DEFAULT_TRAIN_OPTIONS,
  evaluateGcn,
  predictLogits,
  shouldStop,
  trainGcn,
  type EpochStats,
  type Evaluation,
  type TrainOptions,
  type TrainResult,
} from './train.ts';
export { GNN_TRAIN_USAGE, gnnTrainCommand, parseGnnTrainArgs, type CommandIo, type GnnTrainArgs } from './train-cli.ts';
