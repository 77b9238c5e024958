/**
 * Hourly candles for the graph-builder tests: seeded random walks that share a market
 * factor (so returns correlate, as crypto's do), with plausible highs, lows and volumes,
 * as records the connector would have stored.
 */
import { klineFromRow, type KlineRecord } from '@streamforge/core/contracts';
import { seededRandom } from '@streamforge/simulator';

export const HOUR = 3_600_000;
export const T0 = Date.UTC(2024, 0, 1);

const gauss = (next: () => number): number => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());

/** `bars` 1h candles from T0 for each symbol; `beta[i]` is symbol i's exposure to the shared factor. */
export function hourlyCandles(
  symbols: readonly string[],
  bars: number,
  beta: readonly number[] = symbols.map(() => 1),
  seed = 7,
): Map<string, KlineRecord[]> {
  const market = seededRandom(seed);
  const factor = Array.from({ length: bars }, () => 0.004 * gauss(market));
  const out = new Map<string, KlineRecord[]>();
  symbols.forEach((symbol, s) => {
    const own = seededRandom(seed * 1000 + s + 1);
    let close = 100 * (s + 1);
    const records: KlineRecord[] = [];
    for (let i = 0; i < bars; i++) {
      const open = close;
      close = open * Math.exp(beta[s]! * factor[i]! + 0.003 * gauss(own));
      const high = Math.max(open, close) * (1 + 0.002 * own());
      const low = Math.min(open, close) * (1 - 0.002 * own());
      const volume = 50 + 100 * own();
      const t = T0 + i * HOUR;
      const fixed = (v: number) => v.toFixed(8);
      records.push(
        klineFromRow(symbol, '1h', [
          t,
          fixed(open),
          fixed(high),
          fixed(low),
          fixed(close),
          fixed(volume),
          t + HOUR - 1,
          fixed(volume * close),
          100 + i,
          fixed(volume / 2),
          fixed((volume / 2) * close),
          '0',
        ]),
      );
    }
    out.set(symbol, records);
  });
  return out;
}

/** The collection a backfill of 2024-01-01 names for a symbol's 1h candles. */
export function collectionOf(symbol: string): string {
  return `${symbol.toLowerCase()}_api_candles_1h_2024_01_01`;
}
