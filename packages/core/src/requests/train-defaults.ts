/**
 * The GCN training settings a `gnn_train` request may set, and their defaults (Kipf &
 * Welling's CiteSeer/Cora settings): the request checks and the GNN library share them.
 */
export interface TrainSettings {
  epochs: number;
  hidden: number;
  learningRate: number;
  weightDecay: number;
  dropout: number;
  seed: number;
}

export const DEFAULT_TRAIN_OPTIONS = {
  epochs: 200,
  hidden: 16,
  learningRate: 0.01,
  weightDecay: 5e-4,
  dropout: 0.5,
  seed: 1,
  bias: false,
} as const;

/** Seeds are unsigned 32-bit integers (the generator's state). */
export const MAX_SEED = 0xffff_ffff;
