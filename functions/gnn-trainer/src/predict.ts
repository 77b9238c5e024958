/**
 * Inference: a trained model scores a graph with onnxruntime-node. The request names the
 * model (`model_id` and optionally `version`, else the latest ready version; or its
 * `model_key` in object storage) and the graph (`graph_id` and optionally `window`, else the
 * set's latest window; or an inline `graph` of vertices with raw features and weighted
 * edges). Features are prepared exactly as for training (row normalisation for datasets,
 * the training standardisation for graph sets) from the model's metadata.json.
 *
 * Served as `POST /predict` (routes.ts) and as the CloudEvent `dev.streamforge.gnn.predict`,
 * answered with a `dev.streamforge.gnn.prediction` CloudEvent (index.ts).
 */
import { defineContract } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import {
  argmaxRows,
  csrFromDense,
  normalizedAdjacency,
  predictWithOnnx,
  prepareFeatures,
  toDense,
  type Edge,
} from '@streamforge/gnn';
import { parseModelKey } from '@streamforge/core/objects';
import { MODEL_ID_PATTERN, type GraphStore, type ModelStore } from '@streamforge/core/store';
import { standardized } from './graph-task.ts';
import type { ModelCache } from './model-cache.ts';

export const PREDICT_EVENT_TYPES = {
  request: 'dev.streamforge.gnn.predict',
  reply: 'dev.streamforge.gnn.prediction',
} as const;

export interface InlineGraph {
  vertices: Array<{ symbol: string; features: number[] }>;
  edges?: Array<{ from: string; to: string; weight?: number }>;
}

export interface PredictRequest {
  model_id?: string;
  version?: number;
  model_key?: string;
  graph_id?: string;
  window?: number;
  graph?: InlineGraph;
}

export interface Prediction {
  symbol: string;
  /** One per class, in `classes` order. */
  probabilities: number[];
  class: string;
}

export interface PredictResponse {
  model_id: string;
  version: number;
  model_key: string;
  task: string;
  classes: string[];
  graph_id?: string;
  window?: number;
  window_start?: number;
  window_end?: number;
  predictions: Prediction[];
}

export const predictRequestSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model_id: { type: 'string', pattern: MODEL_ID_PATTERN },
    version: { type: 'integer', minimum: 1 },
    model_key: { type: 'string', minLength: 1, maxLength: 1024 },
    graph_id: { type: 'string', minLength: 1, maxLength: 256 },
    window: { type: 'integer', minimum: 0 },
    graph: {
      type: 'object',
      additionalProperties: false,
      required: ['vertices'],
      properties: {
        vertices: {
          type: 'array',
          minItems: 1,
          maxItems: 10_000,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['symbol', 'features'],
            properties: {
              symbol: { type: 'string', minLength: 1, maxLength: 64 },
              features: { type: 'array', maxItems: 100_000, items: { type: 'number' } },
            },
          },
        },
        edges: {
          type: 'array',
          maxItems: 100_000,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['from', 'to'],
            properties: {
              from: { type: 'string' },
              to: { type: 'string' },
              weight: { type: 'number', exclusiveMinimum: 0 },
            },
          },
        },
      },
    },
  },
} as const;

const requestContract = defineContract<PredictRequest>('predict request', predictRequestSchema);

export interface PredictDeps {
  store: GraphStore & ModelStore;
  cache: ModelCache;
}

function invalid(field: string, reason: string): StreamForgeError {
  return new StreamForgeError('SF_CONTRACT_INVALID', `${field}: ${reason}`, {
    details: { errors: [{ field, reason }] },
  });
}

/** The model version a request names. */
async function resolveModel(store: ModelStore, request: PredictRequest): Promise<{ modelId: string; version: number }> {
  if ((request.model_key === undefined) === (request.model_id === undefined))
    throw invalid('model_id', 'name exactly one of model_id (with an optional version) or model_key');
  if (request.model_key !== undefined) {
    if (request.version !== undefined) throw invalid('version', 'goes with model_id; a model_key names its version');
    return parseModelKey(request.model_key);
  }
  if (request.version !== undefined) return { modelId: request.model_id!, version: request.version };
  const latest = await store.getModel(request.model_id!);
  if (!latest) throw new StreamForgeError('SF_NOT_FOUND', `model_id: no ready model ${request.model_id}`);
  return { modelId: latest.model_id, version: latest.version };
}

