/**
 * What the console's charts read, through the manager's API on a SQLite store:
 * GET /collections/{name}/candles (buckets the size max_points allows, the gaps of a series
 * with a hole, the refusals at the door, the token rule, its place in the OpenAPI document)
 * and GET /graphs/{id} (a graph set's windows).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aggTradeFromBinance, klineFromRow, type KlineRecord } from '@streamforge/core/contracts';
import { serveFunction } from '@streamforge/core/runtime';
import { openSqliteStore, type Store } from '@streamforge/core/store';
import { createLogger } from '@streamforge/core/telemetry';
import { registerApi } from '../src/api.ts';
import type { Manager } from '../src/manager.ts';

const MINUTE = 60_000;
const START = Date.UTC(2024, 7, 1);
const DAY = 1_440 * MINUTE;
const TOKEN = 'candles-test-token';

/** `count` valid 1m candles from `start`, a slow sine for prices. */
function candles(count: number, start = START): KlineRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const t = start + i * MINUTE;
    const mid = 60_000 + 500 * Math.sin(i / 90);
    return klineFromRow('BTCUSDT', '1m', [
      t,
      mid.toFixed(2),
      (mid + 20).toFixed(2),
      (mid - 20).toFixed(2),
      (mid + 5).toFixed(2),
      '1.50000000',
      t + MINUTE - 1,
      (1.5 * mid).toFixed(8),
      10,
      '0.70000000',
      (0.7 * mid).toFixed(8),
      '0',
    ]);
  });
}

