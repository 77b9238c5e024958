/**
 * Inference through object storage: a model published to a real S3 server (s3rver) is
 * loaded back by a fresh client into onnxruntime-node and must predict what the TypeScript
 * model predicts; requests name models and graphs in every supported way.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { StreamForgeError, type ErrorCode } from '@streamforge/core/errors';
import { predictLogits, softmaxRows, trainGcn, type GcnModel } from '@streamforge/gnn';
import { openObjectStore } from '@streamforge/core/objects';
import { openStore, type GraphWindow, type Store } from '@streamforge/core/store';
import { startTestS3Server, type TestS3Server } from '@streamforge/testing';
import { standardizationOf, unionOf, unionTask, type Standardization } from '../src/graph-task.ts';
import { exportChecked, onnxDescription, publishModel, type ModelMetadata } from '../src/model-artifact.ts';
import { createModelCache } from '../src/model-cache.ts';
import { predict } from '../src/predict.ts';
import { labelledWindows } from '../src/walk-forward.ts';
import { FEATURES, writeSyntheticGraph } from './graph-fixture.ts';

let s3: TestS3Server;
before(async () => {
  s3 = await startTestS3Server();
});
after(() => s3?.close());

interface Published {
  store: Store;
  bucket: string;
  windows: GraphWindow[];
  model: GcnModel;
  standardization: Standardization;
}

const failsWith =
  (code: ErrorCode, reason: RegExp) =>
  (e: unknown): boolean =>
    StreamForgeError.is(e) && e.code === code && reason.test(e.message);

/** A graph set and a model trained on it (in TypeScript), published as gnn-trainer publishes one. */
async function published(t: TestContext, versions = 1): Promise<Published> {
  const store = await openStore('sqlite::memory:');
  t.after(() => store.close());
  const bucket = s3.config().bucket;
  const objects = openObjectStore(s3.config(bucket));
  const windows = await writeSyntheticGraph(store, 'predict_graph', 12, 6);
  const union = unionOf(labelledWindows(windows));
  const train = union.nodes.flatMap((n, i) => (n.label === -1 ? [] : [i]));
  const standardization = standardizationOf(
    train.map((i) => union.nodes[i]!.features),
    3,
  );
  const task = unionTask(union, { name: 'predict_graph', numFeatures: 3, standardization, train });
  let model: GcnModel | undefined;
  for (let version = 1; version <= versions; version++) {
    model = trainGcn(task, { epochs: 60, seed: version, dropout: 0.2 }).model;
    const { bytes, maxAbsDiff } = await exportChecked(model, task);
    const metadata: ModelMetadata = {
      model_id: 'predict_model',
      version,
      format: 'onnx',
      task: 'next_window_direction',
      created_at: new Date(0).toISOString(),
      queue_id: `wf-test-${version}`,
      graph_id: 'predict_graph',
      classes: ['down', 'up'],
      features: { count: 3, names: FEATURES, normalization: 'none', standardization },
      hyperparameters: { epochs: 60 },
      metrics: {},
      onnx: onnxDescription(`models/predict_model/v${version}/model.onnx`, bytes, maxAbsDiff),
    };
    await publishModel({ store, objects }, bytes, metadata, 0, 0);
  }
  return { store, bucket, windows, model: model!, standardization };
}

/** What the TypeScript model predicts for one window: probabilities by symbol. */
function typescriptPrediction(p: Published, window: GraphWindow): Map<string, number[]> {
  const union = unionOf([window]);
  const task = unionTask(union, { name: 'w', numFeatures: 3, standardization: p.standardization, train: [] });
  const probabilities = softmaxRows(predictLogits(p.model, task.adjacency, task.features), 2);
  return new Map(union.nodes.map((n, i) => [n.symbol, [probabilities[2 * i]!, probabilities[2 * i + 1]!]]));
}

test('a model reloaded from the S3 server by a fresh client predicts what the TypeScript model predicts (within 1e-5)', async (t) => {
  const p = await published(t);
  const cache = createModelCache(openObjectStore(s3.config(p.bucket)), 2);
  t.after(() => cache.close());
  const answer = await predict(
    { store: p.store, cache },
    { model_id: 'predict_model', version: 1, graph_id: 'predict_graph', window: 5 },
  );
  assert.equal(answer.model_key, 'models/predict_model/v1/model.onnx');
  assert.deepEqual(
    [answer.graph_id, answer.window, answer.window_start, answer.window_end],
    ['predict_graph', 5, p.windows[5]!.start, p.windows[5]!.end],
  );
  assert.deepEqual(answer.classes, ['down', 'up']);
  const expected = typescriptPrediction(p, p.windows[5]!);
  assert.equal(answer.predictions.length, 6);
  for (const prediction of answer.predictions) {
    const ts = expected.get(prediction.symbol)!;
    assert.ok(
      Math.abs(prediction.probabilities[1]! - ts[1]!) < 1e-5,
      `${prediction.symbol}: ONNX ${prediction.probabilities[1]} vs TypeScript ${ts[1]}`,
    );
    assert.ok(Math.abs(prediction.probabilities[0]! + prediction.probabilities[1]! - 1) < 1e-6);
    assert.equal(prediction.class, ts[1]! > ts[0]! ? 'up' : 'down');
  }
});

