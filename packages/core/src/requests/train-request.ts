/**
 * What a `gnn_train` start command asks for: gnn-trainer takes it with this function, and
 * queue-manager refuses at the door what it refuses. The manager passes the workflow's
 * `params` through as fields of the command:
 *
 *   graph_id        a graph set built by graph-builder (task: next-window direction), or
 *   dataset         a node-classification dataset in object storage: a key (datasets/x.json)
 *                   or a name (x → datasets/x.json), in the GNN library's dataset format
 *   model_name      the model id (default: the graph id or the dataset name)
 *   epochs, hidden, lr, weight_decay, dropout, seed   GCN training (defaults: Kipf & Welling's)
 *   folds           walk-forward test blocks of a graph (default 4)
 *   min_train_windows  labelled windows before the first test block (default: half)
 */
import { defineContract, type StartCommand } from '../contracts/index.ts';
import { invalidField } from './field-refusal.ts';
import { DEFAULT_TRAIN_OPTIONS, MAX_SEED, type TrainSettings } from './train-defaults.ts';
import { checkObjectKey } from '../objects/object-key.ts';
import { checkGraphId, checkModelId, MODEL_ID_PATTERN } from '../store/graph-checks.ts';

export type TrainSource = { kind: 'graph'; graphId: string } | { kind: 'dataset'; key: string; name: string };

export interface TrainRequest {
  queueId: string;
  source: TrainSource;
  modelId: string;
  train: TrainSettings;
  folds: number;
  minTrainWindows?: number;
}

interface TrainParams {
  graph_id?: string;
  dataset?: string;
  model_name?: string;
  epochs?: number;
  hidden?: number;
  lr?: number;
  weight_decay?: number;
  dropout?: number;
  seed?: number;
  folds?: number;
  min_train_windows?: number;
}

const PARAM_NAMES = [
  'graph_id',
  'dataset',
  'model_name',
  'epochs',
  'hidden',
  'lr',
  'weight_decay',
  'dropout',
  'seed',
  'folds',
  'min_train_windows',
] as const;

const paramsContract = defineContract<TrainParams>('gnn_train params', {
  type: 'object',
  additionalProperties: false,
  properties: {
    graph_id: { type: 'string', minLength: 1 },
    dataset: { type: 'string', minLength: 1, maxLength: 1024 },
    model_name: { type: 'string', pattern: MODEL_ID_PATTERN },
    epochs: { type: 'integer', minimum: 1, maximum: 10_000 },
    hidden: { type: 'integer', minimum: 1, maximum: 1024 },
    lr: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
    weight_decay: { type: 'number', minimum: 0, maximum: 1 },
    dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
    seed: { type: 'integer', minimum: 0, maximum: MAX_SEED },
    folds: { type: 'integer', minimum: 1, maximum: 50 },
    min_train_windows: { type: 'integer', minimum: 1 },
  },
});

/** A dataset key of object storage: a name means datasets/<name>.json. */
export function datasetKey(dataset: string): { key: string; name: string } {
  const key = dataset.includes('/') ? dataset : `datasets/${dataset}.json`;
  checkObjectKey(key, 'dataset');
  const name = key.slice(key.lastIndexOf('/') + 1).replace(/\.json$/, '');
  return { key, name };
}

/** A model id from a graph id or dataset name: what the model pattern allows of it. */
function modelIdOf(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 128);
  return /^[a-zA-Z]/.test(cleaned) ? cleaned : `m_${cleaned}`.slice(0, 128);
}

export function parseTrainRequest(command: StartCommand): TrainRequest {
  const params = paramsContract.parse(
    Object.fromEntries(PARAM_NAMES.filter((name) => command[name] !== undefined).map((name) => [name, command[name]])),
  );
  if ((params.graph_id === undefined) === (params.dataset === undefined))
    throw invalidField(
      'graph_id',
      'name exactly one of graph_id (a built graph) or dataset (a node-classification file in object storage)',
    );
  const source: TrainSource =
    params.graph_id !== undefined
      ? { kind: 'graph', graphId: checkGraphId(params.graph_id) }
      : { kind: 'dataset', ...datasetKey(params.dataset!) };
  const modelId = checkModelId(
    params.model_name ?? modelIdOf(source.kind === 'graph' ? source.graphId : source.name),
    'model_name',
  );
  return {
    queueId: command.queue_id,
    source,
    modelId,
    train: {
      epochs: params.epochs ?? DEFAULT_TRAIN_OPTIONS.epochs,
      hidden: params.hidden ?? DEFAULT_TRAIN_OPTIONS.hidden,
      learningRate: params.lr ?? DEFAULT_TRAIN_OPTIONS.learningRate,
      weightDecay: params.weight_decay ?? DEFAULT_TRAIN_OPTIONS.weightDecay,
      dropout: params.dropout ?? DEFAULT_TRAIN_OPTIONS.dropout,
      seed: params.seed ?? DEFAULT_TRAIN_OPTIONS.seed,
    },
    folds: params.folds ?? 4,
    ...(params.min_train_windows === undefined ? {} : { minTrainWindows: params.min_train_windows }),
  };
}

/** The hyperparameters as the metadata records them (the command's names). */
export function hyperparameters(request: TrainRequest): Record<string, number> {
  const t = request.train;
  return {
    epochs: t.epochs,
    hidden: t.hidden,
    lr: t.learningRate,
    weight_decay: t.weightDecay,
    dropout: t.dropout,
    seed: t.seed,
    folds: request.folds,
  };
}
