/**
 * The futures-only series through the manager's API on a SQLite store: mark and premium
 * price candles on GET /collections/{name}/candles (their own key prefix, no volumes), funding
 * rates and metrics on GET /collections/{name}/series (buckets within max_points, the limit,
 * the refusals at the door, the token rule, the OpenAPI document).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fundingRateFromRow,
  klineFromRow,
  metricsFromRow,
  priceKlineFromRow,
  type BinanceKlineRow,
  type DataRecord,
} from '@streamforge/core/contracts';
import { serveFunction } from '@streamforge/core/runtime';
import { openSqliteStore, type Store } from '@streamforge/core/store';
import { createLogger } from '@streamforge/core/telemetry';
import { registerApi } from '../src/api.ts';
import type { Manager } from '../src/manager.ts';
import { SERIES_LIMITS } from '../src/series-routes.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Date.UTC(2024, 7, 1);
const TOKEN = 'futures-charts-token';

/** Kline rows of `count` 1m candles from `start`: prices `mid(i)` ± 0.0001 × scale. */
function rows(count: number, mid: (i: number) => number, scale: number, start = START): BinanceKlineRow[] {
  return Array.from({ length: count }, (_, i) => {
    const t = start + i * MINUTE;
    const m = mid(i);
    const d = 1e-4 * scale;
    return [
      t,
      m.toFixed(8),
      (m + d).toFixed(8),
      (m - d).toFixed(8),
      (m + d / 2).toFixed(8),
      '0',
      t + MINUTE - 1,
      '0',
      0,
      '0',
      '0',
      '0',
    ];
  });
}

function funding(count: number, start = START): DataRecord[] {
  return Array.from({ length: count }, (_, i) =>
    fundingRateFromRow('BTCUSDT', {
      fundingTime: start + i * 8 * HOUR,
      fundingRate: ((i % 5) * 2e-5 - 3e-5).toFixed(8),
      fundingIntervalHours: 8,
    }),
  );
}

function metrics(count: number, start = START): DataRecord[] {
  return Array.from({ length: count }, (_, i) =>
    metricsFromRow('BTCUSDT', {
      create_time: start + i * 5 * MINUTE,
      sum_open_interest: (80_000 + i).toFixed(8),
      sum_open_interest_value: ((80_000 + i) * 60_000).toFixed(8),
      count_toptrader_long_short_ratio: (1.2 + i / 1e4).toFixed(8),
      sum_toptrader_long_short_ratio: (1.1 + i / 1e4).toFixed(8),
      count_long_short_ratio: (1.4 - i / 1e4).toFixed(8),
      sum_taker_long_short_vol_ratio: (0.9 + (i % 7) / 100).toFixed(8),
    }),
  );
}

async function serve(t: TestContext, token = ''): Promise<{ url: string; store: Store }> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-futures-charts-'));
  const store = await openSqliteStore(join(dir, 'store.sqlite'));
  // The chart routes read only the store: no manager call is made.
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

type Body = Record<string, unknown>;
type Point = { time: number; records: number } & Record<string, number>;

async function get(url: string, init?: RequestInit): Promise<{ status: number; body: Body }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Body };
}

