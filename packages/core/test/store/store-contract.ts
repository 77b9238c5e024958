/**
 * The store contract: one suite of examples every adapter must pass (sqlite.test.ts,
 * arango-standin.test.ts, arango.test.ts run it). Each test gets a fresh, empty store from
 * `openFreshStore`, which also registers its clean-up on the test.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { fundingRateFromRow, metricsFromRow } from '../../src/contracts/exchange-rows.ts';
import { aggTradeFromBinance, priceKlineFromRow, rowFromKline, type DataRecord } from '../../src/contracts/records.ts';
import { StreamForgeError, type ErrorCode } from '../../src/errors.ts';
import type {
  DeadLetter,
  GraphSet,
  GraphWindow,
  ModelRecord,
  PageProgress,
  Store,
  WorkflowRecord,
  WorkflowStatus,
} from '../../src/store/port.ts';
import { klineSeries, realKlines } from './kline-fixture.ts';

export type OpenFreshStore = (t: TestContext) => Promise<Store>;

const COLLECTION = 'btcusdt_api_candles_1h_2023_01_01';
const QUEUE = 'wf-btcusdt-api_candles_1h-20230101-a1b2c3';

const failsWith =
  (code: ErrorCode) =>
  (error: unknown): boolean =>
    StreamForgeError.is(error) && error.code === code;
const byKey = (a: DataRecord, b: DataRecord): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

function workflow(queueId: string, createdAt: number, status: WorkflowStatus = 'pending'): WorkflowRecord {
  return {
    queue_id: queueId,
    symbol: 'BTCUSDT',
    type: 'api_candles_1h',
    market: 'spot',
    time_range: '2023-01-01:2023-02-01',
    kafka_topic: 'data.klines',
    collection_name: COLLECTION,
    status,
    services: ['loader-api', 'arango-connector'],
    progress: {
      'loader-api': {
        status: 'loading',
        records_written: 1000,
        progress: { done: 1, total: 31, unit: 'pages' },
        updated_at: createdAt + 5,
      },
    },
    params: { interval: '1h', note: 'décimal "quoted"' },
    created_at: createdAt,
    updated_at: createdAt,
    version: 1,
  };
}

function part(page: number, pagePart: number, parts: number, records: number): PageProgress {
  return { queue_id: QUEUE, page, pages: 3, part: pagePart, parts, records };
}

const GRAPH = 'btcusdt_graph_correlation_2024_01_01';
const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

function graphSet(windows: number, status: GraphSet['status'] = 'complete'): GraphSet {
  return {
    graph_id: GRAPH,
    status,
    windows,
    feature_names: ['mean_return', 'volatility'],
    symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'],
    params: { interval: '1h', window: 24, step: 24, edges: { method: 'top_k', k: 1 } },
    created_at: T0,
    updated_at: T0,
  };
}

/** Window `w` of 24 hourly bars: three symbols, a triangle of edges, labels known an hour after its end. */
function graphWindow(w: number): GraphWindow {
  const start = T0 + w * 24 * HOUR;
  const end = start + 24 * HOUR;
  const label = (up: boolean, value: number) => ({ class: up ? 1 : 0, value, known_at: end + 24 * HOUR });
  return {
    graph_id: GRAPH,
    window: w,
    start,
    end,
    vertices: [
      { symbol: 'BTCUSDT', features: [0.000125, 0.0071], label: label(true, 0.0123), attributes: { bars: 24 } },
      { symbol: 'ETHUSDT', features: [-0.0002, 0.0093], label: label(false, -0.004) },
      { symbol: 'SOLUSDT', features: [1e-7, 0.02], label: null },
    ],
    edges: [
      { from: 'BTCUSDT', to: 'ETHUSDT', weight: 0.81, attributes: { correlation: 0.81 } },
      { from: 'BTCUSDT', to: 'SOLUSDT', weight: 0.42, attributes: { correlation: -0.42 } },
      { from: 'ETHUSDT', to: 'SOLUSDT', weight: 0.3 },
    ],
  };
}

function model(version: number, status: ModelRecord['status'], modelId = 'btc_graph'): ModelRecord {
  return {
    model_id: modelId,
    version,
    status,
    s3_key: `models/${modelId}/v${version}/model.onnx`,
    queue_id: `wf-q-${version}`,
    metadata:
      status === 'ready' ? { metrics: { accuracy: 0.53 }, hyperparameters: { hidden: 16 }, graph_id: GRAPH } : {},
    created_at: T0 + version,
    updated_at: T0 + version,
  };
}

