/**
 * The parts of the Binance REST contract that the client and the simulator must agree on:
 * markets, paths, limits, request weights and payload types (what they mean: docs/binance.md).
 * One table, so the client budgets exactly the weight the simulator (and Binance) charges.
 */
import { INTERVALS, USDM_INTERVALS, intervalMs, type Interval } from './intervals.ts';
import type { Market } from './workflow-type.ts';

// Markets: `spot` is api.binance.com (`/api/v3`), `usdm` is the USD-M futures fapi.binance.com (`/fapi/v1`),
// `coinm` the COIN-M (coin-margined) futures dapi.binance.com (`/dapi/v1`).

/** A stream connection's limits and the server's ping rhythm (docs/binance.md, market streams). */
export interface StreamLimits {
  pingIntervalMs: number;
  pongTimeoutMs: number;
  /** Incoming messages (text, ping, pong) per second before the connection is dropped. */
  maxIncomingPerSecond: number;
  maxStreams: number;
  /** A connection is closed this long after it opened. */
  lifetimeMs: number;
}

/** Per market: what the client respects and the simulator enforces. */
export const STREAM_LIMITS: Record<Market, StreamLimits> = {
  spot: {
    pingIntervalMs: 20_000,
    pongTimeoutMs: 60_000,
    maxIncomingPerSecond: 5,
    maxStreams: 1024,
    lifetimeMs: 86_400_000,
  },
  usdm: {
    pingIntervalMs: 180_000,
    pongTimeoutMs: 600_000,
    maxIncomingPerSecond: 10,
    maxStreams: 1024,
    lifetimeMs: 86_400_000,
  },
  // COIN-M streams (dstream) are not consumed yet (ws_* is refused on coinm); these are its documented limits.
  coinm: {
    pingIntervalMs: 180_000,
    pongTimeoutMs: 600_000,
    maxIncomingPerSecond: 10,
    maxStreams: 200,
    lifetimeMs: 86_400_000,
  },
};

export const ENDPOINTS = [
  'ping',
  'time',
  'exchangeInfo',
  'klines',
  'aggTrades',
  'depth',
  'trades',
  'historicalTrades',
  'markPriceKlines',
  'indexPriceKlines',
  'premiumIndexKlines',
  'fundingRate',
] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

/** Endpoints only the futures markets have: spot has no mark price, index, premium or funding. */
export const FUTURES_ONLY_ENDPOINTS = [
  'markPriceKlines',
  'indexPriceKlines',
  'premiumIndexKlines',
  'fundingRate',
] as const;
export type FuturesOnlyEndpoint = (typeof FUTURES_ONLY_ENDPOINTS)[number];
export type SpotEndpoint = Exclude<Endpoint, FuturesOnlyEndpoint>;

/** The path of an endpoint on a market, or undefined where the market has none (spot's futures-only ones). */
export function endpointPath(market: Market, endpoint: Endpoint): string | undefined {
  return (PATHS[market] as Partial<Record<Endpoint, string>>)[endpoint];
}

export const PATHS: { spot: Record<SpotEndpoint, string> } & Record<'usdm' | 'coinm', Record<Endpoint, string>> = {
  spot: {
    ping: '/api/v3/ping',
    time: '/api/v3/time',
    exchangeInfo: '/api/v3/exchangeInfo',
    klines: '/api/v3/klines',
    aggTrades: '/api/v3/aggTrades',
    depth: '/api/v3/depth',
    trades: '/api/v3/trades',
    historicalTrades: '/api/v3/historicalTrades',
  },
  usdm: {
    ping: '/fapi/v1/ping',
    time: '/fapi/v1/time',
    exchangeInfo: '/fapi/v1/exchangeInfo',
    klines: '/fapi/v1/klines',
    aggTrades: '/fapi/v1/aggTrades',
    depth: '/fapi/v1/depth',
    trades: '/fapi/v1/trades',
    historicalTrades: '/fapi/v1/historicalTrades',
    markPriceKlines: '/fapi/v1/markPriceKlines',
    indexPriceKlines: '/fapi/v1/indexPriceKlines',
    premiumIndexKlines: '/fapi/v1/premiumIndexKlines',
    fundingRate: '/fapi/v1/fundingRate',
  },
  coinm: {
    ping: '/dapi/v1/ping',
    time: '/dapi/v1/time',
    exchangeInfo: '/dapi/v1/exchangeInfo',
    klines: '/dapi/v1/klines',
    aggTrades: '/dapi/v1/aggTrades',
    depth: '/dapi/v1/depth',
    trades: '/dapi/v1/trades',
    historicalTrades: '/dapi/v1/historicalTrades',
    markPriceKlines: '/dapi/v1/markPriceKlines',
    indexPriceKlines: '/dapi/v1/indexPriceKlines',
    premiumIndexKlines: '/dapi/v1/premiumIndexKlines',
    fundingRate: '/dapi/v1/fundingRate',
  },
};

/** REQUEST_WEIGHT per minute and IP: 6000 spot (since August 2023), 2400 USD-M and COIN-M. */
export const DEFAULT_WEIGHT_LIMITS: Record<Market, number> = { spot: 6000, usdm: 2400, coinm: 2400 };

