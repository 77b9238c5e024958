/**
 * The exchange simulator as the archive tests use it: a fixed clock in 2025 (spot files in
 * microseconds), BTCUSDT with one aggregate trade a minute (a day's aggTrades file is 1440
 * rows) and NEWUSDT, listed a week before that clock.
 */
import type { TestContext } from 'node:test';
import {
  DEFAULT_SYMBOLS,
  type ExchangeSimulator,
  type ExchangeSimulatorOptions,
  type SymbolSpec,
  startExchangeSimulator,
} from '@streamforge/simulator';

export const ARCHIVE_TEST_NOW = Date.UTC(2025, 2, 10, 1);
const BTC: SymbolSpec = { ...DEFAULT_SYMBOLS.find((s) => s.symbol === 'BTCUSDT')!, tradeGapMs: 60_000 };
const NEW: SymbolSpec = { ...BTC, symbol: 'NEWUSDT', baseAsset: 'NEW', listedAt: Date.UTC(2025, 2, 3, 10) };
export const ARCHIVE_TEST_SYMBOLS: readonly SymbolSpec[] = [BTC, NEW];

export async function startArchiveSimulator(
  t: TestContext,
  options: ExchangeSimulatorOptions = {},
): Promise<ExchangeSimulator> {
  const sim = await startExchangeSimulator({
    clock: () => ARCHIVE_TEST_NOW,
    symbols: [...ARCHIVE_TEST_SYMBOLS],
    weightLimit: Infinity,
    ...options,
  });
  t.after(() => sim.close());
  return sim;
}
