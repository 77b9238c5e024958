/**
 * gnn-trainer's work for one start command: load the graph set (or the dataset), evaluate
 * (walk-forward with baselines, or the dataset's split), train the model to publish, export
 * it to ONNX checked against TypeScript, store model.onnx and metadata.json under a new
 * version, record it, and report telemetry: `started`, `loading` with epochs done of total
 * and the latest loss (cumulative, throttled; sent between training runs, since a run holds
 * the CPU), `finished` with the metrics.
 */
import type { StartCommand } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import { taskFromDataset, validateDataset, type EpochStats, type GcnModel, type GcnTask } from '@streamforge/gnn';
import { modelKeys, type ObjectStore } from '@streamforge/core/objects';
import { hyperparameters, parseTrainRequest, type TrainRequest } from '@streamforge/core/requests';
import type { Store } from '@streamforge/core/store';
import { createReportThrottle, type Logger } from '@streamforge/core/telemetry';
import { commandTelemetryBase, reportFinalFailure, type TelemetryEmitter } from '@streamforge/core/bus';
import { standardizationOf, unionOf, unionTask } from './graph-task.ts';
import { exportChecked, onnxDescription, publishModel, reserveVersion, type ModelMetadata } from './model-artifact.ts';
import { labelledWindows, labelsKnownAt, testBlocks, trainKeepingLast, walkForward } from './walk-forward.ts';

export const SERVICE = 'gnn-trainer';
const reports = createReportThrottle(250);

export interface TrainerDeps {
  store: Store;
  objects: ObjectStore;
  telemetry: TelemetryEmitter;
  logger: Logger;
  clock?: () => number;
}

/** Epochs run so far of those planned, and the latest loss: what `loading` reports. */
export type Progress = (run: { phase: string; epochs: number; last: EpochStats | undefined }) => Promise<void>;

