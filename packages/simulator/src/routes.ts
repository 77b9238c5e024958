/**
 * The REST endpoints of the exchange simulator (a stand-in for Binance), with Binance's
 * paths, parameters, weights and validation order (docs/binance.md): parameter
 * syntax first (-1101, -1102, -1100, -1130, -1104), then the symbol (-1121), then the
 * interval (-1120). `limit` above the maximum is clamped (spot 1000, futures 1500), as the
 * community clients assume; Binance documents only the maximum. COIN-M is served at
 * `/dapi/v1` like USD-M, with its klines' 200-day limit between startTime and endTime. The
 * futures also serve the mark price, index price and premium index klines and fundingRate
 * (futures-series.ts); fundingRate's own 500-per-5-minutes limit is not enforced here.
 */
import type { Interval } from '@streamforge/core/contracts';
import {
  AGG_TRADE_LIMITS,
  COINM_KLINES_MAX_SPAN_MS,
  DEPTH_LIMITS,
  FUNDING_RATE_LIMITS,
  HISTORICAL_TRADE_LIMITS,
  KLINE_LIMITS,
  MARKETS,
  endpointPath,
  USDM_AGG_TRADES_MAX_SPAN_MS,
  marketIntervals,
  requestWeight,
  type Endpoint,
  type Market,
} from '@streamforge/core/contracts';
import { exchangeInfoJson } from './exchange-info.ts';
import { PRICE_SERIES, type PriceSeries } from './futures-series.ts';
import type { MarketData } from './market-data.ts';
import { rejections, type QueryParams } from './params.ts';
import type { DepthBooks } from './ws-depth-books.ts';
import { rawTrades } from './ws-raw-trades.ts';

export interface Route {
  market: Market;
  endpoint: Endpoint;
  /** The weight charged, known before validation (an invalid `limit` is charged as the default). */
  weight(params: QueryParams): number;
  /** The 200 body; throws BinanceRejection for a 4xx. */
  handle(params: QueryParams, now: number): string | Promise<string>;
}

export interface RouteContext {
  data: MarketData;
  /** Order books behind `/depth` (and the WebSocket side's diff-depth streams). */
  books: DepthBooks;
  /** The current REQUEST_WEIGHT budget of a market, announced by exchangeInfo. */
  weightLimit(market: Market): number;
}

async function klines(context: RouteContext, market: Market, params: QueryParams, now: number): Promise<string> {
  params.assertNoDuplicates();
  const symbol = params.symbol();
  const interval = params.mandatory('interval');
  const startTime = params.uint('startTime');
  const endTime = params.uint('endTime');
  const limit = params.limit(KLINE_LIMITS[market].default, KLINE_LIMITS[market].max);
  if (market === 'spot') params.timeZone(); // validated; boundaries stay UTC
  params.assertAllRead();
  if (!context.data.isListed(market, symbol)) throw rejections.invalidSymbol();
  if (!(marketIntervals(market) as readonly string[]).includes(interval)) throw rejections.invalidInterval();
  if (
    market === 'coinm' &&
    startTime !== undefined &&
    endTime !== undefined &&
    endTime - startTime > COINM_KLINES_MAX_SPAN_MS
  )
    throw rejections.tooManyDays(200);
  return await context.data.klinesJson(market, symbol, interval as Interval, { startTime, endTime, limit }, now);
}

/**
 * `/markPriceKlines`, `/premiumIndexKlines` (symbol) and `/indexPriceKlines` (pair): the futures
 * price series, validated and paged like klines. A pair is listed when a contract of it is
 * (USD-M: BTCUSDT is its own pair; COIN-M: BTCUSD of BTCUSD_PERP).
 */
function priceKlines(
  context: RouteContext,
  market: Market,
  series: PriceSeries,
  params: QueryParams,
  now: number,
): string {
  params.assertNoDuplicates();
  const byPair = series === 'indexPriceKlines';
  const name = params.symbol(byPair ? 'pair' : 'symbol');
  const interval = params.mandatory('interval');
  const startTime = params.uint('startTime');
  const endTime = params.uint('endTime');
  const limit = params.limit(KLINE_LIMITS[market].default, KLINE_LIMITS[market].max);
  params.assertAllRead();
  const symbol = byPair ? context.data.symbols(market).find((s) => s === name || s.startsWith(`${name}_`)) : name;
  if (symbol === undefined || !context.data.isListed(market, symbol)) throw rejections.invalidSymbol();
  if (!(marketIntervals(market) as readonly string[]).includes(interval)) throw rejections.invalidInterval();
  if (
    market === 'coinm' &&
    startTime !== undefined &&
    endTime !== undefined &&
    endTime - startTime > COINM_KLINES_MAX_SPAN_MS
  )
    throw rejections.tooManyDays(200);
  return context.data.priceKlinesJson(market, series, symbol, interval as Interval, { startTime, endTime, limit }, now);
}

/**
 * `/fundingRate`: settlements in [startTime, endTime] ascending, at most `limit` (1000). Binance
 * answers every symbol's latest rates without a symbol; the simulator requires one.
 */
function fundingRate(context: RouteContext, market: Market, params: QueryParams, now: number): string {
  params.assertNoDuplicates();
  const symbol = params.symbol();
  const startTime = params.uint('startTime');
  const endTime = params.uint('endTime');
  const limit = params.limit(FUNDING_RATE_LIMITS.default, FUNDING_RATE_LIMITS.max);
  params.assertAllRead();
  if (!context.data.isListed(market, symbol)) throw rejections.invalidSymbol();
  return JSON.stringify(context.data.fundingRates(market, symbol, { startTime, endTime, limit }, now));
}