test('without a version the latest ready one answers, a model_key names its own, and without a window the latest window is scored', async (t) => {
  const p = await published(t, 2);
  const cache = createModelCache(openObjectStore(s3.config(p.bucket)), 4);
  t.after(() => cache.close());
  const latest = await predict({ store: p.store, cache }, { model_id: 'predict_model', graph_id: 'predict_graph' });
  assert.deepEqual([latest.version, latest.window], [2, 11]);
  const byKey = await predict(
    { store: p.store, cache },
    { model_key: 'models/predict_model/v1/model.onnx', graph_id: 'predict_graph', window: 11 },
  );
  assert.equal(byKey.version, 1);
  assert.notDeepEqual(byKey.predictions, latest.predictions, 'two versions, two models');
});

test('an inline graph is scored like the stored window it copies', async (t) => {
  const p = await published(t);
  const cache = createModelCache(openObjectStore(s3.config(p.bucket)), 2);
  t.after(() => cache.close());
  const w = p.windows[7]!;
  const stored = await predict(
    { store: p.store, cache },
    { model_id: 'predict_model', graph_id: 'predict_graph', window: 7 },
  );
  const inline = await predict(
    { store: p.store, cache },
    {
      model_id: 'predict_model',
      graph: {
        vertices: w.vertices.map((v) => ({ symbol: v.symbol, features: v.features })),
        edges: w.edges.map((e) => ({ from: e.from, to: e.to, weight: e.weight })),
      },
    },
  );
  assert.deepEqual(inline.predictions, stored.predictions);
  assert.equal(inline.graph_id, undefined);
});

test('sessions are cached per model version, and the least recently used is evicted when the cache is full', async (t) => {
  const p = await published(t, 2);
  const cache = createModelCache(openObjectStore(s3.config(p.bucket)), 1);
  t.after(() => cache.close());
  const ask = (version: number) =>
    predict({ store: p.store, cache }, { model_id: 'predict_model', version, graph_id: 'predict_graph', window: 3 });
  await Promise.all([ask(1), ask(1), ask(1)]);
  assert.equal(cache.loads, 1, 'one load for concurrent requests of one model');
  await ask(2);
  assert.deepEqual(cache.keys(), ['models/predict_model/v2/model.onnx']);
  await ask(1);
  assert.equal(cache.loads, 3);
});

test('unknown models and graphs answer SF_NOT_FOUND; malformed requests SF_CONTRACT_INVALID naming the field', async (t) => {
  const p = await published(t);
  const cache = createModelCache(openObjectStore(s3.config(p.bucket)), 2);
  t.after(() => cache.close());
  const ask = (body: unknown) => predict({ store: p.store, cache }, body);
  await assert.rejects(
    ask({ model_id: 'nobody', graph_id: 'predict_graph' }),
    failsWith('SF_NOT_FOUND', /no ready model nobody/),
  );
  await assert.rejects(
    ask({ model_id: 'predict_model', version: 9, graph_id: 'predict_graph' }),
    failsWith('SF_NOT_FOUND', /models\/predict_model\/v9/),
  );
  await assert.rejects(
    ask({ model_id: 'predict_model', graph_id: 'no_graph' }),
    failsWith('SF_NOT_FOUND', /no graph set no_graph/),
  );
  await assert.rejects(
    ask({ model_id: 'predict_model', graph_id: 'predict_graph', window: 99 }),
    failsWith('SF_NOT_FOUND', /no stored window 99/),
  );
  await assert.rejects(
    ask({ model_id: 'predict_model' }),
    failsWith('SF_CONTRACT_INVALID', /graph_id: name exactly one of graph_id/),
  );
  await assert.rejects(
    ask({ model_id: 'predict_model', model_key: 'models/predict_model/v1/model.onnx', graph_id: 'predict_graph' }),
    failsWith('SF_CONTRACT_INVALID', /model_id: name exactly one/),
  );
  await assert.rejects(
    ask({ model_key: 'models/x.onnx', graph_id: 'predict_graph' }),
    failsWith('SF_CONTRACT_INVALID', /model_key: "models\/x\.onnx" is not a model key/),
  );
  await assert.rejects(
    ask({ model_id: 'predict_model', graph: { vertices: [{ symbol: 'A', features: [1, 2] }] } }),
    failsWith('SF_CONTRACT_INVALID', /graph\.vertices\[0\]\.features: has 2 values, the model takes 3/),
  );
  await assert.rejects(
    ask({
      model_id: 'predict_model',
      graph: { vertices: [{ symbol: 'A', features: [1, 2, 3] }], edges: [{ from: 'A', to: 'B' }] },
    }),
    failsWith('SF_CONTRACT_INVALID', /graph\.edges\[0\]: B is not a vertex/),
  );
  await assert.rejects(
    ask({ model_id: 'predict_model', graph_id: 'predict_graph', colour: 'red' }),
    failsWith('SF_CONTRACT_INVALID', /colour: is not a known field/),
  );
});