interface Trained {
  model: GcnModel;
  /** The task the model was trained on: the ONNX check runs on it. */
  task: GcnTask;
  lastLoss: number;
  metadata: Pick<ModelMetadata, 'task' | 'classes' | 'features' | 'metrics'> &
    Partial<Pick<ModelMetadata, 'graph_id' | 'dataset' | 'data_range' | 'curves'>>;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function invalid(field: string, reason: string): StreamForgeError {
  return new StreamForgeError('SF_CONTRACT_INVALID', `${field}: ${reason}`, {
    details: { errors: [{ field, reason }] },
  });
}

/** Walk-forward evaluation on the graph set, then the model to publish, trained on every labelled window. */
async function trainOnGraph(
  deps: TrainerDeps,
  request: TrainRequest & { source: { kind: 'graph' } },
  progress: Progress,
  plan: (epochs: number) => Promise<void>,
): Promise<Trained> {
  const graph = await deps.store.readGraph(request.source.graphId);
  if (!graph)
    throw invalid(
      'graph_id',
      `no graph set ${request.source.graphId} in the store; build it first (a graph_correlation workflow)`,
    );
  // Still being built (or rebuilt): SF_BUSY, whose disposition is retry, so the start command comes again later.
  if (graph.set.status !== 'complete')
    throw new StreamForgeError('SF_BUSY', `graph_id: graph set ${request.source.graphId} is still being built`);
  const labelled = labelledWindows(graph.windows);
  if (labelled.length < 2)
    throw invalid(
      'graph_id',
      `graph set ${request.source.graphId} has ${labelled.length} labelled windows; a walk-forward evaluation needs at least 2`,
    );
  const numFeatures = graph.set.feature_names.length;
  const initial = Math.max(
    1,
    Math.min(labelled.length - 1, request.minTrainWindows ?? Math.floor(labelled.length / 2)),
  );
  await plan(request.train.epochs * (2 * testBlocks(labelled.length, initial, request.folds).length + 1));

  const evaluation = await walkForward(graph.windows, {
    folds: request.folds,
    ...(request.minTrainWindows === undefined ? {} : { minTrainWindows: request.minTrainWindows }),
    train: request.train,
    numFeatures,
    onRun: (run) => progress({ phase: `fold ${run.fold} ${run.model}`, epochs: run.epochs, last: run.last }),
  });

  const union = unionOf(labelled);
  const trainNodes = union.nodes.flatMap((n, i) => (n.label === -1 ? [] : [i]));
  const standardization = standardizationOf(
    trainNodes.map((i) => union.nodes[i]!.features),
    numFeatures,
  );
  const task = unionTask(union, { name: request.source.graphId, numFeatures, standardization, train: trainNodes });
  const { result, last, curve } = trainKeepingLast(task, request.train);
  await progress({ phase: 'final', epochs: result.epochs, last });
  // Not Math.max(...all labels): spreading hundreds of thousands of arguments overflows the stack.
  const knownAt = labelled.reduce((latest, w) => Math.max(latest, labelsKnownAt(w)), -Infinity);
  return {
    model: result.model,
    task,
    lastLoss: last?.loss ?? Number.NaN,
    metadata: {
      task: 'next_window_direction',
      graph_id: request.source.graphId,
      data_range: { start: iso(labelled[0]!.start), end: iso(knownAt) },
      classes: ['down', 'up'],
      features: { count: numFeatures, names: graph.set.feature_names, normalization: 'none', standardization },
      curves: { final: curve },
      metrics: {
        walk_forward: evaluation,
        final: {
          windows: labelled.length,
          vertices: trainNodes.length,
          train_accuracy: result.evaluation.train.accuracy,
          train_loss: result.evaluation.train.loss,
          seconds: result.seconds,
        },
        graph: { windows: graph.set.windows, params: graph.set.params },
      },
    },
  };
}

/** The dataset's own split: the GCN against the same network without edges and the majority class. */
async function trainOnDataset(
  deps: TrainerDeps,
  request: TrainRequest & { source: { kind: 'dataset' } },
  progress: Progress,
  plan: (epochs: number) => Promise<void>,
): Promise<Trained> {
  let bytes: Uint8Array;
  try {
    bytes = await deps.objects.get(request.source.key);
  } catch (error) {
    if (StreamForgeError.is(error) && error.code === 'SF_NOT_FOUND')
      throw invalid('dataset', `no object ${request.source.key} in bucket ${deps.objects.bucket}`);
    throw error;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw invalid('dataset', `${request.source.key} is not JSON: ${(error as Error).message}`);
  }
  const dataset = validateDataset(doc);
  const task = taskFromDataset(dataset, { splitSeed: request.train.seed });
  await plan(2 * request.train.epochs);
  const { result, last, curve } = trainKeepingLast(task, request.train);
  await progress({ phase: 'gcn', epochs: result.epochs, last });
  const lastLoss = last?.loss ?? Number.NaN;
  const {
    result: noGraph,
    last: noGraphLast,
    curve: noGraphCurve,
  } = trainKeepingLast(
    {
      ...task,
      ...taskFromDataset({ ...dataset, edges: [], edgeWeights: null }, { splitSeed: request.train.seed }),
      split: task.split,
    },
    request.train,
  );
  await progress({ phase: 'no_graph', epochs: noGraph.epochs, last: noGraphLast });
  const counts = new Array<number>(dataset.numClasses).fill(0);
  for (const i of task.split.train) counts[task.labels[i]!]!++;
  const majority = counts.indexOf(Math.max(...counts));
  const test = [...task.split.test];
  return {
    model: result.model,
    task,
    lastLoss,
    metadata: {
      task: 'node_classification',
      dataset: request.source.key,
      classes: Array.from({ length: dataset.numClasses }, (_, c) => String(c)),
      features: { count: task.features.cols, normalization: task.featureNormalization, standardization: null },
      curves: { gcn: curve, no_graph: noGraphCurve },
      metrics: {
        split: {
          source: task.splitSource,
          train: task.split.train.length,
          val: task.split.val.length,
          test: task.split.test.length,
        },
        gcn: {
          train_accuracy: result.evaluation.train.accuracy,
          val_accuracy: result.evaluation.val.accuracy,
          test_accuracy: result.evaluation.test.accuracy,
          seconds: result.seconds,
        },
        no_graph: { test_accuracy: noGraph.evaluation.test.accuracy },
        majority: {
          class: majority,
          test_accuracy:
            test.length === 0 ? Number.NaN : test.filter((i) => task.labels[i] === majority).length / test.length,
        },
      },
    },
  };
}

/** Handles a start command addressed to gnn-trainer, from first to last telemetry. */
export async function trainFromCommand(deps: TrainerDeps, command: StartCommand): Promise<ModelMetadata | undefined> {
  const clock = deps.clock ?? Date.now;
  const base = commandTelemetryBase(command, SERVICE);
  const workflow = await deps.store.getWorkflow(command.queue_id);
  if (workflow && (workflow.status === 'stopped' || workflow.status === 'error')) return undefined;
  const fail = async (error: unknown): Promise<never> => {
    // What trying again cannot fix (its code's disposition: input that can never train, a model
    // that fails its check) ends the workflow; the rest (store or S3 down, a graph still being
    // built) is retried, and the workflow waits for it.
    await reportFinalFailure(deps.telemetry, base, error);
    throw error;
  };
  let request: TrainRequest;
  try {
    request = parseTrainRequest(command);
  } catch (error) {
    return fail(error);
  }
  const startedAt = clock();
  await deps.telemetry.emit({
    ...base,
    status: 'started',
    message: `training ${request.modelId} on ${request.source.kind === 'graph' ? `graph ${request.source.graphId}` : `dataset ${request.source.key}`}`,
    model_id: request.modelId,
  });

  let total = 0;
  let done = 0;
  const progress: Progress = async ({ phase, epochs, last }) => {
    done += epochs;
    if (!reports.due(command.queue_id)) return;
    await deps.telemetry.emit({
      ...base,
      status: 'loading',
      message: `${phase}: ${epochs} epochs, loss ${last?.loss.toFixed(4) ?? 'n/a'}`,
      progress: { done, total: Math.max(total, done), unit: 'epochs' },
      phase,
      epoch: last?.epoch ?? 0,
      loss: last?.loss ?? null,
    });
  };
  let version = 0;
  // Once the data is loaded and checked (so a request that cannot train reserves nothing):
  // the epochs to run, and the version to train.
  const plan = async (epochs: number): Promise<void> => {
    total = epochs;
    version = await reserveVersion(
      deps.store,
      request.modelId,
      request.queueId,
      startedAt,
      (v) => modelKeys(request.modelId, v).onnx,
    );
  };

  let trained: Trained;
  try {
    trained =
      request.source.kind === 'graph'
        ? await trainOnGraph(deps, request as TrainRequest & { source: { kind: 'graph' } }, progress, plan)
        : await trainOnDataset(deps, request as TrainRequest & { source: { kind: 'dataset' } }, progress, plan);
  } catch (error) {
    return fail(error);
  }

  let metadata: ModelMetadata;
  try {
    const { bytes, maxAbsDiff } = await exportChecked(trained.model, trained.task);
    metadata = {
      model_id: request.modelId,
      version,
      format: 'onnx',
      created_at: iso(clock()),
      queue_id: request.queueId,
      ...trained.metadata,
      hyperparameters: hyperparameters(request),
      onnx: onnxDescription(modelKeys(request.modelId, version).onnx, bytes, maxAbsDiff),
    } as ModelMetadata;
    await publishModel(deps, bytes, metadata, startedAt, clock());
  } catch (error) {
    return fail(error);
  }

  const summary = summarize(metadata);
  await deps.telemetry.emit({
    ...base,
    status: 'finished',
    message: `model ${metadata.model_id} v${metadata.version}: ${summary}`,
    progress: { done: Math.max(total, done), total: Math.max(total, done), unit: 'epochs' },
    loss: Number.isFinite(trained.lastLoss) ? trained.lastLoss : null,
    model_id: metadata.model_id,
    version: metadata.version,
    s3_key: metadata.onnx.key,
    metrics: metadata.metrics,
  });
  deps.logger.info(
    { queue_id: request.queueId, model_id: metadata.model_id, version: metadata.version, summary },
    'model trained and published',
  );
  return metadata;
}

/** One line of the headline numbers. */
export function summarize(metadata: ModelMetadata): string {
  const pct = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : 'n/a');
  const m = metadata.metrics as Record<string, Record<string, { accuracy?: number; test_accuracy?: number }>>;
  if (metadata.task === 'next_window_direction') {
    const wf = m.walk_forward!;
    return `walk-forward direction accuracy GCN ${pct(wf.gcn?.accuracy)}, no-graph ${pct(wf.no_graph?.accuracy)}, majority ${pct(wf.majority?.accuracy)} over ${(wf.gcn as { total?: number } | undefined)?.total ?? 0} test vertices`;
  }
  return `test accuracy GCN ${pct(m.gcn?.test_accuracy)}, no-graph ${pct(m.no_graph?.test_accuracy)}, majority ${pct(m.majority?.test_accuracy)}`;
}
