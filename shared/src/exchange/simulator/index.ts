/** The exchange simulator: a stand-in for Binance's REST market-data API, for tests, benchmarks and demos. */
export { startExchangeSimulator, type ExchangeSimulator, type ExchangeSimulatorOptions, type RecordedRequest, type SimulatorStats } from './server.ts';
export { MarketData, type AggTradeQuery, type KlineSource, type MarketDataOptions, type PageQuery } from './market-data.ts';
export { DEFAULT_SYMBOLS, deriveSymbolSpec, type SymbolSpec, type UsdmSpec } from './symbols.ts';
export { PricePath, klineJson } from './synthetic.ts';
export type { FaultOptions } from './faults.ts';
export { simulatorOptionsFromEnv } from './simulator-env.ts';
