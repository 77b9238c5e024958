/**
 * The cut of a page into parts at its boundaries, on real candles: a page exactly at the
 * byte budget, one byte over it, one row, no rows, and the thousand-rows-a-part count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { partsOfRows, partsOfText, RECORDS_PER_PART } from '../src/page-parts.ts';
import { fixtureKlines } from './binance-standin.ts';

/** BTCUSDT spot 1h candles of 2022-09-07 (24) as the REST API returns them, and that answer's text. */
const DAY = fixtureKlines('spot/BTCUSDT-1h-2022-09-07.csv');
const DAY_TEXT = JSON.stringify(DAY);

test("a page whose JSON is exactly the byte budget is one part, the exchange's text as it came", () => {
  assert.deepEqual(partsOfText(DAY_TEXT, DAY.length, DAY_TEXT.length), [{ rowsJson: DAY_TEXT, count: 24 }]);
  assert.deepEqual(
    partsOfRows(DAY, DAY_TEXT.length),
    [{ rowsJson: DAY_TEXT, count: 24 }],
    'decoded rows are cut the same way',
  );
});

test('a page one byte over the budget is decoded and cut in two: all rows but the last, then the last', () => {
  const parts = partsOfText(DAY_TEXT, DAY.length, DAY_TEXT.length - 1);
  assert.deepEqual(parts, [
    { rowsJson: JSON.stringify(DAY.slice(0, 23)), count: 23 },
    { rowsJson: JSON.stringify(DAY.slice(23)), count: 1 },
  ]);
  assert.deepEqual(partsOfRows(DAY, DAY_TEXT.length - 1), parts);
});

test('every part is the exact JSON of its rows, within the budget, and together they are the page in order', () => {
  const budget = 1000; // about six candles
  const parts = partsOfRows(DAY, budget);
  assert.equal(parts.length, 5);
  let next = 0;
  for (const part of parts) {
    assert.ok(part.rowsJson.length <= budget, `a part of ${part.rowsJson.length} bytes`);
    assert.equal(part.rowsJson, JSON.stringify(DAY.slice(next, next + part.count)));
    next += part.count;
  }
  assert.equal(next, DAY.length);
});

test('one row is one part, even a row larger than the budget: a page is never dropped for its size', () => {
  const [candle] = DAY;
  assert.deepEqual(partsOfRows([candle], 1_000), [{ rowsJson: JSON.stringify([candle]), count: 1 }]);
  assert.deepEqual(partsOfRows([candle], 10), [{ rowsJson: JSON.stringify([candle]), count: 1 }]);
  assert.deepEqual(partsOfText(JSON.stringify([candle]), 1, 10), [{ rowsJson: JSON.stringify([candle]), count: 1 }]);
});

test('a page with no rows is one empty part, as text or as rows, whatever the budget', () => {
  assert.deepEqual(partsOfText('[]', 0, 100), [{ rowsJson: '[]', count: 0 }]);
  assert.deepEqual(partsOfText('[]', 0, 1), [{ rowsJson: '[]', count: 0 }]);
  assert.deepEqual(partsOfRows([], 1), [{ rowsJson: '[]', count: 0 }]);
});

test('parts hold at most a thousand rows: two months of hourly candles (1416) go as 1000 and 416', () => {
  const months = [...fixtureKlines('spot/BTCUSDT-1h-2023-01.csv'), ...fixtureKlines('spot/BTCUSDT-1h-2023-02.csv')];
  assert.equal(months.length, 744 + 672);
  const parts = partsOfText(JSON.stringify(months), months.length, 200_000);
  assert.deepEqual(
    parts.map((part) => part.count),
    [RECORDS_PER_PART, 416],
  );
  assert.deepEqual(
    parts.flatMap((part) => JSON.parse(part.rowsJson) as unknown[]),
    months,
  );
});
