import { test } from 'node:test';
import assert from 'node:assert/strict';
import { klineFromRow } from '@streamforge/core/contracts';
import { openStore } from '@streamforge/core/store';
import { recordingTelemetry } from '@streamforge/testing';
import { storeBatch } from '../src/store-batch.ts';
import { klineBatch, klineRow } from './kline-batches.ts';

test('a page with an impossible candle: written counts what was stored, rejected is its own count, and the final message says so', async (t) => {
  const store = await openStore('sqlite::memory:');
  t.after(() => store.close());
  await store.ensureCollection('c1');
  const { telemetry, events: reports } = recordingTelemetry();
  const records = [0, 1, 2].map((i) => klineFromRow('BTCUSDT', '5m', klineRow(i)));
  records[1] = { ...records[1]!, high: '1.00000000' }; // high below low: not what an exchange sends
  const batch = klineBatch(records, { index: 0, count: 1, part: 0, parts: 1 });

  const result = await storeBatch({ store, telemetry }, batch);
  assert.deepEqual([result.written, result.rejected], [2, 1]);
  const final = reports.at(-1)!;
  assert.equal(final.status, 'finished');
  assert.equal(final.records_written, 2, 'the rejected candle is not counted as written');
  assert.equal(final.rejected, 1);
  assert.match(String(final.message), /stored 2 records in c1; rejected 1/);
  assert.equal(await store.countRecords('c1'), 2);
});
