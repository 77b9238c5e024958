import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdSequence, KlineSequence } from '../src/stream-gaps.ts';

const MINUTE = 60_000;
const T = Date.UTC(2025, 0, 6, 10, 0);

test('trade ids report the missing range once, and older ids as duplicates', () => {
  const ids = new IdSequence();
  assert.deepEqual(ids.observe(100), { status: 'first' });
  assert.deepEqual(ids.observe(101), { status: 'next' });
  assert.deepEqual(ids.observe(105), { status: 'gap', missing: { from: 102, to: 104 } });
  assert.deepEqual(ids.observe(103), { status: 'duplicate' }, 'a late copy from an overlapping connection is not new');
  assert.deepEqual(ids.observe(105), { status: 'duplicate' });
  assert.deepEqual(ids.observe(106), { status: 'next' });
  assert.equal(ids.last, 106);
});

test('kline open times: a missing candle, and a candle whose final message was lost, are both reported', () => {
  const klines = new KlineSequence('1m');
  assert.equal(klines.observe(T, false).status, 'first');
  assert.equal(klines.observe(T, false).status, 'update');
  assert.equal(klines.observe(T, true).status, 'final');
  assert.equal(klines.observe(T, false).status, 'stale', 'an update after the final one is stale');
  assert.equal(klines.observe(T + MINUTE, false).status, 'update', 'the next candle follows without a gap');
  // The final message of T+1m and everything of T+2m were lost.
  assert.deepEqual(klines.observe(T + 3 * MINUTE, false), {
    status: 'gap',
    missing: { from: T + MINUTE, to: T + 3 * MINUTE },
  });
  assert.equal(klines.observe(T + 2 * MINUTE, true).status, 'stale', 'an older candle arriving late is stale');
  assert.equal(klines.observe(T + 3 * MINUTE, true).status, 'final');
  assert.deepEqual(klines.observe(T + 5 * MINUTE, true), {
    status: 'gap',
    missing: { from: T + 4 * MINUTE, to: T + 5 * MINUTE },
  });
});

test('month candles follow the calendar', () => {
  const klines = new KlineSequence('1M');
  klines.observe(Date.UTC(2025, 0, 1), true);
  assert.deepEqual(klines.observe(Date.UTC(2025, 3, 1), false), {
    status: 'gap',
    missing: { from: Date.UTC(2025, 1, 1), to: Date.UTC(2025, 3, 1) },
  });
});