interface GraphInput {
  symbols: string[];
  rows: number[][];
  edges: Edge[];
  weights: number[];
  context: Pick<PredictResponse, 'graph_id' | 'window' | 'window_start' | 'window_end'>;
  featureNames?: string[];
}

/** The graph a request names: a stored window (the latest by default) or the inline graph. */
async function resolveGraph(store: GraphStore, request: PredictRequest): Promise<GraphInput> {
  if ((request.graph_id === undefined) === (request.graph === undefined))
    throw invalid(
      'graph_id',
      'name exactly one of graph_id (with an optional window) or graph (inline vertices and edges)',
    );
  if (request.graph !== undefined) {
    if (request.window !== undefined) throw invalid('window', 'goes with graph_id');
    const symbols = request.graph.vertices.map((v) => v.symbol);
    const index = new Map(symbols.map((s, i) => [s, i]));
    if (index.size !== symbols.length) throw invalid('graph.vertices', 'names a symbol twice');
    const edges: Edge[] = [];
    const weights: number[] = [];
    (request.graph.edges ?? []).forEach((e, k) => {
      const u = index.get(e.from);
      const v = index.get(e.to);
      if (u === undefined || v === undefined)
        throw invalid(`graph.edges[${k}]`, `${u === undefined ? e.from : e.to} is not a vertex`);
      edges.push([u, v]);
      weights.push(e.weight ?? 1);
    });
    return { symbols, rows: request.graph.vertices.map((v) => v.features), edges, weights, context: {} };
  }
  const set = await store.getGraphSet(request.graph_id!);
  if (!set) throw new StreamForgeError('SF_NOT_FOUND', `graph_id: no graph set ${request.graph_id}`);
  let window = request.window;
  let graph = await store.readGraph(set.graph_id, { window: window ?? Math.max(0, set.windows - 1) });
  if (window === undefined && graph && graph.windows.length === 0) {
    graph = await store.readGraph(set.graph_id);
  }
  const w = graph?.windows.at(-1);
  if (!w)
    throw new StreamForgeError(
      'SF_NOT_FOUND',
      `window: graph set ${set.graph_id} has no stored window${window === undefined ? '' : ` ${window}`}`,
    );
  window = w.window;
  const index = new Map(w.vertices.map((v, i) => [v.symbol, i]));
  return {
    symbols: w.vertices.map((v) => v.symbol),
    rows: w.vertices.map((v) => v.features),
    edges: w.edges.map((e): Edge => [index.get(e.from)!, index.get(e.to)!]),
    weights: w.edges.map((e) => e.weight),
    context: { graph_id: set.graph_id, window, window_start: w.start, window_end: w.end },
    featureNames: set.feature_names,
  };
}

export async function predict(deps: PredictDeps, body: unknown): Promise<PredictResponse> {
  const request = requestContract.parse(body ?? {});
  const { modelId, version } = await resolveModel(deps.store, request);
  const graph = await resolveGraph(deps.store, request);
  return deps.cache.use(modelId, version, async (model) => {
    const { features, classes } = model.metadata;
    const width = features.count;
    if (graph.featureNames && features.names && graph.featureNames.join() !== features.names.join()) {
      throw invalid(
        'graph_id',
        `its features (${graph.featureNames.join(', ')}) are not the model's (${features.names.join(', ')})`,
      );
    }
    graph.rows.forEach((row, i) => {
      if (row.length !== width)
        throw invalid(`graph.vertices[${i}].features`, `has ${row.length} values, the model takes ${width}`);
    });
    const raw =
      features.normalization === 'row'
        ? toDense(prepareFeatures(csrFromDense(graph.rows, graph.rows.length, width), 'row'))
        : undefined;
    const rows = raw
      ? Array.from({ length: graph.rows.length }, (_, i) => [...raw.subarray(i * width, (i + 1) * width)])
      : graph.rows;
    const x = standardized(rows, width, features.standardization);
    const adjacency = normalizedAdjacency({
      numNodes: graph.symbols.length,
      edges: graph.edges,
      weights: graph.weights,
    });
    const probabilities = await predictWithOnnx(model.session, adjacency, x, 'probabilities');
    const c = classes.length;
    const best = argmaxRows(probabilities, c);
    return {
      model_id: modelId,
      version,
      model_key: model.key,
      task: model.metadata.task,
      classes,
      ...graph.context,
      predictions: graph.symbols.map((symbol, i) => ({
        symbol,
        probabilities: [...probabilities.subarray(i * c, (i + 1) * c)],
        class: classes[best[i]!]!,
      })),
    };
  });
}
