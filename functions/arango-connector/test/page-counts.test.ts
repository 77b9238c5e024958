import { test } from 'node:test';
import assert from 'node:assert/strict';
import { klineFromRow, type BinanceKlineRow, type DataBatch } from '@streamforge/core/contracts';
import { openStore } from '@streamforge/core/store';
import type { TelemetryEmitter, TelemetryInput } from '@streamforge/core/bus';
import { storeBatch } from '../src/store-batch.ts';

const QUEUE = 'wf-btcusdt-api_candles_5m-20240801-a1b2c3';
const row = (i: number): BinanceKlineRow => [
  1722470400000 + i * 300_000,
  '64000.01000000',
  '64100.00000000',
  '63900.00000000',
  '64050.00000000',
  '12.34500000',
  1722470400000 + i * 300_000 + 299_999,
  '790000.12000000',
  321,
  '6.10000000',
  '390000.00000000',
  '0',
];

test('a page with an impossible candle: written counts what was stored, rejected is its own count, and the final message says so', async (t) => {
  const store = await openStore('sqlite::memory:');
  t.after(() => store.close());
  await store.ensureCollection('c1');
  const reports: TelemetryInput[] = [];
  const telemetry: TelemetryEmitter = {
    emit: async (e) => {
      reports.push(e);
    },
    emitMany: async (es) => {
      reports.push(...es);
    },
  };
  const records = [0, 1, 2].map((i) => klineFromRow('BTCUSDT', '5m', row(i)));
  records[1] = { ...records[1]!, high: '1.00000000' }; // high below low: not what an exchange sends
  const batch: DataBatch = {
    queue_id: QUEUE,
    symbol: 'BTCUSDT',
    market: 'spot',
    kind: 'klines',
    interval: '5m',
    collection_name: 'c1',
    source: 'api',
    page: { index: 0, count: 1, part: 0, parts: 1 },
    records,
  };

  const result = await storeBatch({ store, telemetry }, batch);
  assert.deepEqual([result.written, result.rejected], [2, 1]);
  const final = reports.at(-1)!;
  assert.equal(final.status, 'finished');
  assert.equal(final.records_written, 2, 'the rejected candle is not counted as written');
  assert.equal(final.rejected, 1);
  assert.match(String(final.message), /stored 2 records in c1; rejected 1/);
  assert.equal(await store.countRecords('c1'), 2);
});
