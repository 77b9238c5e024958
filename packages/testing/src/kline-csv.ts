import { readFileSync } from 'node:fs';
import type { KlineRow } from '@streamforge/core/contracts';

/**
 * The kline rows of a data.binance.vision CSV (with or without its header row), in the REST
 * API's shape: times and the trade count as numbers, prices and volumes as the strings Binance
 * wrote ("16541.77000000"), for tests that compare with the exchange byte for byte.
 */
export function klineRowsOfCsv(file: string | URL): KlineRow[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => /^\d/.test(line))
    .map((line) => {
      const c = line.trim().split(',');
      return [
        Number(c[0]),
        c[1],
        c[2],
        c[3],
        c[4],
        c[5],
        Number(c[6]),
        c[7],
        Number(c[8]),
        c[9],
        c[10],
        c[11],
      ] as unknown as KlineRow;
    });
}