/** The fixed window of REQUEST_WEIGHT (`intervalNum` 1, `interval` MINUTE). */
export const WEIGHT_WINDOW_MS = 60_000;

/** Header names as undici and node:http present them (lower case). */
export const USED_WEIGHT_HEADER = 'x-mbx-used-weight-1m';
export const LEGACY_USED_WEIGHT_HEADER = 'x-mbx-used-weight';

/** Default and largest `limit` of klines: spot 500/1000, USD-M and COIN-M 500/1500. */
export const KLINE_LIMITS: Record<Market, { default: number; max: number }> = {
  spot: { default: 500, max: 1000 },
  usdm: { default: 500, max: 1500 },
  coinm: { default: 500, max: 1500 },
};

/** COIN-M klines: startTime and endTime at most 200 days apart. */
export const COINM_KLINES_MAX_SPAN_MS = 200 * 86_400_000;

/**
 * Candles one klines request can return over a range: the market's largest `limit`, and on
 * COIN-M no more than fit in 200 days (1d: 200, 1w: 28, 1M: 6), so a page's
 * startTime–endTime is never refused.
 */
export function klinesPerRequest(market: Market, interval: Interval): number {
  const max = KLINE_LIMITS[market].max;
  if (market !== 'coinm') return max;
  // The longest month (31 days) for 1M, so no six months in a row pass 200 days.
  const longest = interval === '1M' ? 31 * 86_400_000 : intervalMs(interval);
  return Math.max(1, Math.min(max, Math.floor(COINM_KLINES_MAX_SPAN_MS / longest)));
}

/** Default and largest `limit` of fundingRate (USD-M; COIN-M documents the same, unverified here). */
export const FUNDING_RATE_LIMITS = { default: 100, max: 1000 } as const;

/**
 * fundingRate has a limit of its own: 500 requests per 5 minutes and IP, shared with
 * fundingInfo, besides REQUEST_WEIGHT. Binance does not say whether the window is fixed or
 * sliding; fixed windows would let 475 go at the end of one and 475 at the start of the next,
 * so the client keeps a sliding log (never more than 95 % of 500 in any 5 minutes, which holds
 * under either kind) and sends one request at a time.
 */
export const FUNDING_RATE_REQUESTS = { limit: 500, windowMs: 300_000 } as const;

/** Default and largest `limit` of aggTrades, both markets. */
export const AGG_TRADE_LIMITS = { default: 500, max: 1000 } as const;

/** USD-M (and COIN-M) aggTrades: startTime and endTime less than one hour apart. */
export const USDM_AGG_TRADES_MAX_SPAN_MS = 60 * 60 * 1000;

/** Intervals a market's klines accept: the futures markets have no `1s`. */
export function marketIntervals(market: Market): readonly Interval[] {
  return market === 'spot' ? INTERVALS : USDM_INTERVALS;
}

/** USD-M klines weight by limit: [1,100) 1, [100,500) 2, [500,1000] 5, above 10. */
export function usdmKlinesWeight(limit: number): number {
  if (limit < 100) return 1;
  if (limit < 500) return 2;
  if (limit <= 1000) return 5;
  return 10;
}

/** Default and largest `limit` of a depth snapshot: spot 100/5000, USD-M and COIN-M 500/1000. */
export const DEPTH_LIMITS: Record<Market, { default: number; max: number }> = {
  spot: { default: 100, max: 5000 },
  usdm: { default: 500, max: 1000 },
  coinm: { default: 500, max: 1000 },
};

/** Default and largest `limit` of historicalTrades: spot 500/1000, futures 100/500 (recent `trades`: 500/1000 on all). */
export const HISTORICAL_TRADE_LIMITS: Record<Market, { default: number; max: number }> = {
  spot: { default: 500, max: 1000 },
  usdm: { default: 100, max: 500 },
  coinm: { default: 100, max: 500 },
};

/** Depth weight by limit: spot 1–100 → 5, ≤500 → 25, ≤1000 → 50, above 250; futures ≤50 → 2, 100 → 5, 500 → 10, 1000 → 20. */
export function depthWeight(market: Market, limit: number): number {
  if (market === 'spot') return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
  return limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20;
}

/**
 * The weight Binance charges for one request; `limit` matters only for futures klines and
 * depth (the limit actually used, so the default when none is sent). USD-M and COIN-M charge alike.
 */
