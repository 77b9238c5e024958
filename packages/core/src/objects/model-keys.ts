/**
 * Where a trained model lives in object storage: one folder per version, never rewritten by
 * another version, so a key names exactly one model and a cached session never goes stale.
 *
 *   models/<model_id>/v<version>/model.onnx      the ONNX graph (onnxruntime-node loads it)
 *   models/<model_id>/v<version>/metadata.json   metrics, hyperparameters, graph id, data range, …
 */
import { StreamForgeError } from '../errors.ts';
import { checkModelId, checkModelVersion } from '../store/graph-checks.ts';

export const MODELS_PREFIX = 'models/';
export const MODEL_FILE = 'model.onnx';
export const METADATA_FILE = 'metadata.json';

export interface ModelKeys {
  /** `models/<id>/v<version>/` */
  prefix: string;
  onnx: string;
  metadata: string;
}

export function modelKeys(modelId: string, version: number): ModelKeys {
  checkModelId(modelId);
  checkModelVersion(version);
  const prefix = `${MODELS_PREFIX}${modelId}/v${version}/`;
  return { prefix, onnx: `${prefix}${MODEL_FILE}`, metadata: `${prefix}${METADATA_FILE}` };
}

const MODEL_KEY = /^models\/([a-zA-Z][a-zA-Z0-9_-]{0,127})\/v([1-9][0-9]{0,8})\/(model\.onnx|metadata\.json)$/;

/** The model and version a key of this layout names; SF_CONTRACT_INVALID for any other key. */
export function parseModelKey(key: string, field = 'model_key'): { modelId: string; version: number } {
  const match = MODEL_KEY.exec(key);
  if (!match)
    throw new StreamForgeError(
      'SF_CONTRACT_INVALID',
      `${field}: "${key}" is not a model key (models/<model_id>/v<version>/model.onnx)`,
      { details: { field } },
    );
  return { modelId: match[1]!, version: Number(match[2]) };
}
