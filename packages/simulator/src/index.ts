/**
 * The exchange simulator: a stand-in for Binance's REST market-data API, WebSocket market
 * streams and public archive site (daily and monthly zips under `/data/`, the S3 listing at
 * `/`, publication lag and download faults), for tests, benchmarks and demos.
 */
export {
  startExchangeSimulator,
  type ExchangeSimulator,
  type ExchangeSimulatorOptions,
  type RecordedRequest,
  type SimulatorStats,
} from './server.ts';
export { seededRandom } from './random.ts';
export {
  MarketData,
  type AggTradeQuery,
  type KlineSource,
  type MarketDataOptions,
  type PageQuery,
} from './market-data.ts';
export {
  DEFAULT_SYMBOLS,
  coinmSymbolOf,
  deriveSymbolSpec,
  type CoinmSpec,
  type SymbolSpec,
  type UsdmSpec,
} from './symbols.ts';
export { PricePath, klineJson } from './synthetic.ts';
export type { FaultOptions } from './faults.ts';
export { ArchiveSite, type ArchiveOptions, type ArchiveStats } from './archive-site.ts';
export {
  ARCHIVE_FAULT_KINDS,
  MALFORMED_FIELD,
  globRegExp,
  type ArchiveFault,
  type ArchiveFaultKind,
} from './archive-faults.ts';
export * from './archive-paths.ts';
export {
  FUTURES_AGG_TRADE_HEADER,
  FUTURES_KLINE_HEADER,
  FUTURES_TRADE_HEADER,
  SPOT_MICROSECONDS_FROM,
  aggTradeCsvLine,
  klineCsvLine,
  tradeCsvLine,
  usesMicroseconds,
} from './archive-csv.ts';
export { simulatorOptionsFromEnv } from './simulator-env.ts';
export {
  attachWebSocketSide,
  routeUpgrade,
  type ConnectionInfo,
  type WebSocketSide,
  type WebSocketSideOptions,
  type WebSocketStats,
} from './ws-server.ts';
export type { ConnectionLimits } from './ws-connection.ts';
export { DepthBooks, BOOK_TICK_MS, type DepthUpdate } from './ws-depth-books.ts';
export { loadCapture, parseCapture, type ReplayCapture, type ReplayFrame, type ReplaySnapshot } from './ws-replay.ts';
export { parseStreamName, klineUpdateMs, type StreamKind, type StreamSpec } from './ws-streams.ts';
export { rawTrades, rawTradesOf } from './ws-raw-trades.ts';
export { webSocketOptionsFromEnv } from './ws-env.ts';
