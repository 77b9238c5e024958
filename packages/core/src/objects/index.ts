/** `@streamforge/core/objects`: object storage (S3 protocol through the minio client) and the model layout in it. */
export { BUCKET_PATTERN, objectStoreConfig, type ObjectStoreConfig } from './object-config.ts';
export { checkObjectKey } from './object-key.ts';
export {
  objectStoreError,
  openObjectStore,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
} from './object-store.ts';
export { METADATA_FILE, MODEL_FILE, MODELS_PREFIX, modelKeys, parseModelKey, type ModelKeys } from './model-keys.ts';
