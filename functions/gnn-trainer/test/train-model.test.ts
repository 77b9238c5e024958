/**
 * gnn-trainer on real components: a SQLite store, a real S3 protocol server (s3rver in a
 * child process), onnxruntime-node; telemetry recorded.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StartCommand } from '@streamforge/core/contracts';
import { ERROR_CODES, StreamForgeError } from '@streamforge/core/errors';
import { PROJECT_ROOT } from '@streamforge/platform';
import { openObjectStore, type ObjectStore } from '@streamforge/core/objects';
import { openStore, type Store } from '@streamforge/core/store';
import { createLogger } from '@streamforge/core/telemetry';
import type { TelemetryInput } from '@streamforge/core/bus';
import { recordingTelemetry, startTestS3Server, type TestS3Server } from '@streamforge/testing';
import type { ModelMetadata } from '../src/model-artifact.ts';
import { createModelCache } from '../src/model-cache.ts';
import { predict } from '../src/predict.ts';
import { trainFromCommand, type TrainerDeps } from '../src/train-model.ts';
import { writeSyntheticGraph } from './graph-fixture.ts';

let s3: TestS3Server;
before(async () => {
  s3 = await startTestS3Server();
});
after(() => s3?.close());

const quiet = createLogger({ service: 'gnn-trainer-test', level: 'silent' });

interface Harness {
  store: Store;
  objects: ObjectStore;
  events: TelemetryInput[];
  deps: TrainerDeps;
}

async function harness(t: TestContext): Promise<Harness> {
  const store = await openStore('sqlite::memory:');
  t.after(() => store.close());
  const objects = openObjectStore(s3.config());
  const { telemetry, events } = recordingTelemetry();
  return { store, objects, events, deps: { store, objects, telemetry, logger: quiet } };
}

function command(params: Record<string, unknown>, queueId = 'wf-btcusdt-gnn_train-20240101-a1b2c3'): StartCommand {
  return {
    command: 'start',
    queue_id: queueId,
    target: 'gnn-trainer',
    symbol: 'BTCUSDT',
    type: 'gnn_train',
    telemetry_id: `gnn-trainer__${queueId.slice(-6)}`,
    timestamp: 1_704_067_200,
    ...params,
  };
}

test('a model trained on a built graph: walk-forward against baselines, ONNX equal to TypeScript within 1e-4, stored in S3 and in the store', async (t) => {
  const h = await harness(t);
  await writeSyntheticGraph(h.store, 'synthetic_graph');
  const asked = { epochs: 150, hidden: 16, lr: 0.02, weight_decay: 5e-4, dropout: 0.2, seed: 3, folds: 3 };
  const metadata = (await trainFromCommand(h.deps, command({ graph_id: 'synthetic_graph', ...asked })))!;
  assert.equal(metadata.model_id, 'synthetic_graph');
  assert.equal(metadata.version, 1);
  assert.equal(metadata.task, 'next_window_direction');
  assert.deepEqual(metadata.classes, ['down', 'up']);
  assert.deepEqual(metadata.features.names, ['signal', 'noise_a', 'noise_b']);
  assert.equal(metadata.features.standardization!.mean.length, 3);
  assert.deepEqual(metadata.hyperparameters, asked, 'the hyperparameters asked for');
  assert.deepEqual(metadata.data_range, { start: '2024-01-01T00:00:00.000Z', end: '2024-02-10T00:00:00.000Z' });
  // The final model's training curve, epoch by epoch, for the console to draw.
  const curve = metadata.curves?.final ?? [];
  assert.deepEqual(
    curve.map((p) => p.epoch),
    Array.from({ length: 150 }, (_, i) => i + 1),
  );
  assert.ok(curve.every((p) => Number.isFinite(p.loss) && p.train_accuracy >= 0 && p.train_accuracy <= 1));
  assert.ok(curve.at(-1)!.loss < curve[0]!.loss, 'the loss fell');
  assert.ok(
    metadata.onnx.max_abs_diff_vs_typescript <= 1e-4,
    `ONNX vs TypeScript: ${metadata.onnx.max_abs_diff_vs_typescript}`,
  );

  const wf = metadata.metrics.walk_forward as {
    folds: unknown[];
    gcn: { accuracy: number; total: number };
    no_graph: { accuracy: number };
    majority: { accuracy: number };
  };
  assert.equal(wf.folds.length, 3);
  assert.equal(wf.gcn.total, 20 * 8, 'each labelled vertex after the first 19 of 39 labelled windows is tested once');
  // The label is mostly the neighbours' signal: the graph must matter.
  t.diagnostic(
    `walk-forward: GCN ${wf.gcn.accuracy}, no-graph ${wf.no_graph.accuracy}, majority ${wf.majority.accuracy}`,
  );
  assert.ok(wf.gcn.accuracy >= 0.8, `GCN ${wf.gcn.accuracy}`);
  assert.ok(wf.gcn.accuracy > wf.no_graph.accuracy + 0.1, `GCN ${wf.gcn.accuracy} vs no-graph ${wf.no_graph.accuracy}`);
  assert.ok(wf.gcn.accuracy > wf.majority.accuracy + 0.1, `GCN ${wf.gcn.accuracy} vs majority ${wf.majority.accuracy}`);

  const stored = await h.store.getModel('synthetic_graph');
  assert.equal(stored?.status, 'ready');
  assert.equal(stored?.s3_key, 'models/synthetic_graph/v1/model.onnx');
  assert.deepEqual(stored?.metadata, JSON.parse(JSON.stringify(metadata)));
  const onnx = await h.objects.get('models/synthetic_graph/v1/model.onnx');
  assert.equal(onnx.length, metadata.onnx.bytes);
  assert.deepEqual(
    JSON.parse(new TextDecoder().decode(await h.objects.get('models/synthetic_graph/v1/metadata.json'))),
    JSON.parse(JSON.stringify(metadata)),
  );

  assert.equal(h.events[0]!.status, 'started');
  const finished = h.events.at(-1)!;
  assert.equal(finished.status, 'finished');
  assert.deepEqual(
    finished.progress,
    { done: 150 * 7, total: 150 * 7, unit: 'epochs' },
    '3 folds × (GCN + no-graph) + the final model',
  );
  assert.equal(typeof finished.loss, 'number');
  assert.match(
    String(finished.message),
    /walk-forward direction accuracy GCN \d+\.\d%, no-graph \d+\.\d%, majority \d+\.\d%/,
  );
});

test('a redelivered start trains the same version again; another workflow gets the next version', async (t) => {
  const h = await harness(t);
  await writeSyntheticGraph(h.store, 'versions_graph', 12, 6);
  const params = { graph_id: 'versions_graph', model_name: 'versioned', epochs: 20, folds: 2 };
  const first = (await trainFromCommand(h.deps, command(params)))!;
  const again = (await trainFromCommand(h.deps, command(params)))!;
  const other = (await trainFromCommand(h.deps, command(params, 'wf-btcusdt-gnn_train-20240101-zzzzzz')))!;
  assert.deepEqual([first.version, again.version, other.version], [1, 1, 2]);
  assert.equal(again.onnx.sha256, first.onnx.sha256, 'the same seed trains the same model');
  assert.deepEqual(
    (await h.store.listModels({ model_id: 'versioned', limit: 10 })).map((m) => [m.version, m.status]),
    [
      [2, 'ready'],
      [1, 'ready'],
    ],
  );
  assert.deepEqual(
    (await h.objects.list('models/versioned/')).map((o) => o.key),
    [
      'models/versioned/v1/metadata.json',
      'models/versioned/v1/model.onnx',
      'models/versioned/v2/metadata.json',
      'models/versioned/v2/model.onnx',
    ],
  );
});

test('a node-classification dataset in object storage trains too (the karate club), with the no-graph and majority baselines', async (t) => {
  const h = await harness(t);
  await h.objects.put(
    'datasets/karate-club.json',
    readFileSync(join(PROJECT_ROOT, 'test', 'fixtures', 'gnn', 'karate-club.json')),
  );
  const metadata = (await trainFromCommand(
    h.deps,
    command({ dataset: 'karate-club', epochs: 100, dropout: 0.2, lr: 0.05, seed: 2 }),
  ))!;
  assert.equal(metadata.model_id, 'karate-club');
  assert.equal(metadata.task, 'node_classification');
  assert.equal(metadata.dataset, 'datasets/karate-club.json');
  assert.deepEqual(metadata.features, { count: 34, normalization: 'row', standardization: null });
  assert.deepEqual(
    [metadata.curves?.gcn?.length, metadata.curves?.no_graph?.length],
    [100, 100],
    'a curve for each network trained',
  );
  const m = metadata.metrics as {
    gcn: { test_accuracy: number };
    no_graph: { test_accuracy: number };
    majority: { test_accuracy: number };
  };
  // Featureless (X = I): without edges a node knows nothing about the others.
  assert.ok(m.gcn.test_accuracy >= 0.8, `GCN ${m.gcn.test_accuracy}`);
  assert.ok(
    m.gcn.test_accuracy > m.no_graph.test_accuracy,
    `GCN ${m.gcn.test_accuracy} vs no-graph ${m.no_graph.test_accuracy}`,
  );
  assert.ok(metadata.onnx.max_abs_diff_vs_typescript <= 1e-4);

  // Served back: the club as an inline graph (raw features, row-normalised as in training).
  const club = JSON.parse(readFileSync(join(PROJECT_ROOT, 'test', 'fixtures', 'gnn', 'karate-club.json'), 'utf8')) as {
    numNodes: number;
    labels: number[];
    edges: Array<[number, number]>;
  };
  const cache = createModelCache(openObjectStore(s3.config(h.objects.bucket)), 1);
  t.after(() => cache.close());
  const answer = await predict(
    { store: h.store, cache },
    {
      model_id: 'karate-club',
      graph: {
        vertices: club.labels.map((_, i) => ({
          symbol: `member${i}`,
          features: Array.from({ length: club.numNodes }, (_, j) => (i === j ? 1 : 0)),
        })),
        edges: club.edges.map(([u, v]) => ({ from: `member${u}`, to: `member${v}` })),
      },
    },
  );
  assert.equal(answer.predictions.length, club.numNodes);
  assert.deepEqual(answer.classes, ['0', '1']);
  const correct = answer.predictions.filter((p, i) => Number(p.class) === club.labels[i]).length;
  assert.ok(correct / club.numNodes >= 0.8, `${correct} of ${club.numNodes} members in their club`);
});

test('a request that can never train fails the workflow with a non-retryable error; a graph still building is SF_BUSY, to retry', async (t) => {
  const h = await harness(t);
  const fails = async (params: Record<string, unknown>, code: string, reason: RegExp) => {
    h.events.length = 0;
    await assert.rejects(
      trainFromCommand(h.deps, command(params)),
      (e: unknown) => StreamForgeError.is(e) && e.code === code && reason.test(e.message),
      String(reason),
    );
    return h.events.at(-1);
  };
  const both = await fails(
    { graph_id: 'g', dataset: 'd' },
    'SF_CONTRACT_INVALID',
    /exactly one of graph_id .* or dataset/,
  );
  assert.equal(both?.status, 'error');
  assert.equal(
    (
      await fails(
        { graph_id: 'missing_graph' },
        'SF_CONTRACT_INVALID',
        /no graph set missing_graph in the store; build it first/,
      )
    )?.status,
    'error',
  );
  assert.equal(
    (await fails({ dataset: 'nope' }, 'SF_CONTRACT_INVALID', /no object datasets\/nope\.json/))?.status,
    'error',
  );
  assert.equal(
    (await fails({ graph_id: 'g', epochs: 0 }, 'SF_CONTRACT_INVALID', /epochs: must be >= 1/))?.status,
    'error',
  );
  await h.store.saveGraphSet({
    graph_id: 'half_built',
    status: 'building',
    windows: 3,
    feature_names: ['x'],
    symbols: [],
    params: {},
    created_at: 0,
    updated_at: 0,
  });
  const busy = await fails({ graph_id: 'half_built' }, 'SF_BUSY', /still being built/);
  assert.equal(ERROR_CODES.SF_BUSY.disposition, 'retry');
  assert.notEqual(
    busy?.status,
    'error',
    'a graph still being built is retried by the KafkaSource, not the end of the workflow',
  );
  assert.deepEqual(await h.store.listModels({ limit: 10 }), [], 'nothing that could not train reserved a version');
});

test('telemetry reports epochs done of total and the latest loss while training', async (t) => {
  const h = await harness(t);
  await writeSyntheticGraph(h.store, 'progress_graph', 10, 6);
  await trainFromCommand(
    h.deps,
    command({ graph_id: 'progress_graph', epochs: 30, folds: 2 }, 'wf-btcusdt-gnn_train-20240101-prgres'),
  );
  const loading = h.events.filter((e) => e.status === 'loading');
  assert.ok(loading.length >= 1, 'the first training run is always reported');
  assert.deepEqual(loading[0]!.progress, { done: 30, total: 150, unit: 'epochs' });
  assert.equal(loading[0]!.phase, 'fold 0 gcn');
  assert.equal(typeof loading[0]!.loss, 'number');
  const finished = h.events.at(-1)! as TelemetryInput & { metrics: ModelMetadata['metrics'] };
  assert.deepEqual(finished.progress, { done: 150, total: 150, unit: 'epochs' });
  assert.ok(finished.metrics.walk_forward);
});
