import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countCandles, parseTimeRange, type Market, type StartCommand } from '@streamforge/core/contracts';
import { planPages } from '../src/plan-pages.ts';

/** Pages as loader-api plans them. */
const loaderApi = { service: 'loader-api' };

function start(type: string, timeRange: string, market: Market = 'spot'): StartCommand {
  return {
    command: 'start',
    queue_id: `wf-btcusdt-${type}-x`,
    target: 'loader-api',
    symbol: 'BTCUSDT',
    type,
    time_range: timeRange,
    market,
    kafka_topic: 'data-klines',
    collection_name: 'c',
    telemetry_id: 'loader-api__x',
    timestamp: 1,
  };
}

test('one day of 5m candles is one page holding all 288 candles', () => {
  const pages = planPages(start('api_candles_5m', '2024-08-01:2024-08-02'), 'klines', '5m', loaderApi);
  assert.equal(pages.length, 1);
  assert.equal(pages[0]?.start_ms, Date.UTC(2024, 7, 1));
  assert.equal(pages[0]?.end_ms, Date.UTC(2024, 7, 2));
});

test('pages cover the range exactly, without overlap, at most 1000 spot candles each', () => {
  const range = parseTimeRange('2024-01-01:2025-01-01');
  const pages = planPages(start('api_candles_1h', '2024-01-01:2025-01-01'), 'klines', '1h', loaderApi);
  assert.equal(pages.length, Math.ceil(countCandles('1h', range.startMs, range.endMs) / 1000));
  assert.equal(pages[0]?.start_ms, range.startMs);
  assert.equal(pages.at(-1)?.end_ms, range.endMs);
  for (let i = 1; i < pages.length; i++) assert.equal(pages[i]?.start_ms, pages[i - 1]?.end_ms);
  for (const page of pages) assert.ok(countCandles('1h', page.start_ms, page.end_ms) <= 1000);
  assert.deepEqual(
    pages.map((p) => p.page.index),
    pages.map((_, i) => i),
  );
  assert.ok(pages.every((p) => p.page.count === pages.length));
});

test('USD-M pages take 1500 candles, the futures limit', () => {
  const pages = planPages(start('api_candles_1m', '2022-09-05:2022-09-07', 'usdm'), 'klines', '1m', loaderApi);
  assert.equal(pages.length, Math.ceil(2880 / 1500));
});

test('COIN-M pages take 1500 candles, and never more than 200 days between their startTime and endTime', () => {
  assert.equal(
    planPages(start('api_candles_1m', '2022-09-05:2022-09-07', 'coinm'), 'klines', '1m', loaderApi).length,
    2,
  );
  const DAY = 86_400_000;
  for (const [interval, perPage] of [
    ['4h', 1200],
    ['1d', 200],
    ['1w', 28],
    ['1M', 6],
  ] as const) {
    const pages = planPages(
      start(`api_candles_${interval}`, '2020-09-01:2024-09-01', 'coinm'),
      'klines',
      interval,
      loaderApi,
    );
    assert.equal(pages[0]?.start_ms, Date.UTC(2020, 8, interval === '1w' ? 7 : 1), interval);
    assert.equal(pages.at(-1)?.end_ms, Date.UTC(2024, 8, 1), interval);
    for (let i = 1; i < pages.length; i++) assert.equal(pages[i]?.start_ms, pages[i - 1]?.end_ms);
    for (const page of pages) {
      // The request a page makes: startTime = start_ms, endTime = end_ms - 1.
      assert.ok(page.end_ms - 1 - page.start_ms <= 200 * DAY, `${interval} page from ${page.start_ms}`);
      assert.ok(countCandles(interval, page.start_ms, page.end_ms) <= perPage);
    }
    assert.equal(countCandles(interval, pages[0]!.start_ms, pages[0]!.end_ms), perPage, `${interval}: full pages`);
  }
});

test('monthly candles follow the calendar', () => {
  const pages = planPages(start('api_candles_1M', '2023-01-01:2024-01-01'), 'klines', '1M', loaderApi);
  assert.equal(pages.length, 1);
  assert.equal(countCandles('1M', pages[0]!.start_ms, pages[0]!.end_ms), 12);
});

test('aggTrades are paged by the hour, the longest window USD-M allows', () => {
  const pages = planPages(start('api_agg_trades', '2024-08-01:2024-08-02'), 'agg_trades', undefined, loaderApi);
  assert.equal(pages.length, 24);
  assert.ok(pages.every((p) => p.end_ms - p.start_ms === 3_600_000));
});

test('pages never reach into the future; an empty range still has one page to report done', () => {
  const now = Date.UTC(2024, 7, 1, 12);
  const pages = planPages(start('api_candles_1h', '2024-08-01:2024-08-03'), 'klines', '1h', { ...loaderApi, now });
  assert.equal(pages.at(-1)?.end_ms, now);
  const none = planPages(start('api_candles_1h', '2024-08-01:2024-08-03'), 'klines', '1h', {
    ...loaderApi,
    now: Date.UTC(2024, 6, 1),
  });
  assert.equal(none.length, 1);
});

test('a command without topic or telemetry id gets the defaults; one without a collection is refused before any page', () => {
  const {
    kafka_topic: _topic,
    telemetry_id: _producer,
    collection_name: _collection,
    ...bare
  } = start('api_candles_1h', '2024-08-01:2024-08-02');
  const [page] = planPages({ ...bare, collection_name: 'c' }, 'klines', '1h', loaderApi);
  assert.equal(page!.kafka_topic, 'data-klines');
  assert.equal(page!.telemetry_id, 'loader-api');
  assert.throws(
    () => planPages(bare, 'klines', '1h', loaderApi),
    (e: Error & { code?: string }) =>
      e.code === 'SF_CONTRACT_INVALID' && /collection_name: is required/.test(e.message),
  );
});

test('futures series over REST: price candles in pages of 1500 like klines, funding rates in pages of 1000 hours', () => {
  const mark = planPages(
    start('api_mark_price_candles_1m', '2024-08-01:2024-08-03', 'usdm'),
    'mark_price_klines',
    '1m',
    loaderApi,
  );
  assert.deepEqual(
    mark.map((p) => [p.kind, p.interval, p.end_ms - p.start_ms]),
    [
      ['mark_price_klines', '1m', 1500 * 60_000],
      ['mark_price_klines', '1m', 1380 * 60_000],
    ],
  );
  // 2024 has 8784 hours: 9 pages, so at most 1000 settlements a page even at a 1-hour funding interval.
  const funding = planPages(
    start('api_funding_rate', '2024-01-01:2025-01-01', 'usdm'),
    'funding_rate',
    undefined,
    loaderApi,
  );
  assert.equal(funding.length, 9);
  assert.ok(funding.every((p) => p.end_ms - p.start_ms <= 1000 * 3_600_000 && p.interval === undefined));
  assert.equal(funding.at(-1)?.end_ms, Date.UTC(2025, 0, 1));
  assert.throws(
    () => planPages(start('bulk_metrics', '2024-01-01:2024-01-02', 'usdm'), 'metrics', undefined, loaderApi),
    /metrics are loaded from archive files only/,
  );
});
