/**
 * The symbols the exchange simulator lists, with what its synthetic data needs: a typical
 * price, the price tick and quantity step (spot), USD-M precisions, the COIN-M contract (for
 * the symbols that have one), a daily volume, a
 * listing time (no candle before it, as on Binance) and the mean gap between aggregate
 * trades. Values are plausible, not live.
 */
import type { Market } from '@streamforge/core/contracts';
import { hashString } from './random.ts';

export interface UsdmSpec {
  tickSize: number;
  /** Decimals of prices as USD-M prints them (BTCUSDT: tick 0.1 printed with 2 decimals, "19992.70"). */
  pricePrecision: number;
  quantityPrecision: number;
}

/**
 * A COIN-M perpetual on the symbol's base coin (`BTCUSD_PERP` for BTCUSDT): it trades the
 * same price path, and its volume is counted in contracts of `contractSize` USD.
 */
export interface CoinmSpec {
  tickSize: number;
  pricePrecision: number;
  /** USD per contract: 100 for BTC, 10 for the others. */
  contractSize: number;
}

export interface SymbolSpec {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  /** Typical price, the level the synthetic random walk wanders around. */
  price: number;
  tickSize: number;
  stepSize: number;
  /** Listed on USD-M futures with these precisions; `false` when spot only. */
  usdm: UsdmSpec | false;
  /** Base-asset volume of a typical day. */
  dailyVolume: number;
  /** Listed on COIN-M futures as `<base>USD_PERP` with this contract; absent when not. */
  coinm?: CoinmSpec;
  /** Spot listing time (ms); USD-M lists no earlier than its launch (2019-09-08), COIN-M than its own (2020-08-10). */
  listedAt: number;
  /** Mean milliseconds between aggregate trades. */
  tradeGapMs: number;
}

const USDM_LAUNCH = Date.UTC(2019, 8, 8, 17, 0);
const COINM_LAUNCH = Date.UTC(2020, 7, 10, 8, 0);

function spec(
  symbol: string,
  baseAsset: string,
  price: number,
  tickSize: number,
  stepSize: number,
  usdm: UsdmSpec | false,
  dailyVolume: number,
  listedAt: number,
  tradeGapMs: number,
): SymbolSpec {
  return { symbol, baseAsset, quoteAsset: 'USDT', price, tickSize, stepSize, usdm, dailyVolume, listedAt, tradeGapMs };
}

