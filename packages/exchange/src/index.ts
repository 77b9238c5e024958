/** Binance market data: the REST client and its weight governor, the WebSocket stream client, the local order book, and gap detection. The exchange contract they share with the simulator (limits, paths, row types) is `@streamforge/core/contracts`. */
export {
  BinanceRestClient,
  type AggTradesQuery,
  type BinanceRestClientOptions,
  type ExchangeClientStats,
  type ExchangeInfoQuery,
  type FundingRateQuery,
  type KlinesQuery,
  type PriceKlineSeries,
} from './binance-rest.ts';
export {
  WeightGovernor,
  type WeightGovernorOptions,
  type WeightGovernorStats,
  type WeightPermit,
  type WeightResponse,
} from './weight-governor.ts';
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
