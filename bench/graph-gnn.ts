/**
 * Graphs and GNN benchmark: prints one JSON document.
 *
 *   node bench/graph-gnn.ts [--symbols 10] [--days 180] [--epochs 200]
 *
 * On the exchange simulator's 1h candles (what the end-to-end test backfills; synthetic
 * random walks, independent per symbol) in a temporary SQLite store:
 * - graph-builder: time to build the graph set (window 24 bars, step 12, top-3 edges) and
 *   its size;
 * - gnn-trainer: walk-forward evaluation (4 folds) of the GCN against the no-graph and the
 *   majority baselines, then the final model: seconds and direction accuracies;
 * - the final model through ONNX: max |ONNX − TypeScript| and the latency of one window's
 *   prediction with onnxruntime-node next to the TypeScript forward pass (p50/p99, 200 runs).
 * The simulator's symbols move independently, so a direction accuracy near 50% is the honest
 * expectation here: the numbers show cost and that nothing leaks, not an edge.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { klineFromRow, type BinanceKlineRow } from '@streamforge/core/contracts';
import { MarketData, DEFAULT_SYMBOLS } from '@streamforge/simulator';
import { createOnnxSession, onnxFeeds, predictLogits, runOnnx, trainGcn } from '@streamforge/gnn';
import { openSqliteStore } from '@streamforge/core/store';
import { buildGraphSet } from '../functions/graph-builder/src/build-graphs.ts';
import { parseGraphRequest } from '@streamforge/core/requests';
import { standardizationOf, unionOf, unionTask } from '../functions/gnn-trainer/src/graph-task.ts';
import { exportChecked } from '../functions/gnn-trainer/src/model-artifact.ts';
import { labelledWindows, walkForward } from '../functions/gnn-trainer/src/walk-forward.ts';
import { quantile } from './quantile.ts';

const { values } = parseArgs({
  options: {
    symbols: { type: 'string', default: '10' },
    days: { type: 'string', default: '180' },
    epochs: { type: 'string', default: '200' },
  },
});
const SYMBOLS = DEFAULT_SYMBOLS.slice(0, Number(values.symbols)).map((s) => s.symbol);
const DAYS = Number(values.days);
const EPOCHS = Number(values.epochs);
const START = Date.UTC(2024, 0, 1);
const END = START + DAYS * 86_400_000;
const HOUR = 3_600_000;

const ms = (x: number) => Number(x.toFixed(3));
const pct = (x: number) => Number((100 * x).toFixed(2));

const dir = mkdtempSync(join(tmpdir(), 'sf-bench-graph-'));
const store = await openSqliteStore(join(dir, 'store.sqlite'));
try {
  const market = await MarketData.create({ clock: () => END + 86_400_000 });
  const collections: Record<string, string> = {};
  for (const symbol of SYMBOLS) {
    const collection = `${symbol.toLowerCase()}_api_candles_1h_2024_01_01`;
    collections[symbol] = collection;
    for (let from = START; from < END; from += 1000 * HOUR) {
      const rows = JSON.parse(
        await market.klinesJson('spot', symbol, '1h', {
          startTime: from,
          endTime: Math.min(END, from + 1000 * HOUR) - 1,
          limit: 1000,
        }),
      ) as BinanceKlineRow[];
      await store.writeBatch({ collection, records: rows.map((row) => klineFromRow(symbol, '1h', row)) });
    }
  }
  const time_range = `${new Date(START).toISOString().slice(0, 10)}:${new Date(END).toISOString().slice(0, 10)}`;
  const request = parseGraphRequest({
    command: 'start',
    queue_id: 'wf-bench-graph_correlation-20240101-bench1',
    target: 'graph-builder',
    symbol: SYMBOLS[0]!,
    symbols: SYMBOLS,
    type: 'graph_correlation',
    time_range,
    collection_name: 'bench_graph',
    timestamp: 0,
    window: 24,
    step: 12,
    edges: { method: 'top_k', k: 3 },
    collections,
  });

  let started = performance.now();
  const built = await buildGraphSet({ store }, request);
  const buildMs = performance.now() - started;
  const graph = (await store.readGraph('bench_graph'))!;

  const train = { epochs: EPOCHS, hidden: 16, learningRate: 0.01, weightDecay: 5e-4, dropout: 0.5, seed: 1 };
  started = performance.now();
  const evaluation = await walkForward(graph.windows, { folds: 4, train, numFeatures: 5 });
  const walkForwardS = (performance.now() - started) / 1000;

  const labelled = labelledWindows(graph.windows);
  const union = unionOf(labelled);
  const nodes = union.nodes.flatMap((n, i) => (n.label === -1 ? [] : [i]));
  const standardization = standardizationOf(
    nodes.map((i) => union.nodes[i]!.features),
    5,
  );
  const task = unionTask(union, { name: 'bench_graph', numFeatures: 5, standardization, train: nodes });
  started = performance.now();
  const final = trainGcn(task, train);
  const finalS = (performance.now() - started) / 1000;
  const { bytes, maxAbsDiff } = await exportChecked(final.model, task);

  // One window, as /predict scores it.
  const one = unionTask(unionOf([graph.windows.at(-1)!]), { name: 'one', numFeatures: 5, standardization, train: [] });
  const session = await createOnnxSession(bytes);
  const feeds = onnxFeeds(one.adjacency, one.features);
  const onnxMs: number[] = [];
  const tsMs: number[] = [];
  for (let i = 0; i < 200; i++) {
    let t = performance.now();
    await runOnnx(session, feeds);
    onnxMs.push(performance.now() - t);
    t = performance.now();
    predictLogits(final.model, one.adjacency, one.features);
    tsMs.push(performance.now() - t);
  }
  await session.release();

  console.log(
    JSON.stringify(
      {
        data: {
          source: 'exchange simulator (synthetic, independent symbols)',
          symbols: SYMBOLS.length,
          interval: '1h',
          days: DAYS,
          candles: SYMBOLS.length * DAYS * 24,
        },
        graph_builder: {
          windows: built.windows,
          vertices: built.vertices,
          edges: built.edges,
          labelled: built.labelled,
          build_ms: ms(buildMs),
          ms_per_window: ms(buildMs / built.windows),
        },
        walk_forward: {
          folds: evaluation.folds.length,
          test_vertices: evaluation.gcn.total,
          accuracy_pct: {
            gcn: pct(evaluation.gcn.accuracy),
            no_graph: pct(evaluation.no_graph.accuracy),
            majority: pct(evaluation.majority.accuracy),
          },
          up_rate_pct: pct(evaluation.up_rate),
          seconds: Number(walkForwardS.toFixed(3)),
        },
        final_model: {
          vertices: nodes.length,
          epochs: EPOCHS,
          train_accuracy_pct: pct(final.evaluation.train.accuracy),
          seconds: Number(finalS.toFixed(3)),
          onnx_bytes: bytes.length,
          onnx_max_abs_diff: maxAbsDiff,
        },
        predict_one_window: {
          vertices: one.adjacency.rows,
          onnx_ms: { p50: ms(quantile(onnxMs, 0.5)), p99: ms(quantile(onnxMs, 0.99)) },
          typescript_ms: { p50: ms(quantile(tsMs, 0.5)), p99: ms(quantile(tsMs, 0.99)) },
        },
      },
      null,
      2,
    ),
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
