/** Binance REST market data: the client, its weight governor and the exchange contract it shares with the simulator. */
export {
  BinanceRestClient,
  type AggTradesQuery,
  type BinanceRestClientOptions,
  type ExchangeClientStats,
  type ExchangeInfoQuery,
  type KlinesQuery,
} from './binance-rest.ts';
export { WeightGovernor, type WeightGovernorOptions, type WeightGovernorStats, type WeightPermit, type WeightResponse } from './weight-governor.ts';
export {
  AGG_TRADE_LIMITS,
  DEFAULT_WEIGHT_LIMITS,
  KLINE_LIMITS,
  MARKETS,
  PATHS,
  marketIntervals,
  requestWeight,
  requestWeightLimit,
  type AggTrade,
  type BinanceErrorBody,
  type Endpoint,
  type ExchangeInfo,
  type ExchangeSymbol,
  type KlineRow,
  type Market,
  type RateLimit,
} from './binance-contract.ts';
export { scaledTime, systemTime, type TimeSource } from './time-source.ts';
