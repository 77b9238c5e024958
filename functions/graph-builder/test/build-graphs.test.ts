/**
 * graph-builder on a real store (SQLite in memory): candles as the connector stores them in,
 * graph sets out, telemetry recorded.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { KlineRecord, StartCommand } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import { parseGraphRequest } from '@streamforge/core/requests';
import { openStore, type GraphWindow, type Store } from '@streamforge/core/store';
import { createLogger } from '@streamforge/core/telemetry';
import { recordingTelemetry } from '@streamforge/testing';
import { buildGraphSet, buildGraphs } from '../src/build-graphs.ts';
import { HOUR, T0, collectionOf, hourlyCandles } from './candle-fixture.ts';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'XRPUSDT'];
const DAYS = 12;

async function storeWith(t: TestContext, candles: Map<string, KlineRecord[]>): Promise<Store> {
  const store = await openStore('sqlite::memory:');
  t.after(() => store.close());
  for (const [symbol, records] of candles) await store.writeBatch({ collection: collectionOf(symbol), records });
  return store;
}

function command(
  params: Record<string, unknown> = {},
  collection = 'btcusdt_graph_correlation_2024_01_01',
): StartCommand {
  return {
    command: 'start',
    queue_id: 'wf-btcusdt-graph_correlation-20240101-a1b2c3',
    target: 'graph-builder',
    symbol: 'BTCUSDT',
    symbols: SYMBOLS,
    type: 'graph_correlation',
    time_range: `2024-01-01:2024-01-${String(1 + DAYS).padStart(2, '0')}`,
    collection_name: collection,
    telemetry_id: 'graph-builder__a1b2c3',
    timestamp: T0 / 1000,
    ...params,
  };
}

const quiet = createLogger({ service: 'graph-builder-test', level: 'silent' });

test('a start command names its inputs: params become the request, the backfill’s default collections are assumed, bad params name the field', () => {
  const request = parseGraphRequest(
    command({
      window: 48,
      edges: { method: 'threshold', min_abs_correlation: 0.4 },
      correlation: 'spearman',
      collections: { ETHUSDT: 'eth_candles' },
    }),
  );
  assert.equal(request.graphId, 'btcusdt_graph_correlation_2024_01_01');
  assert.deepEqual(
    [request.interval, request.window, request.step, request.horizon, request.minReturns],
    ['1h', 48, 48, 48, 24],
  );
  assert.deepEqual(request.sources.slice(0, 2), [
    { symbol: 'BTCUSDT', collection: 'btcusdt_api_candles_1h_2024_01_01' },
    { symbol: 'ETHUSDT', collection: 'eth_candles' },
  ]);
  assert.deepEqual(parseGraphRequest(command({ collections: SYMBOLS.map((s) => `c_${s}`) })).sources[4], {
    symbol: 'XRPUSDT',
    collection: 'c_XRPUSDT',
  });
  for (const [params, reason] of [
    [{ window: 3 }, /window: must be >= 4/],
    [{ edges: { method: 'top_k', k: 0 } }, /edges/],
    [{ interval: '7m' }, /interval: must be one of/],
    [{ collections: ['only_one'] }, /collections: lists 1 collections for 5 symbols/],
    [{ collections: { DOGEUSDT: 'x' } }, /collections\.DOGEUSDT: is not one of the symbols/],
    [{ symbols: ['BTCUSDT'] }, /symbols: a correlation graph needs at least 2 symbols/],
    [{ window: 10, min_returns: 10 }, /min_returns: 10 is more than the 9 returns/],
  ] as const) {
    assert.throws(
      () => parseGraphRequest(command(params)),
      (e: unknown) => StreamForgeError.is(e) && e.code === 'SF_CONTRACT_INVALID' && reason.test(e.message),
      String(reason),
    );
  }
});

test('the graph set of a start command: every window stored with vertices, edges and labels, telemetry started → loading → finished', async (t) => {
  const store = await storeWith(t, hourlyCandles(SYMBOLS, DAYS * 24));
  const { telemetry, events } = recordingTelemetry();
  const summary = await buildGraphs(
    { store, telemetry, logger: quiet },
    command({ window: 24, step: 12, edges: { method: 'top_k', k: 2 } }),
  );
  assert.deepEqual(summary, {
    graphId: 'btcusdt_graph_correlation_2024_01_01',
    windows: 23,
    vertices: 115,
    edges: summary!.edges,
    labelled: 110,
  });
  const graph = (await store.readGraph('btcusdt_graph_correlation_2024_01_01'))!;
  assert.equal(graph.set.status, 'complete');
  assert.deepEqual(graph.set.feature_names, ['mean_return', 'volatility', 'log_volume', 'mean_range', 'last_return']);
  assert.equal(graph.windows.length, 23);
  for (const w of graph.windows) {
    assert.equal(w.end - w.start, 24 * HOUR);
    assert.equal(w.vertices.length, 5);
    assert.ok(
      w.edges.length >= 5 && w.edges.length <= 10,
      `top-2: every vertex keeps 2 partners (${w.edges.length} edges)`,
    );
    for (const v of w.vertices) if (v.label) assert.ok(v.label.known_at >= w.end + 12 * HOUR);
  }
  assert.deepEqual(
    graph.windows.at(-1)!.vertices.map((v) => v.label),
    [null, null, null, null, null],
    'the last window’s next window is not in the range',
  );
  assert.deepEqual(
    events.map((e) => e.status),
    ['started', ...events.slice(1, -1).map(() => 'loading'), 'finished'],
  );
  assert.deepEqual(events.at(-1)!.progress, { done: 23, total: 23, unit: 'windows' });
  assert.equal(events.at(-1)!.producer, 'graph-builder__a1b2c3');
});

test('a rebuilt graph is identical; a rebuild with a smaller edge set and fewer windows leaves nothing of the first one', async (t) => {
  const store = await storeWith(t, hourlyCandles(SYMBOLS, DAYS * 24));
  const request = parseGraphRequest(command({ window: 24, step: 12, edges: { method: 'top_k', k: 3 } }));
  await buildGraphSet({ store }, request);
  const first = (await store.readGraph(request.graphId))!;
  await buildGraphSet({ store }, request);
  const again = (await store.readGraph(request.graphId))!;
  assert.deepEqual(again.windows, first.windows);
  assert.equal(again.set.created_at, first.set.created_at);

  const sparser = parseGraphRequest(
    command({ window: 48, step: 24, edges: { method: 'threshold', min_abs_correlation: 0.8 } }),
  );
  await buildGraphSet({ store }, sparser);
  const rebuilt = (await store.readGraph(request.graphId))!;
  assert.equal(rebuilt.set.windows, 11);
  assert.equal(rebuilt.windows.length, 11);
  const edges = rebuilt.windows.reduce((n, w) => n + w.edges.length, 0);
  assert.ok(edges < first.windows.reduce((n, w) => n + w.edges.length, 0));
  assert.ok(
    rebuilt.windows.every((w) => w.edges.every((e) => e.weight >= 0.8)),
    'only edges of the new policy are left',
  );
  assert.deepEqual(
    (await store.listGraphs()).map((g) => g.graph_id),
    [request.graphId],
    'the same graph id, no copy',
  );
});

test('no window uses data from after its end: changing every candle after a window’s end leaves its features and edges as they were', async (t) => {
  const candles = hourlyCandles(SYMBOLS, DAYS * 24);
  const cut = T0 + 6 * 24 * HOUR;
  // The same market up to `cut`, another one after it (other seed), spliced at the cut.
  const other = hourlyCandles(SYMBOLS, DAYS * 24, [2, -1, 0.5, 3, 1], 99);
  const changed = new Map(
    [...candles].map(([symbol, records]) => [
      symbol,
      records.map((r, i) => (r.open_time >= cut ? other.get(symbol)![i]! : r)),
    ]),
  );
  const a = await storeWith(t, candles);
  const b = await storeWith(t, changed);
  const request = parseGraphRequest(command({ window: 24, step: 6 }));
  await buildGraphSet({ store: a }, request);
  await buildGraphSet({ store: b }, request);
  const before = (await a.readGraph(request.graphId))!.windows;
  const after = (await b.readGraph(request.graphId))!.windows;
  const withoutLabels = (w: GraphWindow) => ({ ...w, vertices: w.vertices.map((v) => ({ ...v, label: null })) });
  let compared = 0;
  for (let i = 0; i < before.length; i++) {
    if (before[i]!.end <= cut) {
      assert.deepEqual(withoutLabels(after[i]!), withoutLabels(before[i]!), `window ${i} ends at the cut or before`);
      compared++;
    } else {
      assert.notDeepEqual(withoutLabels(after[i]!), withoutLabels(before[i]!), `window ${i} reaches past the cut`);
    }
  }
  assert.equal(compared, 21);
  // The labels of windows ending before the cut may read it: that is what a label is.
  const last = before.findLast((w) => w.end <= cut)!;
  assert.ok(last.vertices.every((v) => v.label!.known_at > cut));
});

test('a symbol with no stored candles ends the workflow with a non-retryable error naming its collection', async (t) => {
  const candles = hourlyCandles(SYMBOLS.slice(0, 4), DAYS * 24);
  const store = await storeWith(t, candles);
  const { telemetry, events } = recordingTelemetry();
  await assert.rejects(
    buildGraphs({ store, telemetry, logger: quiet }, command()),
    (e: unknown) => StreamForgeError.is(e) && e.code === 'SF_CONTRACT_INVALID',
  );
  const error = events.at(-1)!;
  assert.equal(error.status, 'error');
  assert.match(String(error.message), /no 1h candles of XRPUSDT in collection xrpusdt_api_candles_1h_2024_01_01/);
  assert.deepEqual(error.error, { code: 'SF_CONTRACT_INVALID', message: error.message, retryable: false });
});
