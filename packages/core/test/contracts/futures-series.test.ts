import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RECORD_CONTRACTS,
  dataBatchContract,
  expandRows,
  klineKey,
  parseWorkflowType,
  priceKlineKey,
  topicKindOf,
  workPageContract,
  type DataBatch,
  type KlineRow,
} from '@streamforge/core/contracts';
import { marketRefusal } from '@streamforge/core/requests';

const ROW: KlineRow = [
  1704067200000,
  '42314.10000000',
  '42335.80000000',
  '42289.60000000',
  '42298.10000000',
  '0',
  1704067259999,
  '0',
  60,
  '0',
  '0',
  '0',
];

const batch = (fields: Partial<DataBatch>): DataBatch => ({
  queue_id: 'wf-btcusdt-usdm-x-20240101-a1b2c3',
  symbol: 'BTCUSDT',
  market: 'usdm',
  kind: 'klines',
  collection_name: 'c',
  source: 'api',
  ...fields,
});

test('the futures series have api_/bulk_ types named like the candles, with their own record kinds', () => {
  assert.deepEqual(
    ['api', 'bulk'].flatMap((source) =>
      ['mark_price', 'index_price', 'premium_index'].map((series) => {
        const plan = parseWorkflowType(`${source}_${series}_candles_1h`);
        return 'kind' in plan ? [plan.source, plan.kind, plan.interval, plan.target] : [];
      }),
    ),
    [
      ['api', 'mark_price_klines', '1h', 'loader-api'],
      ['api', 'index_price_klines', '1h', 'loader-api'],
      ['api', 'premium_index_klines', '1h', 'loader-api'],
      ['bulk', 'mark_price_klines', '1h', 'loader-producer'],
      ['bulk', 'index_price_klines', '1h', 'loader-producer'],
      ['bulk', 'premium_index_klines', '1h', 'loader-producer'],
    ],
  );
  for (const [type, source, kind] of [
    ['api_funding_rate', 'api', 'funding_rate'],
    ['bulk_funding_rate', 'bulk', 'funding_rate'],
    ['bulk_metrics', 'bulk', 'metrics'],
  ] as const) {
    const plan = parseWorkflowType(type);
    assert.deepEqual(['kind' in plan && plan.kind, plan.source], [kind, source]);
    assert.equal(topicKindOf(kind), 'klines', 'the futures series travel on the klines topic');
  }
  assert.throws(() => parseWorkflowType('api_mark_price_candles_7m'), /unknown interval "7m"/);
  assert.throws(() => parseWorkflowType('api_metrics'), /not a known workflow type/);
  assert.throws(() => parseWorkflowType('ws_mark_price_candles_1m'), /not a known live stream/);
});

test('spot is refused every futures series; COIN-M its index price and metrics', () => {
  for (const type of ['api_mark_price_candles_1m', 'bulk_premium_index_candles_1h', 'api_funding_rate', 'bulk_metrics'])
    assert.match(
      marketRefusal(parseWorkflowType(type), 'spot') ?? '',
      /Binance spot has no mark price.*set market to usdm or coinm/,
    );
  assert.match(marketRefusal(parseWorkflowType('api_index_price_candles_1h'), 'coinm') ?? '', /per pair/);
  assert.match(marketRefusal(parseWorkflowType('bulk_metrics'), 'coinm') ?? '', /USD-M only/);
  assert.match(marketRefusal(parseWorkflowType('bulk_mark_price_candles_1s'), 'usdm') ?? '', /no 1s klines/);
  for (const type of ['bulk_mark_price_candles_1m', 'api_funding_rate', 'bulk_funding_rate'])
    assert.equal(marketRefusal(parseWorkflowType(type), 'coinm'), undefined, type);
  for (const type of ['api_index_price_candles_1h', 'bulk_metrics'])
    assert.equal(marketRefusal(parseWorkflowType(type), 'usdm'), undefined, type);
});

