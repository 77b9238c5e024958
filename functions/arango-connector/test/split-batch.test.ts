import { test } from 'node:test';
import assert from 'node:assert/strict';
import { klineFromRow, priceKlineFromRow } from '@streamforge/core/contracts';
import { splitBatch } from '../src/store-batch.ts';
import { klineBatch as batch, klineRow } from './kline-batches.ts';

const row = klineRow(0);

test('valid records pass, each bad one is set aside with the reason, the rest of the batch stays', () => {
  const good = klineFromRow('BTCUSDT', '5m', row);
  const badPrice = { ...good, key: 'BTCUSDT:5m:1', open: 'sixty' };
  const otherSymbol = { ...good, key: 'ETHUSDT:5m:1722470400000', symbol: 'ETHUSDT' };
  const wrongClose = { ...good, key: 'BTCUSDT:5m:2', close_time: good.close_time + 1 };
  const { records, rejected } = splitBatch(batch([good, badPrice, otherSymbol, wrongClose, 'not an object']));
  assert.deepEqual(records, [good]);
  assert.equal(rejected.length, 4);
  assert.match(rejected[0]!.reason, /open: must match pattern/);
  assert.equal(rejected[0]!.key, 'BTCUSDT:5m:1');
  assert.match(rejected[1]!.reason, /symbol: ETHUSDT in a batch of BTCUSDT/);
  assert.match(rejected[2]!.reason, /close_time: .* is outside the 5m candle/);
  assert.match(rejected[3]!.reason, /must be object/);
  assert.equal(rejected[3]!.key, undefined);
});

test('a candle closed early by a trading halt is stored as the exchange sent it; only impossible candles are rejected', () => {
  const good = klineFromRow('BTCUSDT', '5m', row);
  // Binance ends the open candle at a halt: its close time falls inside the interval, before its end.
  const halted = { ...good, key: 'BTCUSDT:5m:halt', close_time: good.open_time + 61_234 };
  const inverted = { ...good, key: 'BTCUSDT:5m:inv', high: '63000.00000000', low: '64000.00000000' };
  const negative = { ...good, key: 'BTCUSDT:5m:neg', volume: '-1.00000000' };
  const before = { ...good, key: 'BTCUSDT:5m:before', close_time: good.open_time - 1 };
  const { records, rejected } = splitBatch(batch([halted, inverted, negative, before]));
  assert.deepEqual(records, [halted]);
  assert.deepEqual(
    rejected.map((r) => r.reason.split(':')[0]),
    ['high', 'volume', 'close_time'],
  );
});

test('exchange rows become records; a row without Binance layout is set aside with the reason', () => {
  const wrongType: unknown[] = [...row];
  wrongType[4] = 64050;
  const { records, rejected } = splitBatch({
    ...batch([]),
    records: undefined,
    rows: [row, wrongType, [1, 2]],
    row_format: 'binance_kline',
  });
  assert.deepEqual(records, [klineFromRow('BTCUSDT', '5m', row)]);
  assert.equal(rejected.length, 2);
  assert.match(rejected[0]!.reason, /kline field 4 must be a string, got 64050/);
  assert.match(rejected[1]!.reason, /kline row has 11 or more fields, got 2/);
  assert.deepEqual(rejected[1]!.record, [1, 2]);
});

test('aggTrade rows become records keyed by trade id', () => {
  const trade = { a: 26129, p: '0.01633102', q: '4.70443515', f: 27781, l: 27781, T: 1498793709153, m: true, M: true };
  const { records, rejected } = splitBatch({
    ...batch([]),
    kind: 'agg_trades',
    interval: undefined,
    records: undefined,
    rows: [trade],
    row_format: 'binance_agg_trade',
  });
  assert.deepEqual(rejected, []);
  assert.equal(records[0]?.key, 'BTCUSDT:agg:000000000026129');
  assert.equal(records[0]?.price, '0.01633102');
});

test('futures price candles from rows are checked like candles: their interval, times inside the candle, high over low', () => {
  const candle = (open: string, high: string, low: string, close: string, closeTime: number) =>
    [row[0], open, high, low, close, '0', closeTime, '0', 300, '0', '0', '0'] as const;
  const { records, rejected } = splitBatch({
    ...batch([]),
    kind: 'premium_index_klines',
    interval: '5m',
    records: undefined,
    row_format: 'binance_price_kline',
    rows: [
      candle('-0.00010000', '0.00002000', '-0.00030000', '-0.00020000', row[6]),
      candle('-0.00010000', '-0.00030000', '0.00002000', '-0.00020000', row[6]),
      candle('-0.00010000', '0.00002000', '-0.00030000', '-0.00020000', row[6] + 1),
    ],
  });
  assert.deepEqual(
    records.map((r) => [r.key, r.low]),
    [[`BTCUSDT:premium:5m:${row[0]}`, '-0.00030000']],
  );
  assert.deepEqual(
    rejected.map((r) => r.reason.split(':')[0]),
    ['high', 'close_time'],
  );
});

test('a price candle with no real interval, or a key its kind, symbol, interval and open time do not give, is set aside', () => {
  const good = priceKlineFromRow('mark_price_klines', 'BTCUSDT', '5m', row);
  // '7m' fits the schema's pattern; its close time would be NaN, which no bound check catches.
  const noInterval = { ...good, key: `BTCUSDT:mark:7m:${row[0]}`, interval: '7m' };
  // A trade candle's key: upserted, it would overwrite the trade candle.
  const tradeKey = { ...good, key: `BTCUSDT:5m:${row[0]}` };
  const otherSeries = { ...good, key: `BTCUSDT:index:5m:${row[0]}` };
  const otherOpen = { ...good, key: `BTCUSDT:mark:5m:${row[0] + 300_000}` };
  const { records, rejected } = splitBatch({
    ...batch([good, noInterval, tradeKey, otherSeries, otherOpen]),
    kind: 'mark_price_klines',
    market: 'usdm',
    interval: undefined,
  });
  assert.deepEqual(records, [good]);
  assert.deepEqual(
    rejected.map((r) => [r.key, r.reason]),
    [
      [noInterval.key, 'interval: 7m is not an interval'],
      [tradeKey.key, `key: ${tradeKey.key} is not the mark_price_klines key ${good.key}`],
      [otherSeries.key, `key: ${otherSeries.key} is not the mark_price_klines key ${good.key}`],
      [otherOpen.key, `key: ${otherOpen.key} is not the mark_price_klines key ${good.key}`],
    ],
  );
});
