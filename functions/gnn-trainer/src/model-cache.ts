/**
 * Models loaded for inference: the ONNX bytes and metadata.json read from object storage,
 * an onnxruntime-node session created once per model version and kept in a small LRU cache.
 * A versioned key never changes content (model-keys.ts), so a cached session is never stale.
 * When the cache is full the least recently used model is evicted, and its session released
 * once no request is running on it.
 */
import { declareEnv, envInt } from '@streamforge/core/config';
import { StreamForgeError } from '@streamforge/core/errors';
import { createOnnxSession, type OnnxSession } from '@streamforge/gnn';
import { modelKeys, type ObjectStore } from '@streamforge/core/objects';
import type { ModelMetadata } from './model-artifact.ts';

declareEnv({
  GNN_MODEL_CACHE_SIZE: {
    default: '4',
    description: 'ONNX sessions gnn-trainer keeps for /predict (least recently used released first).',
  },
});

export interface LoadedModel {
  modelId: string;
  version: number;
  key: string;
  metadata: ModelMetadata;
  session: OnnxSession;
}

export interface ModelCache {
  /** Runs `fn` with the model of (modelId, version), from the cache or loaded from object storage. */
  use<T>(modelId: string, version: number, fn: (model: LoadedModel) => Promise<T>): Promise<T>;
  /** Keys of the cached models, least recently used first. */
  keys(): string[];
  /** Models loaded from object storage since start (cache misses). */
  readonly loads: number;
  close(): Promise<void>;
}

interface Entry {
  model: Promise<LoadedModel>;
  users: number;
  evicted: boolean;
}

export function createModelCache(objects: ObjectStore, capacity = envInt('GNN_MODEL_CACHE_SIZE')): ModelCache {
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new StreamForgeError('SF_CONFIG_INVALID', `GNN_MODEL_CACHE_SIZE: must be an integer >= 1, got ${capacity}`);
  const entries = new Map<string, Entry>();
  let loads = 0;

  async function fetchModel(modelId: string, version: number): Promise<LoadedModel> {
    const keys = modelKeys(modelId, version);
    const [onnx, metadataBytes] = await Promise.all([objects.get(keys.onnx), objects.get(keys.metadata)]);
    const metadata = JSON.parse(new TextDecoder().decode(metadataBytes)) as ModelMetadata;
    const session = await createOnnxSession(onnx);
    loads++;
    return { modelId, version, key: keys.onnx, metadata, session };
  }

  const release = (entry: Entry): void => {
    entry.model
      .then(
        (m) => m.session.release(),
        () => undefined,
      )
      .catch(() => undefined);
  };

  function entryOf(modelId: string, version: number): Entry {
    const key = modelKeys(modelId, version).onnx;
    const cached = entries.get(key);
    if (cached) {
      // Most recently used goes last (a Map keeps insertion order).
      entries.delete(key);
      entries.set(key, cached);
      return cached;
    }
    const entry: Entry = { model: fetchModel(modelId, version), users: 0, evicted: false };
    entries.set(key, entry);
    // A failed load is not cached: the next request tries again.
    entry.model.catch(() => {
      if (entries.get(key) === entry) entries.delete(key);
    });
    while (entries.size > capacity) {
      const [oldest, evicted] = entries.entries().next().value as [string, Entry];
      entries.delete(oldest);
      evicted.evicted = true;
      if (evicted.users === 0) release(evicted);
    }
    return entry;
  }

  return {
    async use(modelId, version, fn) {
      const entry = entryOf(modelId, version);
      entry.users++;
      try {
        return await fn(await entry.model);
      } finally {
        entry.users--;
        if (entry.evicted && entry.users === 0) release(entry);
      }
    },
    keys: () => [...entries.keys()],
    get loads() {
      return loads;
    },
    async close() {
      const all = [...entries.values()];
      entries.clear();
      for (const entry of all) entry.evicted = true;
      await Promise.all(
        all
          .filter((e) => e.users === 0)
          .map((e) =>
            e.model.then(
              (m) => m.session.release(),
              () => undefined,
            ),
          ),
      );
    },
  };
}