/** The default listing: large USDT pairs, with listing dates close to Binance's; BTC and ETH also on COIN-M. */
export const DEFAULT_SYMBOLS: readonly SymbolSpec[] = [
  {
    ...spec(
      'BTCUSDT',
      'BTC',
      60_000,
      0.01,
      0.00001,
      { tickSize: 0.1, pricePrecision: 2, quantityPrecision: 3 },
      25_000,
      Date.UTC(2017, 7, 17, 4),
      50,
    ),
    coinm: { tickSize: 0.1, pricePrecision: 1, contractSize: 100 },
  },
  {
    ...spec(
      'ETHUSDT',
      'ETH',
      3_000,
      0.01,
      0.0001,
      { tickSize: 0.01, pricePrecision: 2, quantityPrecision: 3 },
      400_000,
      Date.UTC(2017, 7, 17, 4),
      80,
    ),
    coinm: { tickSize: 0.01, pricePrecision: 2, contractSize: 10 },
  },
  spec(
    'BNBUSDT',
    'BNB',
    600,
    0.01,
    0.001,
    { tickSize: 0.01, pricePrecision: 3, quantityPrecision: 2 },
    300_000,
    Date.UTC(2017, 10, 6, 3),
    200,
  ),
  spec(
    'SOLUSDT',
    'SOL',
    150,
    0.01,
    0.001,
    { tickSize: 0.01, pricePrecision: 2, quantityPrecision: 0 },
    3_000_000,
    Date.UTC(2020, 7, 11, 6),
    100,
  ),
  spec(
    'XRPUSDT',
    'XRP',
    0.6,
    0.0001,
    1,
    { tickSize: 0.0001, pricePrecision: 4, quantityPrecision: 1 },
    800_000_000,
    Date.UTC(2018, 4, 4, 8),
    150,
  ),
  spec(
    'ADAUSDT',
    'ADA',
    0.45,
    0.0001,
    0.1,
    { tickSize: 0.0001, pricePrecision: 4, quantityPrecision: 0 },
    500_000_000,
    Date.UTC(2018, 3, 17, 4),
    200,
  ),
  spec(
    'DOGEUSDT',
    'DOGE',
    0.15,
    0.00001,
    1,
    { tickSize: 0.00001, pricePrecision: 5, quantityPrecision: 0 },
    2_000_000_000,
    Date.UTC(2019, 6, 5, 12),
    150,
  ),
  spec(
    'LTCUSDT',
    'LTC',
    80,
    0.01,
    0.001,
    { tickSize: 0.01, pricePrecision: 2, quantityPrecision: 3 },
    500_000,
    Date.UTC(2017, 11, 13, 3),
    300,
  ),
  spec(
    'TRXUSDT',
    'TRX',
    0.12,
    0.0001,
    0.1,
    { tickSize: 0.00001, pricePrecision: 5, quantityPrecision: 0 },
    1_000_000_000,
    Date.UTC(2018, 5, 11, 11),
    300,
  ),
  spec(
    'DOTUSDT',
    'DOT',
    7,
    0.001,
    0.01,
    { tickSize: 0.001, pricePrecision: 3, quantityPrecision: 1 },
    5_000_000,
    Date.UTC(2020, 7, 18, 23),
    300,
  ),
  spec(
    'LINKUSDT',
    'LINK',
    15,
    0.01,
    0.01,
    { tickSize: 0.001, pricePrecision: 3, quantityPrecision: 2 },
    3_000_000,
    Date.UTC(2019, 0, 16, 10),
    300,
  ),
];

const QUOTES = ['USDT', 'USDC', 'FDUSD', 'BUSD', 'TUSD', 'BTC', 'ETH', 'BNB', 'EUR', 'TRY'] as const;

/** Decimals of a power-of-ten step: 0.01 → 2, 1 → 0. */
export function decimalsOf(step: number): number {
  return Math.max(0, Math.round(-Math.log10(step)));
}

/** A plausible spec for a symbol not in the table (configured by name, or found in CSV files). */
export function deriveSymbolSpec(symbol: string): SymbolSpec {
  const quoteAsset = QUOTES.find((q) => symbol.endsWith(q) && symbol.length > q.length) ?? 'USDT';
  const baseAsset = symbol.endsWith(quoteAsset) ? symbol.slice(0, symbol.length - quoteAsset.length) : symbol;
  const h = hashString(symbol) / 4294967296;
  const price = 10 ** (h * 5 - 2); // 0.01 … 1000
  const magnitude = Math.floor(Math.log10(price));
  const tickSize = 10 ** Math.max(-8, magnitude - 5);
  const stepSize = 10 ** Math.min(0, Math.max(-8, -(magnitude + 2)));
  const usdm: UsdmSpec = {
    tickSize,
    pricePrecision: decimalsOf(tickSize),
    quantityPrecision: Math.max(0, decimalsOf(stepSize) - 2),
  };
  return {
    symbol,
    baseAsset,
    quoteAsset,
    price,
    tickSize,
    stepSize,
    usdm,
    dailyVolume: 1e7 / price,
    listedAt: Date.UTC(2020, 0, 1),
    tradeGapMs: 500,
  };
}

/** When a symbol's series starts on a market. */
export function listedAt(spec: SymbolSpec, market: Market): number {
  if (market === 'spot') return spec.listedAt;
  return Math.max(spec.listedAt, market === 'usdm' ? USDM_LAUNCH : COINM_LAUNCH);
}

/** The COIN-M perpetual of a spec with a COIN-M contract: `BTCUSD_PERP`. */
export function coinmSymbolOf(spec: Pick<SymbolSpec, 'baseAsset'>): string {
  return `${spec.baseAsset}USD_PERP`;
}
