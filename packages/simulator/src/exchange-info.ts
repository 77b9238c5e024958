/**
 * `exchangeInfo` payloads of the exchange simulator, shaped like Binance's (docs/binance.md):
 * spot `/api/v3/exchangeInfo` (REQUEST_WEIGHT per minute, ORDERS, RAW_REQUESTS,
 * symbols with status, assets, precisions, PRICE_FILTER/LOT_SIZE filters) and USD-M
 * `/fapi/v1/exchangeInfo` (REQUEST_WEIGHT 2400/min, perpetual contracts) and COIN-M
 * `/dapi/v1/exchangeInfo` (REQUEST_WEIGHT 2400/min, coin-margined perpetuals `BTCUSD_PERP`
 * with their `pair`, `contractSize` and `contractStatus`).
 */
import { DEFAULT_WEIGHT_LIMITS, type Market, type RateLimit } from '@streamforge/core/contracts';
import type { MarketData } from './market-data.ts';
import { decimalsOf, listedAt, type SymbolSpec } from './symbols.ts';

function fixed8(value: number): string {
  return value.toFixed(8);
}

function spotSymbol(spec: SymbolSpec): Record<string, unknown> {
  return {
    symbol: spec.symbol,
    status: 'TRADING',
    baseAsset: spec.baseAsset,
    baseAssetPrecision: 8,
    quoteAsset: spec.quoteAsset,
    quotePrecision: 8,
    quoteAssetPrecision: 8,
    baseCommissionPrecision: 8,
    quoteCommissionPrecision: 8,
    orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
    icebergAllowed: true,
    ocoAllowed: true,
    otoAllowed: true,
    quoteOrderQtyMarketAllowed: true,
    allowTrailingStop: true,
    cancelReplaceAllowed: true,
    amendAllowed: true,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: true,
    filters: [
      {
        filterType: 'PRICE_FILTER',
        minPrice: fixed8(spec.tickSize),
        maxPrice: fixed8(spec.price * 20),
        tickSize: fixed8(spec.tickSize),
      },
      {
        filterType: 'LOT_SIZE',
        minQty: fixed8(spec.stepSize),
        maxQty: fixed8(9_000_000),
        stepSize: fixed8(spec.stepSize),
      },
    ],
    permissions: [],
    permissionSets: [['SPOT', 'MARGIN']],
    defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
    allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH', 'DECREMENT'],
  };
}

function usdmSymbol(spec: SymbolSpec): Record<string, unknown> {
  const usdm =
    spec.usdm === false
      ? { tickSize: spec.tickSize, pricePrecision: decimalsOf(spec.tickSize), quantityPrecision: 0 }
      : spec.usdm;
  const step = 10 ** -usdm.quantityPrecision;
  return {
    symbol: spec.symbol,
    pair: spec.symbol,
    contractType: 'PERPETUAL',
    deliveryDate: 4133404800000,
    onboardDate: listedAt(spec, 'usdm'),
    status: 'TRADING',
    baseAsset: spec.baseAsset,
    quoteAsset: spec.quoteAsset,
    marginAsset: spec.quoteAsset,
    pricePrecision: usdm.pricePrecision,
    quantityPrecision: usdm.quantityPrecision,
    baseAssetPrecision: 8,
    quotePrecision: 8,
    underlyingType: 'COIN',
    underlyingSubType: [],
    filters: [
      {
        filterType: 'PRICE_FILTER',
        minPrice: usdm.tickSize.toFixed(usdm.pricePrecision),
        maxPrice: (spec.price * 20).toFixed(usdm.pricePrecision),
        tickSize: usdm.tickSize.toFixed(Math.max(usdm.pricePrecision, decimalsOf(usdm.tickSize))),
      },
      {
        filterType: 'LOT_SIZE',
        minQty: step.toFixed(usdm.quantityPrecision),
        maxQty: '1000000',
        stepSize: step.toFixed(usdm.quantityPrecision),
      },
    ],
    orderTypes: ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'],
    timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
  };
}

/** A COIN-M perpetual as `/dapi/v1/exchangeInfo` lists it: margined in its base coin, priced in USD contracts. */
function coinmSymbol(spec: SymbolSpec): Record<string, unknown> {
  const coinm = spec.coinm ?? { tickSize: spec.tickSize, pricePrecision: decimalsOf(spec.tickSize), contractSize: 10 };
  return {
    symbol: spec.symbol,
    pair: `${spec.baseAsset}USD`,
    contractType: 'PERPETUAL',
    deliveryDate: 4133404800000,
    onboardDate: listedAt(spec, 'coinm'),
    contractStatus: 'TRADING',
    contractSize: coinm.contractSize,
    marginAsset: spec.baseAsset,
    baseAsset: spec.baseAsset,
    quoteAsset: 'USD',
    pricePrecision: coinm.pricePrecision,
    quantityPrecision: 0,
    baseAssetPrecision: 8,
    quotePrecision: 8,
    underlyingType: 'COIN',
    underlyingSubType: [],
    filters: [
      {
        filterType: 'PRICE_FILTER',
        minPrice: coinm.tickSize.toFixed(coinm.pricePrecision),
        maxPrice: (spec.price * 20).toFixed(coinm.pricePrecision),
        tickSize: coinm.tickSize.toFixed(Math.max(coinm.pricePrecision, decimalsOf(coinm.tickSize))),
      },
      { filterType: 'LOT_SIZE', minQty: '1', maxQty: '1000000', stepSize: '1' },
    ],
    orderTypes: ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'],
    timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
  };
}

/** Announces the configured budget (Binance's nominal one when lifted: JSON has no Infinity). */
function rateLimits(market: Market, weightLimit: number): RateLimit[] {
  const limit = Number.isFinite(weightLimit) ? weightLimit : DEFAULT_WEIGHT_LIMITS[market];
  if (market === 'spot') {
    return [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
      { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 200_000 },
      { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 300_000 },
    ];
  }
  return [
    { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit },
    { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
    { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300 },
  ];
}

/** The exchangeInfo body for `symbols` (all listed symbols of the market when undefined). */
export function exchangeInfoJson(
  market: Market,
  data: MarketData,
  symbols: readonly string[] | undefined,
  now: number,
  weightLimit: number,
): string {
  const specs = (symbols ?? data.symbols(market)).map((symbol) => data.spec(market, symbol));
  const base = { timezone: 'UTC', serverTime: now, rateLimits: rateLimits(market, weightLimit), exchangeFilters: [] };
  if (market === 'spot') return JSON.stringify({ ...base, symbols: specs.map(spotSymbol), sors: [] });
  if (market === 'coinm') return JSON.stringify({ ...base, symbols: specs.map(coinmSymbol) });
  const assets = [...new Set(specs.map((s) => s.quoteAsset))].map((asset) => ({
    asset,
    marginAvailable: true,
    autoAssetExchange: '0',
  }));
  return JSON.stringify({ ...base, futuresType: 'U_MARGINED', assets, symbols: specs.map(usdmSymbol) });
}
