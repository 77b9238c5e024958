/**
 * Backfill batches for the connector's tests: BTCUSDT 5m candles from 2024-08-01 00:00 UTC,
 * in collection `c1`, as loader-api publishes them.
 */
import type { BinanceKlineRow, DataBatch } from '@streamforge/core/contracts';

export const QUEUE = 'wf-btcusdt-api_candles_5m-20240801-a1b2c3';

/** The `i`-th 5m candle of the day, as Binance's REST API serves it. */
export const klineRow = (i: number): BinanceKlineRow => [
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

/** A batch of these records (anything: the connector must cope with what it is sent), optionally a page's part. */
export function klineBatch(records: unknown[], page?: DataBatch['page']): DataBatch {
  return {
    queue_id: QUEUE,
    symbol: 'BTCUSDT',
    market: 'spot',
    kind: 'klines',
    interval: '5m',
    collection_name: 'c1',
    source: 'api',
    ...(page === undefined ? {} : { page }),
    records: records as DataBatch['records'],
  };
}
