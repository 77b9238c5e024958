/** Binance market data: the REST client and its weight governor, the WebSocket stream client, the local order book, gap detection, and the exchange contract they share with the simulator. */
export {
  BinanceRestClient,
  type AggTradesQuery,
  type BinanceRestClientOptions,
  type ExchangeClientStats,
  type ExchangeInfoQuery,
  type KlinesQuery,
} from './binance-rest.ts';
export {
  WeightGovernor,
  type WeightGovernorOptions,
  type WeightGovernorStats,
  type WeightPermit,
  type WeightResponse,
} from './weight-governor.ts';
export {
  AGG_TRADE_LIMITS,
  DEFAULT_WEIGHT_LIMITS,
  DEPTH_LIMITS,
  HISTORICAL_TRADE_LIMITS,
  KLINE_LIMITS,
  MARKETS,
  PATHS,
  marketIntervals,
  requestWeight,
  requestWeightLimit,
  type AggTrade,
  type BinanceErrorBody,
  type DepthSnapshot,
  type RawTrade,
  type Endpoint,
  type ExchangeInfo,
  type ExchangeSymbol,
  type KlineRow,
  type Market,
  type RateLimit,
  STREAM_LIMITS,
  type StreamLimits,
} from '@streamforge/core/contracts';
export { scaledTime, systemTime, type TimeSource } from './time-source.ts';
export { anchoredTime, exchangeTimeFromEnv, exchangeTimeOrigin } from './exchange-time.ts';
export {
  BinanceStreamClient,
  type BinanceStreamClientOptions,
  type StreamClientEvent,
  type StreamClientStats,
  type StreamMessage,
} from './binance-ws.ts';
export {
  OrderBookSync,
  type BookView,
  type DepthEvent,
  type OrderBookStats,
  type OrderBookSyncOptions,
  type SyncState,
} from './order-book.ts';
export {
  IdSequence,
  KlineSequence,
  type IdObservation,
  type KlineObservation,
  type KlineStatus,
  type SequenceStatus,
} from './stream-gaps.ts';
