/** How coarse a chart's candles are for a range: the finest familiar length within max_points. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamForgeError } from '@streamforge/core/errors';
import { chooseBucket } from '../src/chart-buckets.ts';

const MINUTE = 60_000;
const DAY = 1_440 * MINUTE;
const START = Date.UTC(2023, 0, 1);

test('the finest whole multiple of the interval among the familiar lengths that keeps the range within max_points', () => {
  const pick = (interval: '1m' | '3m' | '1h' | '3d', ms: number, days: number, points: number) => {
    const b = chooseBucket(interval, ms, START, START + days * DAY, points);
    return [b.label, b.count];
  };
  assert.deepEqual(pick('1m', MINUTE, 1, 2_000), ['1m', 1_440]);
  assert.deepEqual(pick('1m', MINUTE, 3, 2_000), ['3m', 1_440]);
  assert.deepEqual(pick('1m', MINUTE, 365, 2_000), ['6h', 1_460]);
  // 5m is no multiple of 3m: 3m candles go to 15m.
  assert.deepEqual(pick('3m', 3 * MINUTE, 7, 700), ['15m', 672]);
  // 1w is no multiple of 3d; 3d candles past 3d buckets go to whole multiples of 3d.
  assert.deepEqual(pick('3d', 3 * DAY, 3_000, 100), ['11×3d', 92]);
});

test('weekly buckets open on Mondays, as Binance weeks do; past a year, whole years of weeks', () => {
  const weeks = chooseBucket('1h', 60 * MINUTE, START, START + 400 * DAY, 100);
  assert.equal(weeks.label, '1w');
  assert.equal(new Date(weeks.offsetMs).getUTCDay(), 1, 'the offset is a Monday');
  const decades = chooseBucket('1h', 60 * MINUTE, START, START + 20 * 365 * DAY, 10);
  assert.equal(decades.label, '156w');
  assert.ok(decades.count <= 10);
});

test('monthly candles are never grouped: a range of more months than max_points is refused, saying so', () => {
  assert.deepEqual(chooseBucket('1M', 31 * DAY, START, Date.UTC(2024, 0, 1), 12), {
    label: '1M',
    ms: 0,
    offsetMs: 0,
    count: 12,
  });
  assert.throws(
    () => chooseBucket('1M', 31 * DAY, START, Date.UTC(2024, 0, 2), 12),
    (error: unknown) => StreamForgeError.is(error) && /13 monthly candles, more than max_points 12/.test(error.message),
  );
});