test('price candles become records of prices and times only, keyed apart from trade candles', () => {
  const expanded = expandRows(
    batch({ kind: 'mark_price_klines', interval: '1m', row_format: 'binance_price_kline', rows: [ROW] }),
  );
  assert.deepEqual(expanded.invalid, []);
  assert.deepEqual(expanded.records, [
    {
      key: 'BTCUSDT:mark:1m:1704067200000',
      symbol: 'BTCUSDT',
      interval: '1m',
      open_time: 1704067200000,
      open: '42314.10000000',
      high: '42335.80000000',
      low: '42289.60000000',
      close: '42298.10000000',
      close_time: 1704067259999,
    },
  ]);
  assert.deepEqual(RECORD_CONTRACTS.mark_price_klines.check(expanded.records[0]), []);
  assert.ok(RECORD_CONTRACTS.mark_price_klines.check({ ...expanded.records[0], volume: '0' }).length > 0, 'no volumes');
  const keys = new Set([
    klineKey('BTCUSDT', '1m', ROW[0]),
    priceKlineKey('mark_price_klines', 'BTCUSDT', '1m', ROW[0]),
    priceKlineKey('index_price_klines', 'BTCUSDT', '1m', ROW[0]),
    priceKlineKey('premium_index_klines', 'BTCUSDT', '1m', ROW[0]),
  ]);
  assert.equal(keys.size, 4);
  // A premium is negative at times; a price series row without its series is refused, not guessed.
  const premium = expandRows(
    batch({
      kind: 'premium_index_klines',
      interval: '1m',
      row_format: 'binance_price_kline',
      rows: [[ROW[0], '-0.00012000', '0.00001000', '-0.00020000', '-0.00010000', ...ROW.slice(5)]],
    }),
  );
  assert.equal(premium.records[0]?.key, 'BTCUSDT:premium:1m:1704067200000');
  assert.deepEqual(RECORD_CONTRACTS.premium_index_klines.check(premium.records[0]), []);
  const unnamed = expandRows(batch({ kind: 'klines', interval: '1m', row_format: 'binance_price_kline', rows: [ROW] }));
  assert.match(unnamed.invalid[0]?.reason ?? '', /need a price series kind/);
});

test('a funding rate from REST and the same settlement from the archive have one key and rate', () => {
  const rest = { symbol: 'BTCUSDT', fundingRate: '0.00010000', fundingTime: 1704067200000, markPrice: '42314.1' };
  const archived = { fundingRate: '0.00010000', fundingTime: 1704067200000, fundingIntervalHours: 8 };
  const [fromRest, fromArchive] = [rest, archived].map(
    (row) => expandRows(batch({ kind: 'funding_rate', row_format: 'binance_funding_rate', rows: [row] })).records[0]!,
  );
  assert.deepEqual(fromRest, {
    key: 'BTCUSDT:funding:1704067200000',
    symbol: 'BTCUSDT',
    funding_time: 1704067200000,
    funding_rate: '0.00010000',
    mark_price: '42314.1',
  });
  assert.deepEqual(fromArchive, {
    key: 'BTCUSDT:funding:1704067200000',
    symbol: 'BTCUSDT',
    funding_time: 1704067200000,
    funding_rate: '0.00010000',
    funding_interval_hours: 8,
  });
  for (const record of [fromRest, fromArchive]) assert.deepEqual(RECORD_CONTRACTS.funding_rate.check(record), []);
  const bad = expandRows(
    batch({ kind: 'funding_rate', row_format: 'binance_funding_rate', rows: [{ fundingTime: '1704067200000' }] }),
  );
  assert.match(bad.invalid[0]?.reason ?? '', /fundingTime must be a number/);
});

test('a metrics row becomes a record keyed by its time; batches and pages of the new kinds pass their contracts', () => {
  const row = {
    create_time: 1704067500000,
    sum_open_interest: '80937.87000000',
    sum_open_interest_value: '3425678451.12000000',
    count_toptrader_long_short_ratio: '1.27760000',
    sum_toptrader_long_short_ratio: '1.10830000',
    count_long_short_ratio: '1.44100000',
    sum_taker_long_short_vol_ratio: '0.93210000',
  };
  const expanded = expandRows(batch({ kind: 'metrics', row_format: 'binance_metrics', rows: [row] }));
  assert.deepEqual(expanded.records, [{ key: 'BTCUSDT:metrics:1704067500000', symbol: 'BTCUSDT', ...row }]);
  assert.deepEqual(RECORD_CONTRACTS.metrics.check(expanded.records[0]), []);
  assert.ok(RECORD_CONTRACTS.metrics.check({ ...expanded.records[0], sum_open_interest: 80937.87 }).length > 0);
  assert.deepEqual(dataBatchContract.check(batch({ kind: 'metrics', row_format: 'binance_metrics', rows: [row] })), []);
  assert.deepEqual(
    workPageContract.check({
      queue_id: 'wf-btcusdt-usdm-bulk_metrics-20240101-a1b2c3',
      type: 'bulk_metrics',
      symbol: 'BTCUSDT',
      market: 'usdm',
      kind: 'metrics',
      start_ms: 0,
      end_ms: 1,
      page: { index: 0, count: 1 },
      collection_name: 'c',
      kafka_topic: 'data-klines',
      telemetry_id: 'loader-producer',
      archive: { period: 'daily', start: 0 },
    }),
    [],
  );
});
