/**
 * Candles to graphs to a trained GNN to predictions, end to end on real components:
 * `streamforge up` with the exchange simulator (a stand-in for Binance), the queue-manager
 * API, loader-api and arango-connector (backfill), graph-builder, gnn-trainer with
 * onnxruntime-node, the SQLite store and the platform's S3 server (s3rver).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openObjectStore } from '@streamforge/core/objects';
import { openStore } from '@streamforge/core/store';
import { stackApi, startTestStack, type StackApi, type TestStack } from '@streamforge/testing';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'XRPUSDT'];
const RANGE = '2024-01-01:2024-03-01';
const HOURS = 60 * 24;

let stack: TestStack;
let api: StackApi;

before(async () => {
  stack = await startTestStack({ EXCHANGE: 'simulator', SIM_WEIGHT_LIMIT: 'Infinity' });
  api = stackApi(() => stack.state.api_url);
});
after(() => stack?.down());

interface Prediction {
  symbol: string;
  probabilities: number[];
  class: string;
}

test('two months of 1h candles of five symbols become a correlation graph set, a GCN trained on it, and predictions per symbol', async () => {
  const backfills = await Promise.all(
    SYMBOLS.map((symbol) => api.start({ symbol, type: 'api_candles_1h', time_range: RANGE })),
  );
  for (const done of await Promise.all(backfills.map((w) => api.final(w.queue_id, 60_000)))) {
    assert.equal(done.status, 'completed', done.error);
    assert.equal(done.stored?.records_written, HOURS);
  }

  const graph = await api.start({
    symbols: SYMBOLS,
    type: 'graph_correlation',
    time_range: RANGE,
    params: {
      interval: '1h',
      window: 24,
      step: 12,
      edges: { method: 'top_k', k: 2 },
      collections: Object.fromEntries(backfills.map((w, i) => [SYMBOLS[i], w.collection_name])),
    },
  });
  const built = await api.final(graph.queue_id, 60_000);
  assert.equal(built.status, 'completed', built.error);
  assert.deepEqual(built.progress['graph-builder']?.progress, { done: 119, total: 119, unit: 'windows' });
  const graphId = graph.collection_name;

  const train = await api.start({
    symbol: 'BTCUSDT',
    type: 'gnn_train',
    params: { graph_id: graphId, epochs: 100, folds: 4, seed: 1 },
  });
  const trained = await api.final(train.queue_id, 60_000);
  assert.equal(trained.status, 'completed', trained.error);
  assert.match(
    trained.progress['gnn-trainer']?.message ?? '',
    /walk-forward direction accuracy GCN .*, no-graph .*, majority .*/,
  );

  // The model is in the store and its artifact in object storage.
  const store = await openStore(stack.state.store_url);
  const model = await store.getModel(graphId);
  const set = await store.getGraphSet(graphId);
  await store.close();
  assert.equal(set?.status, 'complete');
  assert.equal(model?.status, 'ready');
  assert.equal(model?.s3_key, `models/${graphId}/v1/model.onnx`);
  const objects = openObjectStore({
    host: '127.0.0.1',
    port: Number(new URL(stack.state.s3_endpoint!).port),
    useSSL: false,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    bucket: 'streamforge-models',
    region: 'us-east-1',
  });
  assert.equal(await objects.exists(model!.s3_key), true);
  const metadata = JSON.parse(new TextDecoder().decode(await objects.get(`models/${graphId}/v1/metadata.json`))) as {
    metrics: { walk_forward: { gcn: { accuracy: number; total: number } } };
    onnx: { max_abs_diff_vs_typescript: number };
  };
  assert.ok(metadata.onnx.max_abs_diff_vs_typescript <= 1e-4);
  assert.ok(metadata.metrics.walk_forward.gcn.total > 0);

  // POST /predict on gnn-trainer: probabilities for every symbol of the latest window.
  const trainer = stack.state.functions['gnn-trainer']!.url!;
  const response = await fetch(`${trainer}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model_id: graphId, graph_id: graphId }),
  });
  const answer = (await response.json()) as {
    version: number;
    window: number;
    classes: string[];
    predictions: Prediction[];
  };
  assert.equal(response.status, 200, JSON.stringify(answer));
  assert.deepEqual([answer.version, answer.window, answer.classes], [1, 118, ['down', 'up']]);
  assert.deepEqual(answer.predictions.map((p) => p.symbol).sort(), [...SYMBOLS].sort());
  for (const p of answer.predictions) assert.ok(Math.abs(p.probabilities[0]! + p.probabilities[1]! - 1) < 1e-5);

  // The same request as a CloudEvent, answered with a prediction event.
  const event = await fetch(trainer, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': 'predict-1',
      'ce-type': 'dev.streamforge.gnn.predict',
      'ce-source': '/test/graph-gnn',
      'ce-subject': 'request-1',
    },
    body: JSON.stringify({ model_id: graphId, graph_id: graphId, window: 118 }),
  });
  assert.equal(event.status, 200);
  assert.equal(event.headers.get('ce-type'), 'dev.streamforge.gnn.prediction');
  assert.equal(event.headers.get('ce-subject'), 'request-1');
  assert.deepEqual(((await event.json()) as { predictions: Prediction[] }).predictions, answer.predictions);

  const unknown = await fetch(`${trainer}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model_id: 'no_such_model', graph_id: graphId }),
  });
  assert.equal(unknown.status, 404);
});
