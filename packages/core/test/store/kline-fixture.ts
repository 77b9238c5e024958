/**
 * Real klines for the store tests and bench/store.ts: BTCUSDT spot 1h candles of January 2023
 * from test/fixtures (data.binance.vision CSV), as klineFromRow makes them, decimal strings
 * exactly as Binance wrote them ("16541.77000000").
 */
import { klineRowsOfCsv } from '@streamforge/testing';
import { klineFromRow, type BinanceKlineRow, type KlineRecord } from '../../src/contracts/records.ts';

const CSV = new URL('../../../../test/fixtures/binance/klines/spot/BTCUSDT-1h-2023-01.csv', import.meta.url);

let rows: BinanceKlineRow[] | undefined;

function csvRows(): BinanceKlineRow[] {
  rows ??= klineRowsOfCsv(CSV);
  return rows;
}

/** The 744 real 1h candles of BTCUSDT, January 2023, in open-time order. */
export function realKlines(): KlineRecord[] {
  return csvRows().map((row) => klineFromRow('BTCUSDT', '1h', row));
}

/**
 * `count` consecutive 1m candles from `startMs` (keys in order, all distinct), their prices
 * and volumes taken in turn from the real candles: realistic records in any number.
 */
export function klineSeries(count: number, startMs = Date.UTC(2024, 7, 1), symbol = 'BTCUSDT'): KlineRecord[] {
  const source = csvRows();
  return Array.from({ length: count }, (_, i) => {
    const row = source[i % source.length];
    const openTime = startMs + i * 60_000;
    return klineFromRow(symbol, '1m', [
      openTime,
      row[1],
      row[2],
      row[3],
      row[4],
      row[5],
      openTime + 59_999,
      row[7],
      row[8],
      row[9],
      row[10],
      row[11],
    ]);
  });
}
