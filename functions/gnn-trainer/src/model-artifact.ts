/**
 * A trained model as an artifact: exported to ONNX, checked against the TypeScript forward
 * pass (onnxruntime-node must reproduce it to 1e-4, or the model is not published), written
 * to object storage under its versioned key with its metadata, and recorded in the store.
 *
 * A version is reserved in the registry before training (`training`, insert-only), so two
 * trainings of one model never share a version; a redelivered command of the same workflow
 * finds its reservation and writes the same version again instead of a new one.
 */
import { createHash } from 'node:crypto';
import { StreamForgeError } from '@streamforge/core/errors';
import {
  createOnnxSession,
  exportGcnToOnnx,
  ONNX_INPUTS,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  ONNX_OUTPUTS,
  onnxFeeds,
  predictLogits,
  runOnnx,
  softmaxRows,
  type GcnModel,
  type GcnTask,
} from '@streamforge/gnn';
import { modelKeys, type ObjectStore } from '@streamforge/core/objects';
import type { ModelRecord, ModelStore } from '@streamforge/core/store';
import type { CurvePoint } from './walk-forward.ts';

/** The largest difference between onnxruntime-node and the TypeScript forward pass a model may show. */
export const ONNX_TOLERANCE = 1e-4;

export interface ModelMetadata {
  model_id: string;
  version: number;
  format: 'onnx';
  task: 'next_window_direction' | 'node_classification';
  created_at: string;
  queue_id: string;
  graph_id?: string;
  dataset?: string;
  /** The data the model learned from: the first window's start to the last labelled window's label. */
  data_range?: { start: string; end: string };
  classes: string[];
  features: {
    count: number;
    names?: string[];
    /** How raw features became the model's input: row normalisation, then standardisation. */
    normalization: 'none' | 'row';
    standardization: { mean: number[]; std: number[] } | null;
  };
  hyperparameters: Record<string, number>;
  metrics: Record<string, unknown>;
  /** Training curves per model trained (`final`; `gcn`, `no_graph` on a dataset): loss and accuracies by epoch. */
  curves?: Record<string, CurvePoint[]>;
  onnx: {
    key: string;
    bytes: number;
    sha256: string;
    ir_version: number;
    opset: number;
    inputs: typeof ONNX_INPUTS;
    outputs: typeof ONNX_OUTPUTS;
    max_abs_diff_vs_typescript: number;
  };
}

/** The version this workflow trains: its own reservation if it has one (a redelivery), else the next free one. */
export async function reserveVersion(
  store: ModelStore,
  modelId: string,
  queueId: string,
  now: number,
  s3Key: (version: number) => string,
): Promise<number> {
  const versions = await store.listModels({ model_id: modelId, limit: 10_000 });
  const mine = versions.find((m) => m.queue_id === queueId);
  if (mine) return mine.version;
  let version = Math.max(0, ...versions.map((m) => m.version)) + 1;
  for (let attempt = 0; attempt < 50; attempt++, version++) {
    const record: ModelRecord = {
      model_id: modelId,
      version,
      status: 'training',
      s3_key: s3Key(version),
      queue_id: queueId,
      metadata: {},
      created_at: now,
      updated_at: now,
    };
    if (await store.recordModel(record, { onlyIfAbsent: true })) return version;
  }
  // Other trainings of the model took every version tried: they end, and a later attempt finds one.
  throw new StreamForgeError(
    'SF_BUSY',
    `model_name: could not reserve a version of ${modelId} (too many trainings at once)`,
  );
}

/** Largest |a − b| over two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/**
 * The model's ONNX bytes, after onnxruntime-node ran them on `task` and matched the
 * TypeScript forward pass (logits and probabilities) within ONNX_TOLERANCE.
 */
export async function exportChecked(
  model: GcnModel,
  task: GcnTask,
): Promise<{ bytes: Uint8Array; maxAbsDiff: number }> {
  const bytes = exportGcnToOnnx(model);
  const session = await createOnnxSession(bytes);
  try {
    const logits = predictLogits(model, task.adjacency, task.features);
    const probabilities = softmaxRows(logits, model.config.numClasses);
    const feeds = onnxFeeds(task.adjacency, task.features); // dense features: built once for both outputs
    const diff = Math.max(
      maxAbsDiff(await runOnnx(session, feeds, 'logits'), logits),
      maxAbsDiff(await runOnnx(session, feeds, 'probabilities'), probabilities),
    );
    if (!(diff <= ONNX_TOLERANCE)) {
      throw new StreamForgeError(
        'SF_MODEL_CHECK_FAILED',
        `onnx: onnxruntime-node differs from the TypeScript forward pass by ${diff} (more than ${ONNX_TOLERANCE}); the model is not published`,
        { details: { stage: 'onnx_check' } },
      );
    }
    return { bytes, maxAbsDiff: diff };
  } finally {
    await session.release();
  }
}

export function onnxDescription(key: string, bytes: Uint8Array, diff: number): ModelMetadata['onnx'] {
  return {
    key,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    ir_version: ONNX_IR_VERSION,
    opset: ONNX_OPSET,
    inputs: ONNX_INPUTS,
    outputs: ONNX_OUTPUTS,
    max_abs_diff_vs_typescript: diff,
  };
}

/** Writes model.onnx and metadata.json, then marks the version ready in the registry (the record last: it points at objects that exist). */
export async function publishModel(
  deps: { store: ModelStore; objects: ObjectStore },
  onnx: Uint8Array,
  metadata: ModelMetadata,
  createdAt: number,
  now: number,
): Promise<ModelRecord> {
  const keys = modelKeys(metadata.model_id, metadata.version);
  await deps.objects.put(keys.onnx, onnx, { contentType: 'application/octet-stream' });
  await deps.objects.put(keys.metadata, `${JSON.stringify(metadata, null, 2)}\n`, { contentType: 'application/json' });
  const record: ModelRecord = {
    model_id: metadata.model_id,
    version: metadata.version,
    status: 'ready',
    s3_key: keys.onnx,
    queue_id: metadata.queue_id,
    metadata: metadata as unknown as Record<string, unknown>,
    created_at: createdAt,
    updated_at: now,
  };
  await deps.store.recordModel(record);
  return record;
}
