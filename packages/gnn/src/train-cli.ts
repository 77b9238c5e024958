/**
 * `streamforge gnn train`: trains a GCN on a dataset file and prints one JSON line with
 * the result. Exit codes: 0 done, 1 the dataset or the run failed, 2 bad arguments (with
 * the usage on stderr). Runs standalone too:
 *   node packages/gnn/src/train-cli.ts --dataset test/fixtures/gnn/citeseer-planetoid.json
 */
import { writeFile } from 'node:fs/promises';
import { StreamForgeError } from '@streamforge/core/errors';
import type { TrainSettings } from '@streamforge/core/requests';
import { loadDataset } from './dataset.ts';
import { exportGcnToOnnx } from './onnx-export.ts';
import { MAX_SEED } from './random.ts';
import { nnz } from './sparse.ts';
import { taskFromDataset } from './task.ts';
import { DEFAULT_TRAIN_OPTIONS, trainGcn } from './train.ts';

export const GNN_TRAIN_USAGE = `usage: streamforge gnn train --dataset FILE [options]

Trains a two-layer GCN (Kipf & Welling 2017) and prints one JSON line with the accuracies.

  --dataset FILE          node-classification dataset (JSON, test/fixtures/README.md)
  --epochs N              training epochs, integer ≥ 1 (default ${DEFAULT_TRAIN_OPTIONS.epochs})
  --hidden H              hidden units, integer ≥ 1 (default ${DEFAULT_TRAIN_OPTIONS.hidden})
  --lr L                  Adam learning rate, > 0 (default ${DEFAULT_TRAIN_OPTIONS.learningRate})
  --weight-decay W        L2 weight decay on the first layer, ≥ 0 (default ${DEFAULT_TRAIN_OPTIONS.weightDecay})
  --dropout D             dropout rate in [0, 1) (default ${DEFAULT_TRAIN_OPTIONS.dropout})
  --seed S                random seed, integer in [0, ${MAX_SEED}] (default ${DEFAULT_TRAIN_OPTIONS.seed})
  --early-stopping N      stop when the validation loss exceeds the mean of the last N epochs
  --onnx OUT.onnx         also write the trained model as ONNX
  --help                  show this text
`;

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export interface GnnTrainArgs extends TrainSettings {
  dataset: string;
  earlyStopping: number | null;
  onnx: string | null;
}

class UsageError extends Error {}

const OPTIONS = [
  'dataset',
  'epochs',
  'hidden',
  'lr',
  'weight-decay',
  'dropout',
  'seed',
  'early-stopping',
  'onnx',
] as const;
type OptionName = (typeof OPTIONS)[number];