test('a mark price collection is charted as candles of its own series, apart from trade candles beside it; a premium index keeps its small signed prices', async (t) => {
  const { url, store } = await serve(t);
  const markRows = rows(3 * 60, (i) => 60_000 + 50 * Math.sin(i / 20), 1e6).filter((_, i) => i < 60 || i >= 90);
  const marks = markRows.map((r) => priceKlineFromRow('mark_price_klines', 'BTCUSDT', '1m', r));
  // Trade candles of the same symbol and minutes, at other prices, in the same collection: never read.
  const trades = rows(3 * 60, () => 1, 1).map((r) =>
    klineFromRow('BTCUSDT', '1m', [...r.slice(0, 5), '2', ...r.slice(6)] as BinanceKlineRow),
  );
  await store.writeBatch({ collection: 'btc_mark_1m', records: marks });
  await store.writeBatch({ collection: 'btc_both_1m', records: [...trades, ...marks] });

  const answer = await get(`${url}/collections/btc_mark_1m/candles?from=${START}&to=${START + 3 * HOUR}&max_points=20`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const body = answer.body as {
    kind: string;
    bucket: string;
    candles: Array<{
      time: number;
      open: number;
      high: number;
      low: number;
      close: number;
      volume: number;
      trades: number;
      candles: number;
    }>;
    gaps: unknown[];
    stored: number;
    missing: number;
  };
  assert.deepEqual([body.kind, body.bucket, body.stored, body.missing], ['mark_price_klines', '15m', 150, 30]);
  assert.deepEqual(body.gaps, [{ from: START + HOUR, to: START + 90 * MINUTE, missing: 30 }]);
  assert.equal(body.candles.length, 10);
  assert.ok(body.candles.every((c) => c.volume === 0 && c.trades === 0 && c.candles === 15));
  assert.equal(body.candles[0]!.open, Number(marks[0]!.open));
  assert.equal(body.candles[0]!.high, Math.max(...marks.slice(0, 15).map((m) => Number(m.high))));

  // Mixed with trade candles, the collection's first key (BTCUSDT:1m:…) makes it a klines chart.
  const both = (await get(`${url}/collections/btc_both_1m/candles?max_points=20`)).body;
  assert.deepEqual([both.kind, both.stored], ['klines', 180]);

  const premium = rows(30, (i) => (i - 15) * 1e-5, 1e-1).map((r) =>
    priceKlineFromRow('premium_index_klines', 'BTCUSDT', '1m', r),
  );
  await store.writeBatch({ collection: 'btc_premium_1m', records: premium });
  const small = (await get(`${url}/collections/btc_premium_1m/candles`)).body as typeof body;
  assert.deepEqual([small.kind, small.bucket, small.candles.length], ['premium_index_klines', '1m', 30]);
  assert.deepEqual(
    small.candles.map((c) => c.low),
    premium.map((p) => Number(p.low)),
  );
  assert.ok(small.candles[0]!.low < 0);
});

test('GET /collections/{name}/series: funding rates and metrics over time, in buckets within max_points, the last record of each', async (t) => {
  const { url, store } = await serve(t);
  const rates = funding(90); // 30 days of 8-hour funding
  const rows5m = metrics(2 * 288); // two days of 5-minute metrics
  await store.writeBatch({
    collection: 'btc_funding',
    records: [
      ...rates,
      ...funding(10).map((r) => ({ ...r, key: r.key.replace('BTCUSDT', 'ETHUSDT'), symbol: 'ETHUSDT' })),
    ],
  });
  await store.writeBatch({ collection: 'btc_metrics', records: rows5m });

  const whole = await get(`${url}/collections/btc_funding/series`);
  assert.equal(whole.status, 200, JSON.stringify(whole.body));
  assert.deepEqual(
    [whole.body.kind, whole.body.symbol, whole.body.fields, whole.body.records, whole.body.complete],
    ['funding_rate', 'BTCUSDT', ['funding_rate'], 90, true],
  );
  assert.deepEqual([whole.body.from, whole.body.to], [START, START + 89 * 8 * HOUR + 1]);
  const points = whole.body.points as Point[];
  assert.equal(points.length, 90, 'one record a bucket at the default max_points');
  assert.deepEqual(
    points.map((p) => [p.time, p.funding_rate]),
    rates.map((r) => [r.funding_time, Number(r.funding_rate)]),
  );

  // 10 points at most: weekly buckets (Monday to Monday), each the last rate in it.
  const coarse = (await get(`${url}/collections/btc_funding/series?max_points=10`)).body;
  const coarsePoints = coarse.points as Point[];
  assert.deepEqual([coarse.bucket, coarse.bucket_ms], ['1w', 7 * 24 * HOUR]);
  assert.ok(coarsePoints.length <= 10);
  assert.equal(
    coarsePoints.reduce((n, p) => n + p.records, 0),
    90,
  );
  for (const p of coarsePoints) {
    const inside = rates.filter(
      (r) => Number(r.funding_time) >= p.time && Number(r.funding_time) < p.time + 7 * 24 * HOUR,
    );
    assert.equal(p.records, inside.length);
    assert.equal(p.funding_rate, Number(inside.at(-1)!.funding_rate));
  }

  // A range: [from, to) exactly, and another symbol of the same collection.
  const range = (await get(`${url}/collections/btc_funding/series?from=${START + 8 * HOUR}&to=${START + 48 * HOUR}`))
    .body;
  assert.deepEqual(
    (range.points as Point[]).map((p) => p.time),
    [1, 2, 3, 4, 5].map((i) => START + i * 8 * HOUR),
  );
  const eth = (await get(`${url}/collections/btc_funding/series?symbol=ETHUSDT`)).body;
  assert.deepEqual([eth.symbol, eth.records], ['ETHUSDT', 10]);

  const m = await get(`${url}/collections/btc_metrics/series?max_points=100`);
  assert.equal(m.status, 200, JSON.stringify(m.body));
  assert.deepEqual([m.body.kind, m.body.records, m.body.bucket], ['metrics', 576, '30m']);
  const mPoints = m.body.points as Point[];
  assert.equal(mPoints.length, 96);
  const last = rows5m[5]!;
  assert.deepEqual(Object.keys(mPoints[0]!).sort(), ['time', 'records', ...(m.body.fields as string[])].sort());
  assert.equal(mPoints[0]!.sum_open_interest, Number(last.sum_open_interest));
  assert.equal(mPoints[0]!.count_long_short_ratio, Number(last.count_long_short_ratio));
});

test('GET /collections/{name}/series: past the limit a range is refused with a `to` that fits, and without `to` the answer ends there', async (t) => {
  const { url, store } = await serve(t);
  await store.writeBatch({ collection: 'btc_metrics', records: metrics(50) });
  const saved = SERIES_LIMITS.records;
  SERIES_LIMITS.records = 20;
  t.after(() => {
    SERIES_LIMITS.records = saved;
  });
  const to = START + 50 * 5 * MINUTE;
  const refused = await get(`${url}/collections/btc_metrics/series?from=${START}&to=${to}`);
  assert.equal(refused.status, 400);
  const fits = START + 20 * 5 * MINUTE;
  assert.match(
    String(refused.body.message),
    new RegExp(`more than 20 metrics records: narrow it .*e\\.g\\. to=${fits}\\)`),
  );
  const fitting = await get(`${url}/collections/btc_metrics/series?from=${START}&to=${fits}`);
  assert.deepEqual([fitting.status, fitting.body.records, fitting.body.complete], [200, 20, true]);
  const open = await get(`${url}/collections/btc_metrics/series?from=${START + 5 * MINUTE}`);
  assert.deepEqual(
    [open.status, open.body.records, open.body.complete, open.body.to],
    [200, 20, false, START + 21 * 5 * MINUTE],
  );
});

test('refused at the door, saying why: the other kinds point at their route, a bad range, an unknown collection or symbol, and no token', async (t) => {
  const { url, store } = await serve(t, TOKEN);
  const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
  await store.writeBatch({ collection: 'btc_funding', records: funding(3) });
  await store.writeBatch({
    collection: 'btc_mark',
    records: rows(3, () => 60_000, 1).map((r) => priceKlineFromRow('mark_price_klines', 'BTCUSDT', '1m', r)),
  });
  const seriesOf = (name: string, query = '') => `${url}/collections/${name}/series?${query}`;

  const candlesOfFunding = await get(`${url}/collections/btc_funding/candles`, auth);
  assert.equal(candlesOfFunding.status, 400);
  assert.match(String(candlesOfFunding.body.message), /does not hold klines .*see \/collections\/btc_funding\/series$/);
  const seriesOfMark = await get(seriesOf('btc_mark'), auth);
  assert.equal(seriesOfMark.status, 400);
  assert.match(
    String(seriesOfMark.body.message),
    /^name: collection btc_mark does not hold funding rate or metrics records \(e\.g\. BTCUSDT:mark:1m:\d+\): see \/collections\/btc_mark\/candles$/,
  );
  const backwards = await get(seriesOf('btc_funding', `from=${START}&to=${START}`), auth);
  assert.deepEqual([backwards.status, backwards.body.message], [400, `from: ${START} must be before to: ${START}`]);
  const badPoints = await get(seriesOf('btc_funding', 'max_points=5'), auth);
  assert.equal(badPoints.status, 400);
  assert.match(String(badPoints.body.message), /max_points/);
  const unknown = await get(seriesOf('nothing_here'), auth);
  assert.deepEqual([unknown.status, unknown.body.message], [404, 'no collection nothing_here']);
  const otherSymbol = await get(seriesOf('btc_funding', 'symbol=ETHUSDT'), auth);
  assert.deepEqual(
    [otherSymbol.status, otherSymbol.body.message],
    [404, 'collection btc_funding holds no records of ETHUSDT'],
  );
  const anonymous = await get(seriesOf('btc_funding'));
  assert.equal(anonymous.status, 401);
  const ok = await get(seriesOf('btc_funding'), auth);
  assert.deepEqual([ok.status, ok.body.records], [200, 3]);

  const openapi = (await get(`${url}/openapi.json`, auth)).body as {
    paths: Record<string, { get?: { responses?: Record<string, unknown> } }>;
  };
  const route = openapi.paths['/collections/{name}/series']?.get;
  assert.ok(route, Object.keys(openapi.paths).join(', '));
  assert.ok(route.responses?.['200'] && route.responses['400'] && route.responses['404']);
});
