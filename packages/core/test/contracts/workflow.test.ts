import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countCandles, closeTime, candleOpenTime } from '../../src/contracts/intervals.ts';
import { newWorkflowIds, serviceOfProducer, telemetryId } from '../../src/contracts/ids.ts';
import { parseTimeRange } from '../../src/contracts/time-range.ts';
import { parseWorkflowType, serviceOf } from '../../src/contracts/workflow-type.ts';

test('one UTC day of 5m candles is 288 candles, end day excluded', () => {
  const range = parseTimeRange('2024-08-01:2024-08-02');
  assert.equal(range.startMs, Date.UTC(2024, 7, 1));
  assert.equal(countCandles('5m', range.startMs, range.endMs), 288);
  assert.equal(closeTime('5m', range.startMs), range.startMs + 300_000 - 1);
});

test('calendar intervals follow the calendar: months have their own length, weeks open on Monday', () => {
  const year = parseTimeRange('2024-01-01:2025-01-01');
  assert.equal(countCandles('1M', year.startMs, year.endMs), 12);
  assert.equal(closeTime('1M', Date.UTC(2024, 1, 1)), Date.UTC(2024, 2, 1) - 1); // leap February
  assert.equal(new Date(candleOpenTime('1w', Date.UTC(2024, 7, 1))).getUTCDay(), 1);
});

test('time ranges that are malformed, reversed, empty or not real days are refused with the reason', () => {
  assert.throws(() => parseTimeRange('2024-08-01'), /must look like YYYY-MM-DD:YYYY-MM-DD/);
  assert.throws(() => parseTimeRange('2024-08-02:2024-08-01'), /is reversed/);
  assert.throws(() => parseTimeRange('2024-08-01:2024-08-01'), /is empty/);
  assert.throws(() => parseTimeRange('2023-02-29:2023-03-01'), /day that does not exist: 2023-02-29/);
});

test('workflow types tell the target, the services, the data kind and the interval', () => {
  assert.deepEqual(parseWorkflowType('api_candles_1h'), {
    type: 'api_candles_1h',
    source: 'api',
    kind: 'klines',
    interval: '1h',
    target: 'loader-api',
    services: ['loader-api', 'arango-connector'],
  });
  assert.equal(parseWorkflowType('ws_book_ticker').target, 'loader-ws');
  assert.deepEqual(parseWorkflowType('bulk_trades'), {
    type: 'bulk_trades',
    source: 'bulk',
    kind: 'trades',
    target: 'loader-producer',
    services: ['loader-producer', 'arango-connector'],
  });
  assert.throws(() => parseWorkflowType('api_candles_2m'), /unknown interval "2m"/);
  assert.throws(() => parseWorkflowType('api_orders'), /not a known workflow type/);
});

test('a target names a service by its own name, and nothing else', () => {
  assert.equal(serviceOf('arango-connector'), 'arango-connector');
  assert.equal(serviceOf('loader-api-candles'), undefined);
  assert.equal(serviceOf('visualizer'), undefined);
});

test('queue ids, collection names and telemetry ids have their documented formats', () => {
  const ids = newWorkflowIds('BTCUSDT', 'api_candles_5m', '2024-08-01', { shortId: 'a1b2c3' });
  assert.equal(ids.queueId, 'wf-btcusdt-api_candles_5m-20240801-a1b2c3');
  assert.equal(ids.collectionName, 'btcusdt_api_candles_5m_2024_08_01');
  assert.equal(telemetryId('loader-api', 'a1b2c3'), 'loader-api__a1b2c3');
  const futures = newWorkflowIds('BTCUSDT', 'api_candles_1m', '2022-09-05', { market: 'usdm', shortId: 'x1y2z3' });
  assert.equal(futures.queueId, 'wf-btcusdt-usdm-api_candles_1m-20220905-x1y2z3');
  assert.equal(futures.collectionName, 'btcusdt_usdm_api_candles_1m_2022_09_05');
  assert.equal(serviceOfProducer('arango-connector__a1b2c3'), 'arango-connector');
});

test('a kline record written out by hand is the same JSON as JSON.stringify makes', async () => {
  const { klineFromRow, klineRecordJson } = await import('../../src/contracts/records.ts');
  const record = klineFromRow('BTCUSDT', '1m', [
    1672531200000,
    '16541.77000000',
    '16545.70000000',
    '16508.39000000',
    '16529.67000000',
    '4364.83570000',
    1672531259999,
    '72146293.58672290',
    149854,
    '2179.94772000',
    '36032352.87035720',
    '0',
  ]);
  assert.equal(klineRecordJson(record), JSON.stringify(record));
  assert.equal(klineRecordJson({ ...record, closed: false }), JSON.stringify({ ...record, closed: false }));
  assert.deepEqual(JSON.parse(klineRecordJson(record)), record);
});

test('a REST trade row becomes the record the @trade stream stores for the same id, and a row without its fields is refused', async () => {
  const { expandRows } = await import('../../src/contracts/exchange-rows.ts');
  const { tradeRecordContract } = await import('../../src/contracts/records.ts');
  const row = {
    id: 3_456_789,
    price: '62000.01000000',
    qty: '0.00120000',
    quoteQty: '74.40001200',
    time: 1_709_600_000_123,
    isBuyerMaker: true,
    isBestMatch: true,
  };
  const { records, invalid } = expandRows({
    queue_id: 'wf-btcusdt-bulk_trades-x',
    symbol: 'BTCUSDT',
    market: 'spot',
    kind: 'trades',
    collection_name: 'c',
    source: 'archive',
    rows: [row, { ...row, time: String(row.time) }],
    row_format: 'binance_trade',
  });
  // Field for field what loader-ws makes of {"e":"trade","t":3456789,"p":…,"q":…,"T":…,"m":true} (its tradeRecord).
  assert.deepEqual(records, [
    {
      key: 'BTCUSDT:trade:000000003456789',
      symbol: 'BTCUSDT',
      trade_id: 3_456_789,
      price: '62000.01000000',
      quantity: '0.00120000',
      timestamp: 1_709_600_000_123,
      is_buyer_maker: true,
    },
  ]);
  assert.deepEqual(tradeRecordContract.check(records[0]), []);
  assert.match(invalid[0]?.reason ?? '', /trade field time must be a number/);
});