function integerArg(name: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(
      `--${name}: must be an integer ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in [${min}, ${max}]`}, got "${raw}"`,
    );
  }
  return value;
}

function numberArg(name: string, raw: string, check: (x: number) => boolean, expectation: string): number {
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(value) || !check(value)) throw new UsageError(`--${name}: must be ${expectation}, got "${raw}"`);
  return value;
}

/** Parses `--name value` and `--name=value`; throws UsageError naming the option. */
export function parseGnnTrainArgs(argv: readonly string[]): GnnTrainArgs {
  const raw = new Map<OptionName, string>();
  for (let k = 0; k < argv.length; k++) {
    const token = argv[k];
    if (!token.startsWith('--')) throw new UsageError(`unexpected argument "${token}"`);
    const eq = token.indexOf('=');
    const name = (eq === -1 ? token.slice(2) : token.slice(2, eq)) as OptionName;
    if (!OPTIONS.includes(name)) throw new UsageError(`unknown option ${token.slice(0, eq === -1 ? undefined : eq)}`);
    if (raw.has(name)) throw new UsageError(`--${name}: given twice`);
    let value: string | undefined;
    if (eq !== -1) value = token.slice(eq + 1);
    else {
      value = argv[k + 1];
      k++;
    }
    if (value === undefined || (eq === -1 && value.startsWith('--'))) throw new UsageError(`--${name}: missing value`);
    raw.set(name, value);
  }
  const dataset = raw.get('dataset');
  if (dataset === undefined || dataset === '') throw new UsageError('--dataset: required');
  const get = <T>(name: OptionName, parse: (s: string) => T, fallback: T): T => {
    const s = raw.get(name);
    return s === undefined ? fallback : parse(s);
  };
  const d = DEFAULT_TRAIN_OPTIONS;
  return {
    dataset,
    epochs: get('epochs', (s) => integerArg('epochs', s, 1), d.epochs),
    hidden: get('hidden', (s) => integerArg('hidden', s, 1), d.hidden),
    learningRate: get('lr', (s) => numberArg('lr', s, (x) => x > 0, 'a number > 0'), d.learningRate),
    weightDecay: get('weight-decay', (s) => numberArg('weight-decay', s, (x) => x >= 0, 'a number ≥ 0'), d.weightDecay),
    dropout: get('dropout', (s) => numberArg('dropout', s, (x) => x >= 0 && x < 1, 'a number in [0, 1)'), d.dropout),
    seed: get('seed', (s) => integerArg('seed', s, 0, MAX_SEED), d.seed),
    earlyStopping: get<number | null>('early-stopping', (s) => integerArg('early-stopping', s, 1), null),
    onnx: get<string | null>('onnx', (s) => s, null),
  };
}

const round = (x: number, digits = 4): number => Number(x.toFixed(digits));

/** Runs `gnn train` with `argv` (the words after `gnn train`); resolves to the exit code. */
export async function gnnTrainCommand(argv: string[], io: CommandIo = processIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(GNN_TRAIN_USAGE);
    return 0;
  }
  let args: GnnTrainArgs;
  try {
    args = parseGnnTrainArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`gnn train: ${error.message}\n\n${GNN_TRAIN_USAGE}`);
    return 2;
  }
  try {
    const dataset = await loadDataset(args.dataset);
    const task = taskFromDataset(dataset, { splitSeed: args.seed });
    const result = trainGcn(task, {
      epochs: args.epochs,
      hidden: args.hidden,
      learningRate: args.learningRate,
      weightDecay: args.weightDecay,
      dropout: args.dropout,
      seed: args.seed,
      earlyStopping: args.earlyStopping,
    });
    let onnxBytes: number | null = null;
    if (args.onnx !== null) {
      const bytes = exportGcnToOnnx(result.model);
      await writeFile(args.onnx, bytes);
      onnxBytes = bytes.length;
    }
    const { train, val, test } = result.evaluation;
    const line = {
      dataset: dataset.name,
      nodes: dataset.numNodes,
      edges: dataset.edges.length,
      features: task.features.cols,
      feature_nonzeros: nnz(task.features),
      classes: dataset.numClasses,
      split: task.splitSource,
      train_nodes: task.split.train.length,
      val_nodes: task.split.val.length,
      test_nodes: task.split.test.length,
      train_accuracy: round(train.accuracy),
      val_accuracy: round(val.accuracy),
      test_accuracy: round(test.accuracy),
      train_loss: round(train.loss),
      val_loss: round(val.loss),
      test_loss: round(test.loss),
      seconds: round(result.seconds, 3),
      ms_per_epoch: round((result.seconds * 1000) / result.epochs, 3),
      epochs: result.epochs,
      max_epochs: args.epochs,
      stopped_early: result.stoppedEarly,
      hidden: args.hidden,
      lr: args.learningRate,
      weight_decay: args.weightDecay,
      dropout: args.dropout,
      seed: args.seed,
      early_stopping: args.earlyStopping,
      onnx: args.onnx,
      onnx_bytes: onnxBytes,
    };
    io.stdout(`${JSON.stringify(line)}\n`);
    return 0;
  } catch (error) {
    const message = StreamForgeError.is(error) || error instanceof Error ? error.message : String(error);
    io.stderr(`gnn train: ${message}\n`);
    return 1;
  }
}

if (import.meta.main) {
  process.exitCode = await gnnTrainCommand(process.argv.slice(2));
}