export function describeStoreContract(name: string, openFreshStore: OpenFreshStore): void {
  const it = (title: string, body: (store: Store, t: TestContext) => Promise<void>): void => {
    test(`${name}: ${title}`, async (t) => body(await openFreshStore(t), t));
  };

  it('a stage counts each page done once, whoever marks it and however often, apart from stored pages', async (store) => {
    assert.deepEqual(await store.markPageDone('loader-api', QUEUE, 0, 3), { done: 1, total: 3, bytes: 0 });
    assert.deepEqual(await store.markPageDone('loader-api', QUEUE, 0, 3), { done: 1, total: 3, bytes: 0 });
    const [a, b] = await Promise.all([
      store.markPageDone('loader-api', QUEUE, 1, 3),
      store.markPageDone('loader-api', QUEUE, 2, 3),
    ]);
    assert.equal(Math.max(a.done, b.done), 3);
    assert.deepEqual(await store.markPageDone('graph-builder', QUEUE, 0, 5), { done: 1, total: 5, bytes: 0 });
    // The connector's stored-page progress of the same workflow is its own count.
    assert.equal((await store.workflowProgress(QUEUE)).pagesDone, 0);
  });

  it('a stage sums the bytes of its pages, each page once however often it is marked', async (store) => {
    assert.deepEqual(await store.markPageDone('loader-producer', QUEUE, 0, 3, 2_376_106), {
      done: 1,
      total: 3,
      bytes: 2_376_106,
    });
    // A page delivered again (a retry after its mark) adds nothing.
    assert.equal((await store.markPageDone('loader-producer', QUEUE, 0, 3, 2_376_106)).bytes, 2_376_106);
    // A REST page of the same plan moves no archive bytes.
    assert.deepEqual(await store.markPageDone('loader-producer', QUEUE, 2, 3), { done: 2, total: 3, bytes: 2_376_106 });
    assert.deepEqual(await store.markPageDone('loader-producer', QUEUE, 1, 3, 1_000), {
      done: 3,
      total: 3,
      bytes: 2_377_106,
    });
    assert.equal((await store.workflowProgress(QUEUE)).recordsWritten, 0, 'the workflow stored no record');
  });

  it('writing the same batch twice leaves one copy of each record, and a changed value replaces the stored one', async (store) => {
    const klines = realKlines().slice(0, 50);
    await store.writeBatch({ collection: COLLECTION, records: klines });
    const again = await store.writeBatch({ collection: COLLECTION, records: klines });
    assert.equal(again.written, 50);
    assert.equal(await store.countRecords(COLLECTION), 50);
    const changed = { ...klines[7], close: '16600.00000000', closed: true };
    await store.writeBatch({ collection: COLLECTION, records: [changed] });
    assert.equal(await store.countRecords(COLLECTION), 50);
    assert.deepEqual(await store.getRecord(COLLECTION, changed.key), changed);
    assert.deepEqual(await store.getRecord(COLLECTION, klines[8].key), klines[8]);
  });

  it('futures series records sit beside trade candles of the same symbol and time, each under its own key', async (store) => {
    const [candle] = realKlines().slice(0, 1);
    const row = rowFromKline(candle);
    const records: DataRecord[] = [
      candle,
      ...(['mark_price_klines', 'index_price_klines', 'premium_index_klines'] as const).map((kind) =>
        priceKlineFromRow(kind, candle.symbol, candle.interval, row),
      ),
      fundingRateFromRow(candle.symbol, {
        fundingTime: candle.open_time,
        fundingRate: '-0.00012000',
        fundingIntervalHours: 8,
      }),
      metricsFromRow(candle.symbol, {
        create_time: candle.open_time,
        sum_open_interest: '80937.87000000',
        sum_open_interest_value: '3425678451.12000000',
        count_toptrader_long_short_ratio: '1.27760000',
        sum_toptrader_long_short_ratio: '1.10830000',
        count_long_short_ratio: '1.44100000',
        sum_taker_long_short_vol_ratio: '0.93210000',
      }),
    ];
    await store.writeBatch({ collection: COLLECTION, records });
    assert.equal(await store.countRecords(COLLECTION), records.length);
    for (const record of records) assert.deepEqual(await store.getRecord(COLLECTION, record.key), record);
  });

  it('records come back exactly as written: decimal strings, integers, booleans and nested values', async (store) => {
    const klines = realKlines()
      .slice(100, 110)
      .map((k, i) => (i % 2 === 0 ? { ...k, closed: i % 4 === 0 } : k));
    const trades = [
      aggTradeFromBinance('BTCUSDT', {
        a: 26129,
        p: '0.01633102',
        q: '4.70443515',
        f: 27781,
        l: 27781,
        T: 1498793709153,
        m: true,
        M: true,
      }),
      aggTradeFromBinance('BTCUSDT', {
        a: 26130,
        p: '16541.77000000',
        q: '0.00000100',
        f: 27782,
        l: 27790,
        T: 1498793709154,
        m: false,
      }),
    ];
    const live: DataRecord = {
      key: 'BTCUSDT:depth:000000000000042',
      symbol: 'BTCUSDT',
      bids: [
        ['16541.77', '0.5'],
        ['16541.70', '0'],
      ],
      last_update_id: 42,
      snapshot: null,
      meta: { source: 'ws', exact: '1e-8' },
    };
    await store.writeBatch({ collection: COLLECTION, records: klines });
    await store.writeBatch({ collection: 'btcusdt_api_agg_trades_2017_06_30', records: trades });
    await store.writeBatch({ collection: 'btcusdt_ws_depth', records: [live] });
    assert.deepEqual(await store.listRecords(COLLECTION, { limit: 100 }), klines);
    assert.deepEqual(await store.listRecords('btcusdt_api_agg_trades_2017_06_30', { limit: 100 }), trades);
    assert.deepEqual(await store.getRecord('btcusdt_ws_depth', live.key), live);
    assert.equal(typeof (await store.getRecord(COLLECTION, klines[0].key))!.open_time, 'number');
  });

  it('a batch of 2,345 records is stored whole and listed in key order', async (store) => {
    const klines = klineSeries(2345);
    const shuffled = [...klines].sort((a, b) => (a.open_time % 7) - (b.open_time % 7) || a.open_time - b.open_time);
    const result = await store.writeBatch({ collection: COLLECTION, records: shuffled });
    assert.deepEqual(result, { written: 2345, rejected: 0, progress: undefined });
    assert.equal(await store.countRecords(COLLECTION), 2345);
    assert.deepEqual(await store.listRecords(COLLECTION, { limit: 5000 }), klines);
  });

  it('listRecords pages through a collection in key order with after and limit', async (store) => {
    const klines = realKlines();
    const shuffled = [...klines].reverse();
    for (let i = 0; i < shuffled.length; i += 300)
      await store.writeBatch({ collection: COLLECTION, records: shuffled.slice(i, i + 300) });
    const seen: DataRecord[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.listRecords(COLLECTION, { limit: 100, ...(after === undefined ? {} : { after }) });
      if (page.length === 0) break;
      seen.push(...page);
      after = page.at(-1)!.key;
    }
    assert.deepEqual(seen, [...klines].sort(byKey));
    assert.deepEqual(await store.listRecords(COLLECTION, { limit: 0 }), []);
    assert.deepEqual(await store.listRecords(COLLECTION, { limit: 2, after: klines[9].key }), klines.slice(10, 12));
    await assert.rejects(store.listRecords(COLLECTION, { limit: -1 }), failsWith('SF_CONTRACT_INVALID'));
  });

  it('a key repeated inside one batch keeps its last record', async (store) => {
    const [first, second] = realKlines();
    const batch = [first, second, { ...first, volume: '1.00000000' }, { ...first, volume: '2.00000000' }];
    await store.writeBatch({ collection: COLLECTION, records: batch });
    assert.equal(await store.countRecords(COLLECTION), 2);
    assert.equal((await store.getRecord(COLLECTION, first.key))!.volume, '2.00000000');
  });

  it('a record key outside the ArangoDB _key characters is stored and read back by that key', async (store) => {
    const odd = { key: 'BTC/USDT 1h #é', symbol: 'BTCUSDT', price: '1.0' };
    const long = { key: `BTCUSDT:${'9'.repeat(300)}`, symbol: 'BTCUSDT', price: '2.0' };
    await store.writeBatch({ collection: COLLECTION, records: [odd, long] });
    assert.deepEqual(await store.getRecord(COLLECTION, odd.key), odd);
    assert.deepEqual(await store.getRecord(COLLECTION, long.key), long);
    assert.equal(await store.countRecords(COLLECTION), 2);
  });

  it("countRecords and listCollections report every record collection with its count, and never the store's own", async (store) => {
    await store.ensureCollection('ethusdt_api_candles_1h_2023_01_01');
    await store.writeBatch({
      collection: COLLECTION,
      records: realKlines().slice(0, 3),
      rejected: [{ collection: COLLECTION, queue_id: QUEUE, reason: 'close_time: wrong', record: { key: 'x' } }],
      progress: part(0, 0, 1, 4),
    });
    await store.createWorkflow(workflow(QUEUE, 1_700_000_000_000));
    await store.appendEvent({
      queue_id: QUEUE,
      event_id: 'evt-1',
      received_at: 1_700_000_000_001,
      event: { status: 'loading' },
    });
    assert.equal(await store.countRecords(COLLECTION), 3);
    assert.deepEqual(await store.listCollections(), [
      { name: COLLECTION, count: 3 },
      { name: 'ethusdt_api_candles_1h_2023_01_01', count: 0 },
    ]);
  });

  it('aggregateCandles groups one series into buckets of whole intervals and lists its gaps, before, between and after the stored candles', async (store) => {
    const MINUTE = 60_000;
    const start = Date.UTC(2024, 7, 1);
    // Three hours of 1m candles with 10 missing from 01:00, another symbol beside them.
    const series = klineSeries(180, start).filter((_, i) => i < 60 || i >= 70);
    await store.writeBatch({ collection: 'charts', records: [...series, ...klineSeries(180, start, 'ETHUSDT')] });
    const query = { symbol: 'BTCUSDT', interval: '1m' as const, from: start, to: start + 180 * MINUTE, maxGaps: 10 };

    const plain = await store.aggregateCandles('charts', { ...query, bucketMs: 0, bucketOffsetMs: 0 });
    assert.equal(plain.candles.length, 170);
    assert.deepEqual(plain.candles[0], {
      time: start,
      open: Number(series[0]!.open),
      high: Number(series[0]!.high),
      low: Number(series[0]!.low),
      close: Number(series[0]!.close),
      volume: Number(series[0]!.volume),
      quote_volume: Number(series[0]!.quote_asset_volume),
      trades: series[0]!.number_of_trades,
      candles: 1,
    });
    assert.deepEqual(plain.gaps, [{ from: start + 60 * MINUTE, to: start + 70 * MINUTE, missing: 10 }]);
    assert.deepEqual([plain.stored, plain.expected, plain.gaps_truncated], [170, 180, false]);

    // 15m buckets: the hole falls inside the 01:00 bucket, which holds 5 candles.
    const coarse = await store.aggregateCandles('charts', { ...query, bucketMs: 15 * MINUTE, bucketOffsetMs: 0 });
    assert.deepEqual(
      coarse.candles.map((c) => [(c.time - start) / MINUTE, c.candles]),
      Array.from({ length: 12 }, (_, i) => [i * 15, i === 4 ? 5 : 15]),
    );
    const inBucket = series.filter((r) => r.open_time >= start + 15 * MINUTE && r.open_time < start + 30 * MINUTE);
    const second = coarse.candles[1]!;
    assert.equal(second.open, Number(inBucket[0]!.open));
    assert.equal(second.close, Number(inBucket.at(-1)!.close));
    assert.equal(second.high, Math.max(...inBucket.map((r) => Number(r.high))));
    assert.equal(second.low, Math.min(...inBucket.map((r) => Number(r.low))));
    assert.equal(
      second.trades,
      inBucket.reduce((n, r) => n + r.number_of_trades, 0),
    );
    const volume = inBucket.reduce((n, r) => n + Number(r.volume), 0);
    assert.ok(Math.abs(second.volume - volume) < 1e-6 * volume, `${second.volume} vs ${volume}`);
    assert.deepEqual(coarse.gaps, plain.gaps);

    // 1h buckets: the whole second hour is one bucket; a range wider than the data shows a gap
    // on each side, up to what is expected by then.
    const wide = await store.aggregateCandles('charts', {
      ...query,
      from: start - 30 * MINUTE,
      to: start + 240 * MINUTE,
      expectedUntil: start + 200 * MINUTE,
      bucketMs: 60 * MINUTE,
      bucketOffsetMs: 0,
    });
    assert.deepEqual(
      wide.candles.map((c) => [(c.time - start) / MINUTE, c.candles]),
      [
        [0, 60],
        [60, 50],
        [120, 60],
      ],
    );
    assert.deepEqual(wide.gaps, [
      { from: start - 30 * MINUTE, to: start, missing: 30 },
      { from: start + 60 * MINUTE, to: start + 70 * MINUTE, missing: 10 },
      { from: start + 180 * MINUTE, to: start + 200 * MINUTE, missing: 20 },
    ]);
    assert.deepEqual([wide.stored, wide.expected], [170, 230]);

    // A whole bucket missing is a gap between two full buckets.
    const hourly = await store.aggregateCandles('charts', {
      ...query,
      bucketMs: 10 * MINUTE,
      bucketOffsetMs: 0,
    });
    assert.equal(hourly.candles.length, 17);
    assert.deepEqual(hourly.gaps, plain.gaps);
  });

  it("aggregateCandles lists the earliest gaps up to maxGaps and says when there are more; an unknown collection is one gap; candleExtent finds a series' first and last candle", async (store) => {
    const MINUTE = 60_000;
    const start = Date.UTC(2024, 7, 1);
    // Every third candle missing: 20 holes in an hour.
    await store.writeBatch({ collection: 'holes', records: klineSeries(60, start).filter((_, i) => i % 3 !== 1) });
    const query = { symbol: 'BTCUSDT', interval: '1m' as const, from: start, to: start + 60 * MINUTE };
    const some = await store.aggregateCandles('holes', {
      ...query,
      bucketMs: 30 * MINUTE,
      bucketOffsetMs: 0,
      maxGaps: 3,
    });
    assert.deepEqual(
      some.gaps.map((g) => [(g.from - start) / MINUTE, g.missing]),
      [
        [1, 1],
        [4, 1],
        [7, 1],
      ],
    );
    assert.deepEqual([some.gaps_truncated, some.stored, some.expected], [true, 40, 60]);
    const every = await store.aggregateCandles('holes', {
      ...query,
      bucketMs: 30 * MINUTE,
      bucketOffsetMs: 0,
      maxGaps: 100,
    });
    assert.equal(every.gaps.length, 20);
    assert.equal(every.gaps_truncated, false);

    assert.deepEqual(await store.candleExtent('holes', { symbol: 'BTCUSDT', interval: '1m' }), {
      first: start,
      last: start + 59 * MINUTE,
    });
    assert.equal(await store.candleExtent('holes', { symbol: 'BTCUSDT', interval: '5m' }), undefined);
    assert.equal(await store.candleExtent('holes', { symbol: 'ETHUSDT', interval: '1m' }), undefined);
    assert.equal(await store.candleExtent('never_written', { symbol: 'BTCUSDT', interval: '1m' }), undefined);
    const none = await store.aggregateCandles('never_written', {
      ...query,
      bucketMs: 0,
      bucketOffsetMs: 0,
      maxGaps: 5,
    });
    assert.deepEqual(none, {
      candles: [],
      gaps: [{ from: start, to: start + 60 * MINUTE, missing: 60 }],
      gaps_truncated: false,
      stored: 0,
      expected: 60,
    });
    await assert.rejects(
      store.aggregateCandles('holes', { ...query, from: query.to, bucketMs: 0, bucketOffsetMs: 0, maxGaps: 5 }),
      failsWith('SF_CONTRACT_INVALID'),
    );
  });

  it('aggregateCandles and candleExtent read a price series (mark, premium) by its kind, apart from the trade candles of the same symbol and interval; no volumes, no nulls', async (store) => {
    const MINUTE = 60_000;
    const start = Date.UTC(2024, 7, 1);
    const trade = klineSeries(120, start);
    // Mark candles: two hours with 01:00–01:10 missing, and an hour more than the trade candles.
    const mark = klineSeries(180, start)
      .filter((_, i) => i < 60 || i >= 70)
      .map((c) => priceKlineFromRow('mark_price_klines', c.symbol, c.interval, rowFromKline(c)));
    // The premium index: small signed numbers around zero.
    const premium = klineSeries(30, start).map((c, i) =>
      priceKlineFromRow('premium_index_klines', c.symbol, c.interval, [
        c.open_time,
        ((i - 15) * 1e-5).toFixed(8),
        ((i - 14) * 1e-5).toFixed(8),
        ((i - 16.5) * 1e-5).toFixed(8),
        ((i - 15.5) * 1e-5).toFixed(8),
        '0',
        c.close_time,
        '0',
        0,
        '0',
        '0',
        '0',
      ]),
    );
    await store.writeBatch({ collection: 'prices', records: [...trade, ...mark, ...premium] });
    const query = { symbol: 'BTCUSDT', interval: '1m' as const, from: start, to: start + 180 * MINUTE, maxGaps: 10 };

    const klines = await store.aggregateCandles('prices', { ...query, bucketMs: 0, bucketOffsetMs: 0 });
    assert.equal(klines.stored, 120);
    assert.ok(klines.candles.every((c) => c.volume > 0));

    const hourly = await store.aggregateCandles('prices', {
      ...query,
      kind: 'mark_price_klines',
      bucketMs: 60 * MINUTE,
      bucketOffsetMs: 0,
    });
    assert.deepEqual(
      hourly.candles.map((c) => [(c.time - start) / MINUTE, c.candles, c.volume, c.quote_volume, c.trades]),
      [
        [0, 60, 0, 0, 0],
        [60, 50, 0, 0, 0],
        [120, 60, 0, 0, 0],
      ],
    );
    const second = mark.filter((c) => c.open_time >= start + 60 * MINUTE && c.open_time < start + 120 * MINUTE);
    assert.deepEqual(
      [hourly.candles[1]!.open, hourly.candles[1]!.high, hourly.candles[1]!.low, hourly.candles[1]!.close],
      [
        Number(second[0]!.open),
        Math.max(...second.map((c) => Number(c.high))),
        Math.min(...second.map((c) => Number(c.low))),
        Number(second.at(-1)!.close),
      ],
    );
    assert.deepEqual(hourly.gaps, [{ from: start + 60 * MINUTE, to: start + 70 * MINUTE, missing: 10 }]);
    assert.deepEqual([hourly.stored, hourly.expected], [170, 180]);

    const each = await store.aggregateCandles('prices', {
      ...query,
      kind: 'premium_index_klines',
      bucketMs: 0,
      bucketOffsetMs: 0,
    });
    assert.deepEqual(
      each.candles.map((c) => [c.open, c.high, c.low, c.close, c.volume, c.trades]),
      premium.map((c) => [Number(c.open), Number(c.high), Number(c.low), Number(c.close), 0, 0]),
    );
    assert.ok(each.candles[0]!.low < 0 && each.candles.at(-1)!.high > 0);
    const premiumBuckets = await store.aggregateCandles('prices', {
      ...query,
      kind: 'premium_index_klines',
      bucketMs: 15 * MINUTE,
      bucketOffsetMs: 0,
    });
    assert.deepEqual(
      premiumBuckets.candles.map((c) => [c.candles, c.low, c.high, c.volume]),
      [
        [15, -16.5e-5, 0, 0],
        [15, -1.5e-5, 15e-5, 0],
      ].map(([n, low, high, v]) => [n, Number(low!.toFixed(8)), Number(high!.toFixed(8)), v]),
    );

    assert.deepEqual(await store.candleExtent('prices', { ...query, kind: 'mark_price_klines' }), {
      first: start,
      last: start + 179 * MINUTE,
    });
    assert.deepEqual(await store.candleExtent('prices', query), { first: start, last: start + 119 * MINUTE });
    assert.equal(await store.candleExtent('prices', { ...query, kind: 'index_price_klines' }), undefined);
    const none = await store.aggregateCandles('prices', {
      ...query,
      kind: 'index_price_klines',
      bucketMs: 0,
      bucketOffsetMs: 0,
    });
    assert.deepEqual([none.stored, none.candles.length, none.gaps.length], [0, 0, 1]);
  });

  it("aggregateTrades groups one symbol's trades in a time range into price candles, whatever ids are missing; tradeExtent finds its first and last", async (store) => {
    const start = Date.UTC(2024, 7, 1);
    const trade = (symbol: string, id: number) =>
      aggTradeFromBinance(symbol, {
        a: id,
        p: (100 + (id % 7) + id / 100).toFixed(2),
        q: (0.5 + (id % 3)).toFixed(3),
        f: id,
        l: id,
        T: start + id * 1_000,
        m: id % 2 === 0,
        M: true,
      });
    const ids = Array.from({ length: 40 }, (_, i) => i + 1).filter((id) => id < 11 || id > 15);
    await store.writeBatch({
      collection: 'trades',
      records: [...ids.map((id) => trade('BTCUSDT', id)), ...ids.map((id) => trade('ETHUSDT', id))],
    });
    const buckets = await store.aggregateTrades('trades', {
      symbol: 'BTCUSDT',
      kind: 'agg',
      from: start + 5_000,
      to: start + 32_000,
      bucketMs: 10_000,
      bucketOffsetMs: 0,
    });
    const expected = [
      [0, [5, 6, 7, 8, 9]],
      [10, [10, 16, 17, 18, 19]],
      [20, [20, 21, 22, 23, 24, 25, 26, 27, 28, 29]],
      [30, [30, 31]],
    ] as const;
    assert.deepEqual(
      buckets.map((b) => [(b.time - start) / 1_000, b.trades]),
      expected.map(([at, inside]) => [at, inside.length]),
    );
    for (const [i, [, inside]] of expected.entries()) {
      const trades = inside.map((id) => trade('BTCUSDT', id));
      const bucket = buckets[i]!;
      assert.equal(bucket.open, Number(trades[0]!.price));
      assert.equal(bucket.close, Number(trades.at(-1)!.price));
      assert.equal(bucket.high, Math.max(...trades.map((t) => Number(t.price))));
      assert.equal(bucket.low, Math.min(...trades.map((t) => Number(t.price))));
      const volume = trades.reduce((n, t) => n + Number(t.quantity), 0);
      assert.ok(Math.abs(bucket.volume - volume) < 1e-9, `${bucket.volume} vs ${volume}`);
      const quote = trades.reduce((n, t) => n + Number(t.price) * Number(t.quantity), 0);
      assert.ok(Math.abs(bucket.quote_volume - quote) < 1e-6, `${bucket.quote_volume} vs ${quote}`);
    }
    assert.deepEqual(await store.tradeExtent('trades', { symbol: 'BTCUSDT', kind: 'agg' }), {
      first: start + 1_000,
      last: start + 40_000,
    });
    assert.equal(await store.tradeExtent('trades', { symbol: 'BTCUSDT', kind: 'trade' }), undefined);
    const none = { symbol: 'BTCUSDT', kind: 'agg' as const, bucketMs: 10_000, bucketOffsetMs: 0 };
    assert.deepEqual(await store.aggregateTrades('trades', { ...none, from: start + 50_000, to: start + 60_000 }), []);
    assert.deepEqual(await store.aggregateTrades('never_written', { ...none, from: start, to: start + 60_000 }), []);
  });

  it('ensureCollection is idempotent and keeps the records already there', async (store) => {
    await store.ensureCollection(COLLECTION);
    await store.ensureCollection(COLLECTION);
    await store.writeBatch({ collection: COLLECTION, records: realKlines().slice(0, 5) });
    await store.ensureCollection(COLLECTION);
    assert.equal(await store.countRecords(COLLECTION), 5);
  });

  it('reads of a collection that does not exist find nothing instead of failing', async (store) => {
    assert.equal(await store.countRecords('never_written'), 0);
    assert.deepEqual(await store.listRecords('never_written', { limit: 10 }), []);
    assert.equal(await store.getRecord('never_written', 'BTCUSDT:1h:1672531200000'), undefined);
    assert.equal(await store.countRecords('not a name!'), 0);
    await store.ensureCollection(COLLECTION);
    assert.equal(await store.getRecord(COLLECTION, 'BTCUSDT:1h:1672531200000'), undefined);
  });

  it("collection names follow the ArangoDB rule, the store's own names are refused, and names differing in case are two collections", async (store) => {
    for (const bad of ['1candles', 'btc usdt', '', 'a'.repeat(257), 'candles/1h']) {
      await assert.rejects(store.ensureCollection(bad), failsWith('SF_CONTRACT_INVALID'), bad);
    }
    await assert.rejects(
      store.writeBatch({ collection: 'workflows', records: realKlines().slice(0, 1) }),
      failsWith('SF_CONTRACT_INVALID'),
    );
    await assert.rejects(store.ensureCollection('rejected_records'), /reserved/);
    await store.writeBatch({ collection: 'Candles', records: realKlines().slice(0, 2) });
    await store.writeBatch({ collection: 'candles', records: realKlines().slice(0, 3) });
    assert.equal(await store.countRecords('Candles'), 2);
    assert.equal(await store.countRecords('candles'), 3);
  });

  it('a batch with a record lacking its key is refused whole, before anything is written', async (store) => {
    const [good] = realKlines();
    const { key: _key, ...keyless } = good;
    await assert.rejects(
      store.writeBatch({ collection: COLLECTION, records: [good, keyless as unknown as DataRecord] }),
      (e: unknown) => failsWith('SF_CONTRACT_INVALID')(e) && /records\[1\]\.key/.test((e as Error).message),
    );
    assert.equal(await store.countRecords(COLLECTION), 0);
  });

  it('rejected records are stored with their reason and raw record, once however often their batch is delivered', async (store) => {
    const rejected = [
      {
        collection: COLLECTION,
        queue_id: QUEUE,
        key: 'BTCUSDT:1h:1672531200000',
        reason: 'close_time: 1672534799998 does not close a 1h candle opened at 1672531200000',
        record: { key: 'BTCUSDT:1h:1672531200000', open: '16541.77000000' },
      },
      { collection: COLLECTION, queue_id: QUEUE, reason: '(root): must be object', record: 'garbage' },
      { collection: COLLECTION, queue_id: QUEUE, reason: 'open: must match pattern', record: [1672531200000, 'x'] },
    ];
    const batch = { collection: COLLECTION, records: realKlines().slice(1, 3), rejected };
    const first = await store.writeBatch(batch);
    assert.equal(first.rejected, 3);
    await store.writeBatch(batch);
    assert.deepEqual(await store.listRejected(QUEUE, 10), rejected);
    assert.deepEqual(await store.listRejected(QUEUE, 1), rejected.slice(0, 1));
    assert.deepEqual(await store.listRejected('wf-other-queue', 10), []);
    assert.equal((await store.workflowProgress(QUEUE)).rejected, 3);
    assert.equal(await store.countRecords(COLLECTION), 2);
  });

  it('page progress counts each part once however often it is delivered, and a page is done only when all its parts are in', async (store) => {
    const klines = realKlines();
    const write = (progress: PageProgress, from: number) =>
      store.writeBatch({ collection: COLLECTION, records: klines.slice(from, from + progress.records), progress });
    // The workflow's progress after a write: three pages planned, nothing rejected.
    const counted = (pagesDone: number, recordsWritten: number) => ({
      queue_id: QUEUE,
      pagesDone,
      pagesTotal: 3,
      recordsWritten,
      rejected: 0,
    });
    let result = await write(part(0, 0, 2, 100), 0);
    assert.deepEqual(result.progress, counted(0, 100));
    result = await write(part(0, 0, 2, 100), 0);
    assert.deepEqual(result.progress, counted(0, 100));
    result = await write(part(0, 1, 2, 50), 100);
    assert.deepEqual(result.progress, counted(1, 150));
    await write(part(2, 0, 1, 80), 300);
    result = await write(part(2, 0, 1, 80), 300);
    assert.deepEqual(result.progress, counted(2, 230));
    assert.deepEqual(await store.workflowProgress(QUEUE), result.progress);
    assert.equal(await store.countRecords(COLLECTION), 230);
  });

  it('workflowProgress of a workflow with nothing stored is empty', async (store) => {
    assert.deepEqual(await store.workflowProgress('wf-unknown-queue'), {
      queue_id: 'wf-unknown-queue',
      pagesDone: 0,
      pagesTotal: undefined,
      recordsWritten: 0,
      rejected: 0,
    });
  });

  it('createWorkflow stores a workflow once; creating its queue_id again fails with SF_CONFLICT', async (store) => {
    const created = workflow(QUEUE, 1_700_000_000_000);
    await store.createWorkflow(created);
    assert.deepEqual(await store.getWorkflow(QUEUE), created);
    await assert.rejects(store.createWorkflow({ ...created, status: 'running' }), failsWith('SF_CONFLICT'));
    assert.deepEqual(await store.getWorkflow(QUEUE), created);
    assert.equal(await store.getWorkflow('wf-unknown-queue'), undefined);
  });

  it('listWorkflows returns the newest first, filters by status and pages with before', async (store) => {
    const t0 = 1_700_000_000_000;
    const all = [
      workflow('wf-a', t0, 'completed'),
      workflow('wf-b', t0 + 1000, 'running'),
      workflow('wf-c', t0 + 2000, 'running'),
      workflow('wf-d', t0 + 2000, 'error'),
      workflow('wf-e', t0 + 3000, 'running'),
    ];
    for (const w of all) await store.createWorkflow(w);
    const newestFirst = ['wf-e', 'wf-d', 'wf-c', 'wf-b', 'wf-a'];
    assert.deepEqual(
      (await store.listWorkflows({ limit: 10 })).map((w) => w.queue_id),
      newestFirst,
    );
    assert.deepEqual(await store.listWorkflows({ limit: 1 }), [all[4]]);
    assert.deepEqual(
      (await store.listWorkflows({ limit: 10, status: 'running' })).map((w) => w.queue_id),
      ['wf-e', 'wf-c', 'wf-b'],
    );
    assert.deepEqual(
      (await store.listWorkflows({ limit: 2, before: 'wf-d' })).map((w) => w.queue_id),
      ['wf-c', 'wf-b'],
    );
    assert.deepEqual(
      (await store.listWorkflows({ limit: 10, before: 'wf-d', status: 'running' })).map((w) => w.queue_id),
      ['wf-c', 'wf-b'],
    );
    assert.deepEqual(await store.listWorkflows({ limit: 10, status: 'stopped' }), []);
    await assert.rejects(store.listWorkflows({ limit: 10, before: 'wf-unknown' }), failsWith('SF_NOT_FOUND'));
  });

  it('replaceWorkflow is a compare-and-set on the version: a stale writer gets false and changes nothing', async (store) => {
    const v1 = workflow(QUEUE, 1_700_000_000_000);
    await store.createWorkflow(v1);
    const running = { ...v1, status: 'running' as const, updated_at: v1.updated_at + 1, version: 2 };
    assert.equal(await store.replaceWorkflow(running), true);
    assert.equal(await store.replaceWorkflow({ ...v1, status: 'error', error: 'stale', version: 2 }), false);
    assert.deepEqual(await store.getWorkflow(QUEUE), running);
    const racers = await Promise.all([
      store.replaceWorkflow({ ...running, status: 'completed', version: 3 }),
      store.replaceWorkflow({ ...running, status: 'stopped', version: 3 }),
    ]);
    assert.deepEqual(racers.filter(Boolean).length, 1);
    assert.equal((await store.getWorkflow(QUEUE))!.version, 3);
    assert.deepEqual(
      (await store.listWorkflows({ limit: 10, status: 'running' })).map((w) => w.queue_id),
      [],
    );
    assert.equal(await store.replaceWorkflow(workflow('wf-unknown-queue', 1, 'running')), false);
  });

  it('appendEvent keeps an event id once per workflow, and listEvents returns the trail in received order', async (store) => {
    const event = (eventId: string, receivedAt: number, queueId = QUEUE) => ({
      queue_id: queueId,
      event_id: eventId,
      received_at: receivedAt,
      event: { status: 'loading', id: eventId, records_written: receivedAt % 1000 },
    });
    assert.equal(await store.appendEvent(event('evt-1', 1_700_000_000_010)), true);
    assert.equal(await store.appendEvent(event('evt-3', 1_700_000_000_030)), true);
    assert.equal(await store.appendEvent(event('evt-2', 1_700_000_000_020)), true);
    assert.equal(await store.appendEvent(event('evt-1', 1_700_000_000_099)), false);
    assert.equal(await store.appendEvent(event('evt-1', 1_700_000_000_010, 'wf-other-queue')), true);
    assert.equal(await store.appendEvent(event('evt-b', 1_700_000_000_040)), true);
    assert.equal(await store.appendEvent(event('evt-a', 1_700_000_000_040)), true);
    const trail = await store.listEvents(QUEUE, { limit: 10 });
    assert.deepEqual(
      trail.map((e) => e.event_id),
      ['evt-1', 'evt-2', 'evt-3', 'evt-a', 'evt-b'],
    );
    assert.deepEqual(trail[0], event('evt-1', 1_700_000_000_010));
    assert.deepEqual(
      (await store.listEvents(QUEUE, { limit: 10, after: { receivedAt: 1_700_000_000_010, eventId: 'evt-1' } })).map(
        (e) => e.event_id,
      ),
      ['evt-2', 'evt-3', 'evt-a', 'evt-b'],
    );
    // Two events in one millisecond across a page boundary: the second is on the next page, not skipped.
    const [first] = await store.listEvents(QUEUE, {
      limit: 1,
      after: { receivedAt: 1_700_000_000_030, eventId: 'evt-3' },
    });
    assert.equal(first?.event_id, 'evt-a');
    assert.deepEqual(
      (
        await store.listEvents(QUEUE, {
          limit: 10,
          after: { receivedAt: first!.received_at, eventId: first!.event_id },
        })
      ).map((e) => e.event_id),
      ['evt-b'],
    );
    assert.deepEqual(
      (await store.listEvents(QUEUE, { limit: 1 })).map((e) => e.event_id),
      ['evt-1'],
    );
    assert.deepEqual(await store.listEvents('wf-nothing-here', { limit: 10 }), []);
  });

  it('a dead letter is kept once by its id, listed per workflow in order, counted per service and marked replayed once', async (store) => {
    const letter = (id: string, at: number, service = 'loader-api', queueId = QUEUE): DeadLetter => ({
      id,
      queue_id: queueId,
      service,
      topic: 'loader-api-work',
      reason: `sink answered 500 (${id})`,
      status: 500,
      dead_lettered_at: at,
      event: {
        id: `${queueId}:page:3`,
        type: 'dev.streamforge.work.page',
        subject: queueId,
        data: { page: { index: 3 }, note: 'décimal "quoted"' },
      },
    });
    assert.equal(await store.recordDeadLetter(letter('loader-api-work-dlq:0:7', 1_700_000_000_020)), true);
    assert.equal(await store.recordDeadLetter(letter('loader-api-work-dlq:0:7', 1_700_000_000_099)), false);
    assert.equal(await store.recordDeadLetter(letter('loader-api-work-dlq:0:5', 1_700_000_000_010)), true);
    assert.equal(await store.recordDeadLetter(letter('data-dlq:0:1', 1_700_000_000_020, 'arango-connector')), true);
    assert.equal(
      await store.recordDeadLetter(letter('data-dlq:0:2', 1_700_000_000_030, 'arango-connector', 'wf-other-queue')),
      true,
    );

    assert.deepEqual(
      await store.getDeadLetter('loader-api-work-dlq:0:7'),
      letter('loader-api-work-dlq:0:7', 1_700_000_000_020),
    );
    assert.equal(await store.getDeadLetter('data-dlq:9:9'), undefined);
    const ofQueue = await store.listDeadLetters({ queue_id: QUEUE, limit: 10 });
    assert.deepEqual(
      ofQueue.map((d) => d.id),
      ['loader-api-work-dlq:0:5', 'data-dlq:0:1', 'loader-api-work-dlq:0:7'],
    );
    assert.deepEqual(
      (
        await store.listDeadLetters({ limit: 10, after: { receivedAt: 1_700_000_000_020, eventId: 'data-dlq:0:1' } })
      ).map((d) => d.id),
      ['loader-api-work-dlq:0:7', 'data-dlq:0:2'],
    );

    assert.equal(await store.markReplayed('loader-api-work-dlq:0:5', 1_700_000_001_000), true);
    assert.equal(await store.markReplayed('loader-api-work-dlq:0:5', 1_700_000_002_000), false);
    assert.equal((await store.getDeadLetter('loader-api-work-dlq:0:5'))?.replayed_at, 1_700_000_001_000);
    assert.deepEqual(await store.countDeadLetters(QUEUE), {
      'loader-api': { total: 2, replayed: 1, reason: 'sink answered 500 (loader-api-work-dlq:0:7)' },
      'arango-connector': { total: 1, replayed: 0, reason: 'sink answered 500 (data-dlq:0:1)' },
    });
    assert.deepEqual(await store.countDeadLetters('wf-nothing-here'), {});
  });

  it('a graph set reads back window by window, vertices by symbol and edges by pair, exactly as written', async (store) => {
    await store.saveGraphSet(graphSet(3, 'building'));
    for (const w of [2, 0, 1]) await store.writeGraphWindow(graphWindow(w));
    await store.saveGraphSet(graphSet(3));
    const graph = await store.readGraph(GRAPH);
    assert.deepEqual(graph, { set: graphSet(3), windows: [0, 1, 2].map(graphWindow) });
    assert.deepEqual(await store.readGraph(GRAPH, { window: 1 }), { set: graphSet(3), windows: [graphWindow(1)] });
    assert.deepEqual(await store.readGraph(GRAPH, { window: 7 }), { set: graphSet(3), windows: [] });
    assert.deepEqual(await store.getGraphSet(GRAPH), graphSet(3));
    assert.deepEqual(await store.listGraphs(), [graphSet(3)]);
    assert.equal(await store.readGraph('no_such_graph'), undefined);
    assert.equal(await store.getGraphSet('not a graph!'), undefined);
  });

  it('writing a window again replaces it whole, also when the new one has fewer edges and vertices', async (store) => {
    await store.saveGraphSet(graphSet(2));
    await store.writeGraphWindow(graphWindow(0));
    await store.writeGraphWindow(graphWindow(1));
    await store.writeGraphWindow(graphWindow(1));
    assert.deepEqual((await store.readGraph(GRAPH))!.windows, [graphWindow(0), graphWindow(1)]);
    const smaller = {
      ...graphWindow(1),
      vertices: graphWindow(1).vertices.slice(0, 2),
      edges: [{ from: 'ETHUSDT', to: 'BTCUSDT', weight: 0.5 }],
    };
    await store.writeGraphWindow(smaller);
    assert.deepEqual((await store.readGraph(GRAPH))!.windows, [graphWindow(0), smaller]);
    const empty = { ...graphWindow(0), vertices: [], edges: [] };
    await store.writeGraphWindow(empty);
    assert.deepEqual((await store.readGraph(GRAPH))!.windows, [smaller], 'a window with no vertex is not stored');
  });

  it('saving a graph set with fewer windows drops the windows beyond it', async (store) => {
    await store.saveGraphSet(graphSet(3));
    for (const w of [0, 1, 2]) await store.writeGraphWindow(graphWindow(w));
    await store.saveGraphSet(graphSet(1));
    assert.deepEqual(await store.readGraph(GRAPH), { set: graphSet(1), windows: [graphWindow(0)] });
  });

  it('graph sets are kept apart from record collections', async (store) => {
    await store.writeBatch({ collection: COLLECTION, records: realKlines().slice(0, 2) });
    await store.saveGraphSet(graphSet(1));
    await store.writeGraphWindow(graphWindow(0));
    assert.deepEqual(await store.listCollections(), [{ name: COLLECTION, count: 2 }]);
    await assert.rejects(store.saveGraphSet({ ...graphSet(1), graph_id: 'models' }), failsWith('SF_CONTRACT_INVALID'));
    await assert.rejects(store.ensureCollection('graph_sets'), /reserved/);
  });

  it('a malformed graph window is refused whole, naming the field, before anything is written', async (store) => {
    await store.saveGraphSet(graphSet(1));
    const w = graphWindow(0);
    const bad: Array<[GraphWindow, RegExp]> = [
      [
        { ...w, edges: [...w.edges, { from: 'BTCUSDT', to: 'XRPUSDT', weight: 1 }] },
        /edges\[3\]\.to: "XRPUSDT" is not a vertex/,
      ],
      [
        { ...w, edges: [...w.edges, { from: 'ETHUSDT', to: 'BTCUSDT', weight: 1 }] },
        /edges\[3\]: a second edge between ETHUSDT and BTCUSDT/,
      ],
      [{ ...w, edges: [{ from: 'BTCUSDT', to: 'BTCUSDT', weight: 1 }] }, /self-loop/],
      [
        { ...w, edges: [{ from: 'BTCUSDT', to: 'ETHUSDT', weight: 0 }] },
        /edges\[0\]\.weight: must be a finite number > 0/,
      ],
      [{ ...w, vertices: [{ ...w.vertices[0]!, features: [Number.NaN, 1] }], edges: [] }, /vertices\[0\]\.features/],
      [
        { ...w, vertices: [{ ...w.vertices[0]!, label: { class: 1, value: 0.1, known_at: w.end - 1 } }], edges: [] },
        /label\.known_at: .* before the window's end/,
      ],
      [{ ...w, end: w.start }, /end after start/],
      [{ ...w, graph_id: 'bad id' }, /graph_id/],
    ];
    for (const [window, reason] of bad)
      await assert.rejects(
        store.writeGraphWindow(window),
        (e: unknown) => failsWith('SF_CONTRACT_INVALID')(e) && reason.test((e as Error).message),
        String(reason),
      );
    assert.deepEqual((await store.readGraph(GRAPH))!.windows, []);
  });

  it('a model version is reserved once; the latest ready version is found without naming it; models list newest first', async (store) => {
    assert.equal(await store.recordModel(model(1, 'training'), { onlyIfAbsent: true }), true);
    assert.equal(
      await store.recordModel({ ...model(1, 'training'), queue_id: 'wf-other' }, { onlyIfAbsent: true }),
      false,
    );
    assert.equal(await store.getModel('btc_graph'), undefined, 'a version in training is not served');
    assert.equal(await store.recordModel(model(1, 'ready')), true);
    assert.equal(await store.recordModel(model(2, 'training'), { onlyIfAbsent: true }), true);
    assert.deepEqual(await store.getModel('btc_graph'), model(1, 'ready'));
    assert.deepEqual(await store.getModel('btc_graph', 2), model(2, 'training'));
    await store.recordModel(model(2, 'ready'));
    await store.recordModel(model(1, 'ready', 'another'));
    assert.deepEqual(await store.getModel('btc_graph'), model(2, 'ready'));
    assert.deepEqual(await store.listModels({ limit: 10 }), [
      model(1, 'ready', 'another'),
      model(2, 'ready'),
      model(1, 'ready'),
    ]);
    assert.deepEqual(await store.listModels({ model_id: 'btc_graph', limit: 1 }), [model(2, 'ready')]);
    assert.equal(await store.getModel('btc_graph', 9), undefined);
    assert.equal(await store.getModel('nothing_here'), undefined);
    await assert.rejects(store.recordModel({ ...model(3, 'ready'), version: 0 }), failsWith('SF_CONTRACT_INVALID'));
    await assert.rejects(store.getModel('bad/id'), failsWith('SF_CONTRACT_INVALID'));
  });

  it('description names the adapter, and close can be called twice', async (store) => {
    assert.match(store.description, /^(sqlite|arangodb):\S+/);
    await store.close();
    await store.close();
  });
}