function aggTrades(context: RouteContext, market: Market, params: QueryParams, now: number): string {
  params.assertNoDuplicates();
  const symbol = params.symbol();
  const fromId = params.uint('fromId');
  const startTime = params.uint('startTime');
  const endTime = params.uint('endTime');
  const limit = params.limit(AGG_TRADE_LIMITS.default, AGG_TRADE_LIMITS.max);
  params.assertAllRead();
  if (!context.data.isListed(market, symbol)) throw rejections.invalidSymbol();
  if (fromId !== undefined && (startTime !== undefined || endTime !== undefined)) throw rejections.badCombination();
  if (
    market !== 'spot' &&
    startTime !== undefined &&
    endTime !== undefined &&
    endTime - startTime >= USDM_AGG_TRADES_MAX_SPAN_MS
  )
    throw rejections.tooManyHours(1);
  return JSON.stringify(context.data.aggTrades(market, symbol, { fromId, startTime, endTime, limit }, now));
}

function limitForWeight(params: QueryParams, limits: { default: number; max: number }): number {
  const raw = params.peek('limit');
  return raw !== undefined && /^[0-9]{1,20}$/.test(raw) ? Math.min(Number(raw), limits.max) : limits.default;
}

/** `/depth`: the simulator's book (or a recorded snapshot when a capture is replayed), best `limit` levels per side. */
function depth(context: RouteContext, market: Market, params: QueryParams, now: number): string {
  params.assertNoDuplicates();
  const symbol = params.symbol();
  const limit = params.limit(DEPTH_LIMITS[market].default, DEPTH_LIMITS[market].max);
  if (market === 'spot') params.optional('symbolStatus'); // accepted, not filtered on
  params.assertAllRead();
  if (!context.data.isListed(market, symbol) && !context.books.hasRecorded(market, symbol))
    throw rejections.invalidSymbol();
  return JSON.stringify(context.books.snapshot(market, symbol, limit, now));
}

/** `/trades` (most recent) and `/historicalTrades` (from `fromId`): raw trades consistent with the aggregate trades. */
function trades(context: RouteContext, market: Market, params: QueryParams, now: number, historical: boolean): string {
  params.assertNoDuplicates();
  const symbol = params.symbol();
  const limits = historical ? HISTORICAL_TRADE_LIMITS[market] : { default: 500, max: 1000 };
  const limit = params.limit(limits.default, limits.max);
  const fromId = historical ? params.uint('fromId') : undefined;
  params.assertAllRead();
  if (!context.data.isListed(market, symbol)) throw rejections.invalidSymbol();
  return JSON.stringify(
    rawTrades(context.data, market, symbol, { ...(fromId === undefined ? {} : { fromId }), limit }, now),
  );
}

function exchangeInfo(context: RouteContext, market: Market, params: QueryParams, now: number): string {
  params.assertNoDuplicates();
  let symbols: string[] | undefined;
  if (market === 'spot') {
    const symbol = params.peek('symbol') === undefined ? undefined : params.symbol();
    const list = params.symbols();
    for (const name of ['permissions', 'showPermissionSets', 'symbolStatus']) params.optional(name); // accepted, not filtered on
    if (symbol !== undefined && list !== undefined) throw rejections.badCombination();
    symbols = symbol === undefined ? list : [symbol];
  }
  params.assertAllRead();
  if (symbols?.some((s) => !context.data.isListed(market, s))) throw rejections.invalidSymbol();
  return exchangeInfoJson(market, context.data, symbols, now, context.weightLimit(market));
}

/** Routes by path, every market. */
export function createRoutes(context: RouteContext): Map<string, Route> {
  const routes = new Map<string, Route>();
  for (const market of MARKETS) {
    const add = (endpoint: Endpoint, handle: Route['handle']): void => {
      const path = endpointPath(market, endpoint);
      if (path === undefined) return; // spot has no futures-only endpoints
      const weight =
        endpoint === 'klines' || (PRICE_SERIES as readonly string[]).includes(endpoint)
          ? (params: QueryParams) => requestWeight(market, endpoint, limitForWeight(params, KLINE_LIMITS[market]))
          : endpoint === 'depth'
            ? (params: QueryParams) => requestWeight(market, endpoint, limitForWeight(params, DEPTH_LIMITS[market]))
            : () => requestWeight(market, endpoint);
      routes.set(path, { market, endpoint, weight, handle });
    };
    add('ping', (params) => {
      params.assertNoDuplicates();
      params.assertAllRead();
      return '{}';
    });
    add('time', (params, now) => {
      params.assertNoDuplicates();
      params.assertAllRead();
      return `{"serverTime":${now}}`;
    });
    add('exchangeInfo', (params, now) => exchangeInfo(context, market, params, now));
    add('klines', (params, now) => klines(context, market, params, now));
    add('aggTrades', (params, now) => aggTrades(context, market, params, now));
    add('depth', (params, now) => depth(context, market, params, now));
    add('trades', (params, now) => trades(context, market, params, now, false));
    add('historicalTrades', (params, now) => trades(context, market, params, now, true));
    for (const series of PRICE_SERIES) add(series, (params, now) => priceKlines(context, market, series, params, now));
    add('fundingRate', (params, now) => fundingRate(context, market, params, now));
  }
  return routes;
}
