import { test } from 'node:test';
import assert from 'node:assert/strict';
import { klinePageBounds, timePageBounds } from '../../src/contracts/index.ts';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const HOUR = 3_600_000;

test('kline pages hold at most the given number of candles and cover the range without overlap', () => {
  // 2500 one-minute candles, 1000 per page (the spot limit): 1000, 1000, 500.
  assert.deepEqual(klinePageBounds('1m', T0, T0 + 2500 * MIN, 1000), [
    [T0, T0 + 1000 * MIN],
    [T0 + 1000 * MIN, T0 + 2000 * MIN],
    [T0 + 2000 * MIN, T0 + 2500 * MIN],
  ]);
  // A start inside a candle begins at the next open; an empty range has no page.
  assert.deepEqual(klinePageBounds('1h', T0 + 1, T0 + 3 * HOUR, 1000), [[T0 + HOUR, T0 + 3 * HOUR]]);
  assert.deepEqual(klinePageBounds('1h', T0, T0, 1000), []);
  // Months follow the calendar: January and February 2024 are two candles of different lengths.
  assert.deepEqual(klinePageBounds('1M', T0, Date.UTC(2024, 2, 1), 1), [
    [T0, Date.UTC(2024, 1, 1)],
    [Date.UTC(2024, 1, 1), Date.UTC(2024, 2, 1)],
  ]);
});

test('time pages are an hour long by default, the last one cut at the end', () => {
  assert.deepEqual(timePageBounds(T0, T0 + 2.5 * HOUR), [
    [T0, T0 + HOUR],
    [T0 + HOUR, T0 + 2 * HOUR],
    [T0 + 2 * HOUR, T0 + 2.5 * HOUR],
  ]);
  assert.deepEqual(timePageBounds(T0, T0 + 30 * MIN, 10 * MIN).length, 3);
});