async function serve(t: TestContext, token = ''): Promise<{ url: string; store: Store }> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-candles-'));
  const store = await openSqliteStore(join(dir, 'store.sqlite'));
  // The candles route reads only the store: no manager call is made.
  const manager = {} as Manager;
  const running = await serveFunction(
    { handle: () => undefined, routes: (app) => registerApi(app, { manager, store, token }) },
    {
      name: 'queue-manager',
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ service: 'queue-manager', level: 'silent' }),
    },
  );
  t.after(async () => {
    await running.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { url: running.url, store };
}

interface CandlesAnswer {
  bucket: string;
  bucket_ms: number;
  first_stored: number;
  last_stored: number;
  interval: string;
  symbol: string;
  candles: Array<{ time: number; open: number; high: number; low: number; close: number; candles: number }>;
  gaps: Array<{ from: number; to: number; missing: number }>;
  gaps_truncated: boolean;
  stored: number;
  expected: number;
  missing: number;
}

async function get(url: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test('three days of 1m candles with a two-hour hole: hourly buckets within max_points, the hole as the one gap', async (t) => {
  const { url, store } = await serve(t);
  const hole = { from: START + DAY + 600 * MINUTE, to: START + DAY + 720 * MINUTE };
  const records = candles(3 * 1_440).filter((r) => r.open_time < hole.from || r.open_time >= hole.to);
  await store.writeBatch({ collection: 'btc_1m', records });

  const answer = await get(`${url}/collections/btc_1m/candles?from=${START}&to=${START + 3 * DAY}&max_points=100`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const body = answer.body as unknown as CandlesAnswer;
  assert.deepEqual([body.symbol, body.interval, body.bucket, body.bucket_ms], ['BTCUSDT', '1m', '1h', 60 * MINUTE]);
  assert.equal(body.candles.length, 70, 'two of the 72 hours are not stored at all');
  assert.ok(body.candles.every((c) => c.candles === 60));
  assert.deepEqual(body.gaps, [{ ...hole, missing: 120 }]);
  assert.deepEqual([body.stored, body.expected, body.missing, body.gaps_truncated], [4_200, 4_320, 120, false]);
  const firstHour = records.slice(0, 60);
  assert.equal(body.candles[0]!.open, Number(firstHour[0]!.open));
  assert.equal(body.candles[0]!.close, Number(firstHour[59]!.close));
  assert.equal(body.candles[0]!.high, Math.max(...firstHour.map((r) => Number(r.high))));

  // The default max_points (2000) over the whole series (the default range): 3m buckets, the same gap.
  const fine = (await get(`${url}/collections/btc_1m/candles`)).body as unknown as CandlesAnswer;
  assert.deepEqual([fine.first_stored, fine.last_stored], [START, START + 3 * DAY - MINUTE]);
  assert.equal(fine.bucket, '3m');
  assert.equal(fine.candles.length, (4_320 - 120) / 3);
  assert.deepEqual(fine.gaps, body.gaps);

  // Zoomed into the hole's edge: one candle each, the gap cut at the range.
  const zoom = (
    await get(`${url}/collections/btc_1m/candles?from=${hole.from - 30 * MINUTE}&to=${hole.from + 30 * MINUTE}`)
  ).body as unknown as CandlesAnswer;
  assert.deepEqual([zoom.bucket, zoom.candles.length], ['1m', 30]);
  assert.deepEqual(zoom.gaps, [{ from: hole.from, to: hole.from + 30 * MINUTE, missing: 30 }]);
});

test('refused at the door, saying why: a bad range, a collection that is not klines, an unknown one, and no token', async (t) => {
  const { url, store } = await serve(t, TOKEN);
  const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
  await store.writeBatch({ collection: 'btc_1m', records: candles(10) });
  await store.writeBatch({
    collection: 'btc_trades',
    records: [
      aggTradeFromBinance('BTCUSDT', { a: 1, p: '60000.00', q: '0.1', f: 1, l: 1, T: START, m: true, M: true }),
    ],
  });
  const candlesOf = (name: string, query: string) => `${url}/collections/${name}/candles?${query}`;

  const backwards = await get(candlesOf('btc_1m', `from=${START}&to=${START}`), auth);
  assert.deepEqual([backwards.status, backwards.body.message], [400, `from: ${START} must be before to: ${START}`]);
  const notANumber = await get(candlesOf('btc_1m', `from=${START}&to=tomorrow`), auth);
  assert.equal(notANumber.status, 400);
  assert.match(String(notANumber.body.message), /^querystring\.to: /);
  const tooMany = await get(candlesOf('btc_1m', `from=${START}&to=${START + DAY}&max_points=100000`), auth);
  assert.equal(tooMany.status, 400);
  assert.match(String(tooMany.body.message), /max_points/);
  const trades = await get(candlesOf('btc_trades', `from=${START}&to=${START + DAY}`), auth);
  assert.equal(trades.status, 400);
  assert.match(String(trades.body.message), /^name: collection btc_trades does not hold klines/);
  const huge = await get(candlesOf('btc_1m', `from=0&to=${Date.UTC(2030, 0, 1)}`), auth);
  assert.equal(huge.status, 400);
  assert.match(String(huge.body.message), /more than 10000000: narrow it/);
  const unknown = await get(candlesOf('nothing_here', `from=${START}&to=${START + DAY}`), auth);
  assert.deepEqual([unknown.status, unknown.body.message], [404, 'no collection nothing_here']);
  const otherSymbol = await get(candlesOf('btc_1m', `from=${START}&to=${START + DAY}&symbol=ETHUSDT`), auth);
  assert.deepEqual(
    [otherSymbol.status, otherSymbol.body.message],
    [404, 'collection btc_1m holds no records of ETHUSDT'],
  );

  const anonymous = await get(candlesOf('btc_1m', `from=${START}&to=${START + DAY}`));
  assert.equal(anonymous.status, 401);
  const ok = await get(candlesOf('btc_1m', `from=${START}&to=${START + DAY}`), auth);
  assert.equal(ok.status, 200);
  assert.equal((ok.body as unknown as CandlesAnswer).stored, 10);

  const openapi = (await get(`${url}/openapi.json`, auth)).body as { paths: Record<string, { get?: unknown }> };
  assert.ok(openapi.paths['/collections/{name}/candles']?.get, Object.keys(openapi.paths).join(', '));
});

test('GET /graphs/{id} answers a graph set with its latest window, or the one asked for, and refuses one past the last', async (t) => {
  const { url, store } = await serve(t);
  const graphId = 'btcusdt_graph_correlation_2024_08_01';
  await store.saveGraphSet({
    graph_id: graphId,
    status: 'complete',
    windows: 2,
    feature_names: ['mean_return'],
    symbols: ['BTCUSDT', 'ETHUSDT'],
    params: { interval: '1h', window: 24 },
    created_at: START,
    updated_at: START,
  });
  for (const w of [0, 1])
    await store.writeGraphWindow({
      graph_id: graphId,
      window: w,
      start: START + w * DAY,
      end: START + (w + 1) * DAY,
      vertices: [
        {
          symbol: 'BTCUSDT',
          features: [0.001],
          label: w === 1 ? null : { class: 1, value: 0.01, known_at: START + 2 * DAY },
        },
        { symbol: 'ETHUSDT', features: [-0.002], label: null },
      ],
      edges: [{ from: 'BTCUSDT', to: 'ETHUSDT', weight: 0.8, attributes: { correlation: -0.8 } }],
    });
  const latest = await get(`${url}/graphs/${graphId}`);
  assert.equal(latest.status, 200, JSON.stringify(latest.body));
  const window = latest.body.window as { window: number; vertices: unknown[]; edges: Array<{ attributes: unknown }> };
  assert.deepEqual([window.window, window.vertices.length, window.edges[0]?.attributes], [1, 2, { correlation: -0.8 }]);
  const first = await get(`${url}/graphs/${graphId}?window=0`);
  assert.equal((first.body.window as { window: number }).window, 0);
  const past = await get(`${url}/graphs/${graphId}?window=2`);
  assert.deepEqual([past.status, past.body.message], [400, "window: 2 is past the set's last window, 1"]);
  assert.equal((await get(`${url}/graphs/nothing_here`)).status, 404);
});

test('GET /collections/{name}/trades groups an aggTrades collection into price candles within max_points, and refuses klines', async (t) => {
  const { url, store } = await serve(t);
  // An hour of one trade every 2 s, the price a slow sine.
  const trades = Array.from({ length: 1_800 }, (_, i) =>
    aggTradeFromBinance('BTCUSDT', {
      a: 1_000 + i,
      p: (60_000 + 100 * Math.sin(i / 100)).toFixed(2),
      q: '0.010',
      f: 5_000 + i,
      l: 5_000 + i,
      T: START + i * 2_000,
      m: i % 2 === 0,
      M: true,
    }),
  );
  await store.writeBatch({ collection: 'btc_trades', records: trades });
  await store.writeBatch({ collection: 'btc_1m', records: candles(10) });

  const whole = await get(`${url}/collections/btc_trades/trades?max_points=100`);
  assert.equal(whole.status, 200, JSON.stringify(whole.body));
  const body = whole.body as {
    kind: string;
    bucket: string;
    first_trade: number;
    last_trade: number;
    candles: Array<{ time: number; open: number; close: number; trades: number; volume: number }>;
  };
  assert.deepEqual(
    [body.kind, body.bucket, body.first_trade, body.last_trade],
    ['agg_trades', '1m', START, START + 1_799 * 2_000],
  );
  assert.equal(body.candles.length, 60);
  assert.ok(body.candles.every((c) => c.trades === 30));
  assert.equal(body.candles[0]!.open, Number(trades[0]!.price));
  assert.equal(body.candles[0]!.close, Number(trades[29]!.price));

  const klines = await get(`${url}/collections/btc_1m/trades`);
  assert.equal(klines.status, 400);
  assert.match(String(klines.body.message), /^name: collection btc_1m does not hold trades/);
});

test('GET /models lists what a workflow trained without curves, and GET /models/{id} answers a version with its curves', async (t) => {
  const { url, store } = await serve(t);
  const curve = [1, 2, 3].map((epoch) => ({
    epoch,
    loss: 1 / epoch,
    train_accuracy: 0.5,
    val_loss: 1,
    val_accuracy: 0.5,
  }));
  const model = (version: number, queueId: string) => ({
    model_id: 'btc_graph',
    version,
    status: 'ready' as const,
    s3_key: `models/btc_graph/v${version}/model.onnx`,
    queue_id: queueId,
    metadata: { metrics: { accuracy: 0.5 }, curves: { final: curve } },
    created_at: START + version,
    updated_at: START + version,
  });
  await store.recordModel(model(1, 'wf-btcusdt-gnn_train-20240801-aaaaaa'));
  await store.recordModel(model(2, 'wf-btcusdt-gnn_train-20240801-bbbbbb'));

  const listed = await get(`${url}/models?workflow=wf-btcusdt-gnn_train-20240801-aaaaaa`);
  assert.equal(listed.status, 200, JSON.stringify(listed.body));
  const models = listed.body.models as Array<{ version: number; metadata: Record<string, unknown> }>;
  assert.deepEqual(
    models.map((m) => [m.version, m.metadata]),
    [[1, { metrics: { accuracy: 0.5 } }]],
  );
  const latest = await get(`${url}/models/btc_graph`);
  assert.deepEqual([latest.body.version, (latest.body.metadata as { curves: unknown }).curves], [2, { final: curve }]);
  const first = await get(`${url}/models/btc_graph?version=1`);
  assert.equal(first.body.version, 1);
  assert.deepEqual(
    [(await get(`${url}/models/btc_graph?version=9`)).status, (await get(`${url}/models/none`)).status],
    [404, 404],
  );
});
