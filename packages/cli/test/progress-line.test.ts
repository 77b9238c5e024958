import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bulkTypeOf, progressLine, type WorkflowView } from '../src/workflow-commands.ts';

const view = (stored: WorkflowView['stored']): WorkflowView => ({
  queue_id: 'wf-btcusdt-api_candles_1m-20240801-a1b2c3',
  symbol: 'BTCUSDT',
  type: 'api_candles_1m',
  market: 'spot',
  status: 'running',
  collection_name: 'btcusdt_api_candles_1m_2024_08_01',
  services: ['loader-api', 'arango-connector'],
  progress: {},
  created_at: 0,
  updated_at: 0,
  ...(stored ? { stored } : {}),
});

test('the progress bar counts stored records and says how many were rejected, only when some were', () => {
  assert.match(
    progressLine(view({ pages_done: 5, pages_total: 10, records_written: 4_999, rejected: 1 }), 2_000),
    /50% stored 5\/10 pages 4,999 records, 1 rejected {2}running {2}2\.0s$/,
  );
  assert.doesNotMatch(
    progressLine(view({ pages_done: 5, pages_total: 10, records_written: 5_000, rejected: 0 }), 2_000),
    /rejected/,
  );
});

test("a bulk backfill shows the archive loader's pages as loaded; --bulk names its type from any backfill type", () => {
  const bulk: WorkflowView = {
    ...view({ pages_done: 3, pages_total: 49, records_written: 72, rejected: 0 }),
    type: 'bulk_candles_1m',
    services: ['loader-producer', 'arango-connector'],
    progress: { 'loader-producer': { status: 'loading', progress: { done: 7, total: 49, unit: 'pages' } } },
  };
  assert.match(progressLine(bulk, 1_000), / stored 3\/49 pages loaded 7\/49 72 records {2}running/);
  // With the archive bytes of the plan, the line says how much of them is read.
  const withBytes: WorkflowView = {
    ...bulk,
    progress: {
      'loader-producer': {
        status: 'loading',
        progress: { done: 7, total: 49, unit: 'pages', bytes: { done: 16_632_742, total: 28_513_272 } },
      },
    },
  };
  assert.match(progressLine(withBytes, 1_000), / loaded 7\/49 \(16\.6\/28\.5 MB\) 72 records/);
  assert.deepEqual(['candles_1m', 'api_candles_1m', 'bulk_agg_trades', 'agg_trades'].map(bulkTypeOf), [
    'bulk_candles_1m',
    'bulk_candles_1m',
    'bulk_agg_trades',
    'bulk_agg_trades',
  ]);
});
