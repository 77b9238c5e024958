/** The pieces of the shared candle logic that the contract cannot reach with small stores. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bucketAlignedChunks } from '../../src/store/candle-series.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import { klineSeries } from './kline-fixture.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

test('a long range is cut into pieces whose inner bounds sit on the bucket grid, covering it exactly', () => {
  const from = Date.UTC(2024, 0, 1, 0, 7);
  const to = Date.UTC(2024, 0, 3, 5, 0);
  const chunks = bucketAlignedChunks(from, to, HOUR, 0, 10 * HOUR + 5 * MINUTE);
  assert.equal(chunks[0]!.from, from);
  assert.equal(chunks.at(-1)!.to, to);
  for (const [i, chunk] of chunks.entries()) {
    assert.ok(chunk.from < chunk.to);
    if (i > 0) assert.equal(chunk.from, chunks[i - 1]!.to);
    if (i < chunks.length - 1) assert.equal(chunk.to % HOUR, 0, 'an inner bound is a bucket boundary');
  }
  assert.deepEqual(bucketAlignedChunks(from, to, 0, 0, HOUR), [{ from, to }], 'monthly candles: one piece');
  assert.deepEqual(bucketAlignedChunks(from, from + HOUR, MINUTE, 0, 2 * HOUR), [{ from, to: from + HOUR }]);
});

test('SQLite groups a range longer than one piece (120,000 1m candles, several pieces) exactly as one: every candle counted once, the hole found', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sf-candles-'));
  const store = await openSqliteStore(join(dir, 'store.sqlite'));
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const start = Date.UTC(2024, 0, 1);
  const hole = { from: start + 70_000 * MINUTE, to: start + 70_030 * MINUTE };
  const records = klineSeries(120_000, start).filter((r) => r.open_time < hole.from || r.open_time >= hole.to);
  for (let i = 0; i < records.length; i += 10_000)
    await store.writeBatch({ collection: 'long', records: records.slice(i, i + 10_000) });
  const answer = await store.aggregateCandles('long', {
    symbol: 'BTCUSDT',
    interval: '1m',
    from: start,
    to: start + 120_000 * MINUTE,
    bucketMs: 2 * HOUR,
    bucketOffsetMs: 0,
    maxGaps: 10,
  });
  assert.equal(answer.candles.length, 1_000);
  assert.deepEqual(
    answer.candles.map((c) => c.time),
    Array.from({ length: 1_000 }, (_, i) => start + i * 2 * HOUR),
    'each bucket once, in order',
  );
  assert.equal(answer.stored, 119_970);
  assert.deepEqual(answer.gaps, [{ ...hole, missing: 30 }]);
  assert.equal(answer.candles.find((c) => c.time === start + 583 * 2 * HOUR)?.candles, 90);
});
