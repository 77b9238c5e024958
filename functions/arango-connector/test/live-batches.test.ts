import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tradeKey, type DataBatch, type TradeRecord } from '@streamforge/core/contracts';
import { openStore } from '@streamforge/core/store';
import { recordingTelemetry, waitFor } from '@streamforge/testing';
import { LIVE_REPORT_MS, storeBatch } from '../src/store-batch.ts';

function trades(from: number, count: number): TradeRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    key: tradeKey('BTCUSDT', from + i),
    symbol: 'BTCUSDT',
    trade_id: from + i,
    price: '60000.00000000',
    quantity: '0.01000000',
    timestamp: 1_764_300_000_000 + i,
    is_buyer_maker: i % 2 === 0,
  }));
}

function liveBatch(records: TradeRecord[]): DataBatch {
  return {
    queue_id: 'wf-btcusdt-ws_trades-20261128-a1b2c3',
    symbol: 'BTCUSDT',
    market: 'spot',
    kind: 'trades',
    collection_name: 'btcusdt_ws_trades_2026_11_28',
    source: 'ws',
    records,
  };
}

test('live batches report the collection’s record count, at most every LIVE_REPORT_MS, the last ones by a trailing report', async (t) => {
  const store = await openStore('sqlite::memory:');
  t.after(() => store.close());
  await store.ensureCollection('btcusdt_ws_trades_2026_11_28');
  const { telemetry, events: reports } = recordingTelemetry();
  await storeBatch({ store, telemetry }, liveBatch(trades(1, 100)));
  assert.equal(reports.length, 1);
  assert.equal(reports[0]!.status, 'loading', 'a live stream never reports finished');
  assert.equal(reports[0]!.records_written, 100);
  for (let i = 0; i < 10; i++) await storeBatch({ store, telemetry }, liveBatch(trades(101 + i * 10, 10)));
  await storeBatch({ store, telemetry }, liveBatch(trades(1, 10))); // a redelivery adds nothing
  assert.equal(reports.length, 1, 'batches within the interval are not reported one by one');
  await waitFor('the trailing report', () => reports.length === 2, { timeoutMs: LIVE_REPORT_MS + 2_000 });
  assert.equal(reports[1]!.records_written, 200, 'cumulative: what the collection holds');
  assert.match(String(reports[1]!.message), /200 records stored in btcusdt_ws_trades_2026_11_28 \(live\)/);
});