export function requestWeight(market: Market, endpoint: Endpoint, limit?: number): number {
  if (market === 'spot') {
    switch (endpoint) {
      case 'ping':
      case 'time':
        return 1;
      case 'exchangeInfo':
        return 20;
      case 'klines':
        return 2;
      case 'aggTrades':
        return 4; // 2 → 4 on 2025-03-10
      case 'depth':
        return depthWeight(market, Math.min(limit ?? DEPTH_LIMITS.spot.default, DEPTH_LIMITS.spot.max));
      case 'trades':
      case 'historicalTrades':
        return 25;
      default:
        // Futures-only endpoints: spot has no path for them, so nothing is ever sent or served.
        return 1;
    }
  }
  switch (endpoint) {
    case 'ping':
    case 'time':
    case 'exchangeInfo':
      return 1;
    case 'klines':
    case 'markPriceKlines':
    case 'indexPriceKlines':
    case 'premiumIndexKlines':
      return usdmKlinesWeight(Math.min(limit ?? KLINE_LIMITS[market].default, KLINE_LIMITS[market].max));
    case 'fundingRate':
      // Budgeted by its own 500 / 5 min (FUNDING_RATE_REQUESTS); its REQUEST_WEIGHT is not documented: 1 assumed.
      return 1;
    case 'aggTrades':
      return 20;
    case 'depth':
      return depthWeight(market, Math.min(limit ?? DEPTH_LIMITS[market].default, DEPTH_LIMITS[market].max));
    case 'trades':
      return 5;
    case 'historicalTrades':
      return 20;
  }
}

/** A kline as Binance sends it: a 12-element array, numbers for times and trade count, strings for the rest. */
export type KlineRow = [
  openTime: number,
  open: string,
  high: string,
  low: string,
  close: string,
  volume: string,
  closeTime: number,
  quoteVolume: string,
  trades: number,
  takerBuyBaseVolume: string,
  takerBuyQuoteVolume: string,
  ignore: string,
];

/** A fundingRate item: `{"symbol","fundingRate","fundingTime","markPrice"}`, ascending by fundingTime. */
export interface FundingRate {
  symbol: string;
  fundingRate: string;
  fundingTime: number;
  markPrice?: string;
}

/**
 * A funding rate as the monthly archive gives it (`calc_time,funding_interval_hours,last_funding_rate`):
 * no symbol (the file's), no mark price, the funding interval instead.
 */
export interface ArchivedFundingRate {
  fundingTime: number;
  fundingRate: string;
  fundingIntervalHours: number;
}

/**
 * The values of a USD-M `metrics` archive row, in the file's column order (after `create_time`
 * and `symbol`): the one list the reader, the records, the simulator and the series answer use.
 */
export const METRICS_FIELDS = [
  'sum_open_interest',
  'sum_open_interest_value',
  'count_toptrader_long_short_ratio',
  'sum_toptrader_long_short_ratio',
  'count_long_short_ratio',
  'sum_taker_long_short_vol_ratio',
] as const;
export type MetricsField = (typeof METRICS_FIELDS)[number];

/** The first day of Binance's USD-M `metrics` archive files (2021-12-01): there are none before it, whatever the listing. */
export const METRICS_ARCHIVES_FROM = Date.UTC(2021, 11, 1);

/** A row of the USD-M `metrics` archive, its `create_time` read as ms (UTC), its values as written. */
export type MetricsRow = { create_time: number } & Record<MetricsField, string>;

/** An aggregate trade: `a` id, `p` price, `q` quantity, `f`/`l` first/last trade id, `T` time, `m` buyer is maker, `M` best match (spot only). */
export interface AggTrade {
  a: number;
  p: string;
  q: string;
  f: number;
  l: number;
  T: number;
  m: boolean;
  M?: boolean;
}

/** A trade (`/api/v3/trades`, `historicalTrades`): id, price, quantity, quote quantity, time, buyer is maker, best match (spot only). */
export interface RawTrade {
  id: number;
  price: string;
  qty: string;
  quoteQty: string;
  time: number;
  isBuyerMaker: boolean;
  isBestMatch?: boolean;
}

/** A REST depth snapshot (`/api/v3/depth`, `/fapi/v1/depth`); USD-M adds the message and transaction times `E`, `T`. */
export interface DepthSnapshot {
  lastUpdateId: number;
  E?: number;
  T?: number;
  bids: Array<[string, string]>;
  asks: Array<[string, string]>;
}

export interface RateLimit {
  rateLimitType: 'REQUEST_WEIGHT' | 'ORDERS' | 'RAW_REQUESTS';
  interval: 'SECOND' | 'MINUTE' | 'DAY';
  intervalNum: number;
  limit: number;
}

/** The fields of an exchangeInfo symbol StreamForge reads; the rest are kept as sent. */
export interface ExchangeSymbol {
  symbol: string;
  status: string;
  baseAsset: string;
  quoteAsset: string;
  filters: Array<Record<string, unknown>>;
  [field: string]: unknown;
}

export interface ExchangeInfo {
  timezone: string;
  serverTime: number;
  rateLimits: RateLimit[];
  exchangeFilters: unknown[];
  symbols: ExchangeSymbol[];
  [field: string]: unknown;
}

/** Binance's error body: `{"code":-1121,"msg":"Invalid symbol."}`. */
export interface BinanceErrorBody {
  code: number;
  msg: string;
}

/** The REQUEST_WEIGHT per minute announced by an exchangeInfo, if any. */
export function requestWeightLimit(info: Pick<ExchangeInfo, 'rateLimits'>): number | undefined {
  const limit = info.rateLimits.find(
    (r) => r.rateLimitType === 'REQUEST_WEIGHT' && r.interval === 'MINUTE' && r.intervalNum === 1,
  );
  return limit?.limit;
}
