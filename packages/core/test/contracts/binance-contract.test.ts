import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  COINM_KLINES_MAX_SPAN_MS,
  DEFAULT_WEIGHT_LIMITS,
  KLINE_LIMITS,
  MARKETS,
  PATHS,
  SYMBOL_PATTERN,
  intervalMs,
  klinesPerRequest,
  marketIntervals,
  newWorkflowIds,
  parseWorkflowType,
  requestWeight,
} from '@streamforge/core/contracts';
import { marketRefusal } from '@streamforge/core/requests';

test('COIN-M is a market of its own: dapi paths, a 2400 budget, 1500 klines a request, no 1s', () => {
  assert.ok(MARKETS.includes('coinm'));
  assert.equal(PATHS.coinm.klines, '/dapi/v1/klines');
  assert.equal(PATHS.coinm.exchangeInfo, '/dapi/v1/exchangeInfo');
  assert.equal(DEFAULT_WEIGHT_LIMITS.coinm, 2400);
  assert.equal(KLINE_LIMITS.coinm.max, 1500);
  assert.ok(!marketIntervals('coinm').includes('1s'));
  // Klines weigh by limit as on USD-M: [1,100) 1, [100,500) 2, [500,1000] 5, above 10.
  assert.deepEqual(
    [1, 99, 100, 499, 500, 1000, 1001, 1500].map((limit) => requestWeight('coinm', 'klines', limit)),
    [1, 1, 2, 2, 5, 5, 10, 10],
  );
  assert.equal(requestWeight('coinm', 'klines'), 5, 'the default limit, 500');
  assert.equal(requestWeight('coinm', 'exchangeInfo'), 1);
});

test('a COIN-M klines request spans at most 200 days; the other markets are bounded by the limit alone', () => {
  assert.equal(klinesPerRequest('spot', '1d'), 1000);
  assert.equal(klinesPerRequest('usdm', '1d'), 1500);
  assert.equal(klinesPerRequest('coinm', '1m'), 1500);
  assert.equal(klinesPerRequest('coinm', '4h'), 1200);
  assert.equal(klinesPerRequest('coinm', '1d'), 200);
  assert.equal(klinesPerRequest('coinm', '3d'), 66);
  assert.equal(klinesPerRequest('coinm', '1w'), 28);
  assert.equal(klinesPerRequest('coinm', '1M'), 6);
  for (const interval of marketIntervals('coinm').filter((i) => i !== '1M'))
    assert.ok(klinesPerRequest('coinm', interval) * intervalMs(interval) - 1 <= COINM_KLINES_MAX_SPAN_MS, interval);
});

test('COIN-M contract symbols pass the symbol pattern and name their own ids', () => {
  const pattern = new RegExp(SYMBOL_PATTERN);
  for (const symbol of ['BTCUSD_PERP', 'ETHUSD_250627', 'BTCUSDT']) assert.ok(pattern.test(symbol), symbol);
  for (const symbol of ['BTCUSD_', '_PERP', 'BTCUSD__PERP', 'BTCUSD_PERP_X', 'btcusd_perp'])
    assert.ok(!pattern.test(symbol), symbol);
  const ids = newWorkflowIds('BTCUSD_PERP', 'bulk_candles_1m', '2024-03-01', { market: 'coinm', shortId: 'a1b2c3' });
  assert.equal(ids.queueId, 'wf-btcusd_perp-coinm-bulk_candles_1m-20240301-a1b2c3');
  assert.equal(ids.collectionName, 'btcusd_perp_coinm_bulk_candles_1m_2024_03_01');
});

test('COIN-M refusals: 1s klines, live streams and raw trades; candles and aggTrades history pass', () => {
  const refusal = (type: string) => marketRefusal(parseWorkflowType(type), 'coinm');
  assert.equal(refusal('api_candles_1s'), 'COIN-M futures have no 1s klines');
  assert.equal(refusal('bulk_candles_1s'), 'COIN-M futures have no 1s klines');
  assert.match(refusal('ws_candles_1m') ?? '', /COIN-M live streams/);
  assert.match(refusal('ws_agg_trades') ?? '', /COIN-M live streams/);
  assert.match(refusal('bulk_trades') ?? '', /COIN-M raw trades/);
  for (const type of ['api_candles_1m', 'api_agg_trades', 'bulk_candles_1d', 'bulk_agg_trades', 'graph_correlation'])
    assert.equal(refusal(type), undefined, type);
  assert.equal(marketRefusal(parseWorkflowType('api_candles_1s'), 'usdm'), 'USD-M futures have no 1s klines');
});
