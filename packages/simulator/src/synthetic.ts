/**
 * Deterministic synthetic market data for the exchange simulator (a stand-in for Binance).
 *
 * The price is a pure function of time: the exponential of a sum of value-noise octaves
 * (lattice spacing 1 s, 4 s, 16 s … ~2 years, amplitude ∝ √spacing, so returns scale like a
 * random walk's, ~3 % a day). Any candle is computed from its open time alone — O(1), a
 * year of 1m candles costs what a page costs — and the same request always returns the same
 * rows. The path is seeded by the symbol, so a 1h candle opens where the 1m candle of the
 * same instant opens; high/low/volume/trades are seeded by market + symbol + interval.
 * A closed candle closes at the next candle's open; the still-open current candle grows
 * with the clock, as on Binance.
 */
import { candleOpenTime, nextOpenTime, type Interval } from '@streamforge/core/contracts';
import type { AggTrade, KlineRow, Market } from '@streamforge/core/contracts';
import { hashString, unit } from './random.ts';
import { decimalsOf, listedAt, type SymbolSpec } from './symbols.ts';

const DAY_MS = 86_400_000;
const DAILY_SIGMA = 0.03;
/** Spacing (s) and amplitude of each octave; 1.1 calibrates the sum to ~3 % a day. */
const OCTAVES = Array.from({ length: 14 }, (_, k) => {
  const spacing = 4 ** k;
  return { spacing, amplitude: 1.1 * DAILY_SIGMA * Math.sqrt(spacing / 86_400) };
});

/** The synthetic price of a symbol at any millisecond. */
export class PricePath {
  readonly #seed: number;
  readonly #base: number;
  // The knots of each octave last used: consecutive times share them in every octave coarser
  // than their distance, so a page of candles hashes a few knots instead of 28 per price.
  readonly #knot = new Float64Array(OCTAVES.length).fill(Number.NaN);
  readonly #left = new Float64Array(OCTAVES.length);
  readonly #right = new Float64Array(OCTAVES.length);

  constructor(symbol: string, base: number) {
    this.#seed = hashString(`price:${symbol}`);
    this.#base = base;
  }

  at(timeMs: number): number {
    const seconds = timeMs / 1000;
    let log = 0;
    for (let k = 0; k < OCTAVES.length; k++) {
      const { spacing, amplitude } = OCTAVES[k]!;
      const u = seconds / spacing;
      const i = Math.floor(u);
      if (this.#knot[k] !== i) {
        this.#left[k] = this.#knot[k] === i - 1 ? this.#right[k]! : unit(this.#seed, i, k);
        this.#right[k] = unit(this.#seed, i + 1, k);
        this.#knot[k] = i;
      }
      const a = this.#left[k]!;
      const b = this.#right[k]!;
      log += amplitude * (2 * (a + (b - a) * (u - i)) - 1);
    }
    return this.#base * Math.exp(log);
  }
}

/** How a market prints numbers: spot 8 decimals everywhere, USD-M the contract's precisions, COIN-M contracts. */
export interface NumberFormat {
  tick: number;
  step: number;
  /** COIN-M: USD per contract. Volumes and trade quantities are then counted in contracts, and the kline's quote volumes are in the base coin. */
  contractSize?: number;
  price(value: number): string;
  qty(value: number): string;
  quote(value: number): string;
}

export function numberFormat(spec: SymbolSpec, market: Market): NumberFormat {
  if (market === 'coinm' && spec.coinm !== undefined) {
    const { tickSize, pricePrecision, contractSize } = spec.coinm;
    return {
      tick: tickSize,
      step: spec.stepSize,
      contractSize,
      price: (v) => v.toFixed(Math.max(pricePrecision, decimalsOf(tickSize))),
      qty: (v) => v.toFixed(8),
      quote: (v) => v.toFixed(8),
    };
  }
  if (market === 'spot' || spec.usdm === false) {
    return {
      tick: spec.tickSize,
      step: spec.stepSize,
      price: (v) => v.toFixed(8),
      qty: (v) => v.toFixed(8),
      quote: (v) => v.toFixed(8),
    };
  }
  const { tickSize, pricePrecision, quantityPrecision } = spec.usdm;
  return {
    tick: tickSize,
    step: 10 ** -quantityPrecision,
    price: (v) => v.toFixed(Math.max(pricePrecision, decimalsOf(tickSize))),
    qty: (v) => v.toFixed(quantityPrecision),
    quote: (v) => v.toFixed(5),
  };
}

function roundTo(value: number, step: number): number {
  return Math.round(value / step) * step;
}

/** JSON text of a kline row, as Binance prints it. */
export function klineJson(row: KlineRow): string {
  return `[${row[0]},"${row[1]}","${row[2]}","${row[3]}","${row[4]}","${row[5]}",${row[6]},"${row[7]}",${row[8]},"${row[9]}","${row[10]}","${row[11]}"]`;
}

export class SyntheticKlines {
  readonly #interval: Interval;
  readonly #spec: SymbolSpec;
  readonly #path: PricePath;
  readonly #format: NumberFormat;
  readonly #seed: number;
  readonly #firstOpen: number;

  constructor(market: Market, spec: SymbolSpec, interval: Interval, path: PricePath) {
    this.#interval = interval;
    this.#spec = spec;
    this.#path = path;
    this.#format = numberFormat(spec, market);
    this.#seed = hashString(`kline:${market}:${spec.symbol}:${interval}`);
    this.#firstOpen = candleOpenTime(interval, listedAt(spec, market));
  }

  /** The candle opening at `openTime` as of `now` (partial while still open). */
  candle(openTime: number, now: number): KlineRow {
    const { tick, step } = this.#format;
    const next = nextOpenTime(this.#interval, openTime);
    const length = next - openTime;
    const isOpen = next > now;
    const frac = isOpen ? Math.max(now - openTime + 1, 1) / length : 1;
    const u = (j: number): number => unit(this.#seed, openTime / 1000, j);
    const open = Math.max(tick, roundTo(this.#path.at(openTime), tick));
    const close = Math.max(tick, roundTo(this.#path.at(isOpen ? now : next), tick));
    const trades = Math.floor(((length * frac) / this.#spec.tradeGapMs) * (0.5 + u(3)));
    let high = Math.max(open, close);
    let low = Math.min(open, close);
    let volume = 0;
    if (trades > 0) {
      const sigma = DAILY_SIGMA * Math.sqrt((length * frac) / DAY_MS);
      high = Math.ceil((high * (1 + 0.6 * sigma * u(1))) / tick - 1e-9) * tick;
      low = Math.max(tick, Math.floor((low * (1 - 0.6 * sigma * u(2))) / tick + 1e-9) * tick);
      volume = Math.max(step, roundTo(((this.#spec.dailyVolume * length) / DAY_MS) * frac * (0.4 + 1.2 * u(4)), step));
    }
    const vwap = (open + high + low + close) / 4;
    const takerShare = 0.35 + 0.3 * u(5);
    const f = this.#format;
    const prices = [f.price(open), f.price(high), f.price(low), f.price(close)] as const;
    if (f.contractSize !== undefined) {
      // COIN-M: volume in whole contracts of contractSize USD; its "quote" volume is the base coin's.
      const contracts = volume > 0 ? Math.max(1, Math.round((volume * vwap) / f.contractSize)) : 0;
      const takerContracts = Math.round(contracts * takerShare);
      const coins = (n: number): string => f.quote((n * f.contractSize!) / vwap);
      return [
        openTime,
        ...prices,
        String(contracts),
        next - 1,
        coins(contracts),
        trades,
        String(takerContracts),
        coins(takerContracts),
        '0',
      ];
    }
    const takerBase = roundTo(volume * takerShare, step);
    return [
      openTime,
      ...prices,
      f.qty(volume),
      next - 1,
      f.quote(volume * vwap),
      trades,
      f.qty(takerBase),
      f.quote(takerBase * vwap),
      '0',
    ];
  }

  /** JSON of the candles with open time in [lo, hi] (hi ≤ now), at most `limit`: the first ones, or the last ones when `fromEnd`. */
  page(lo: number, hi: number, limit: number, fromEnd: boolean, now: number): string[] {
    const open = { interval: this.#interval, firstOpen: this.#firstOpen };
    return candlePage(open, lo, hi, limit, fromEnd, now, (t) => klineJson(this.candle(t, now)));
  }
}

/**
 * Aggregate trades with ids 0, 1, 2 … without gaps from the listing on: trade i happens at
 * listing + ⌊(i + u_i) × gap⌋ (u_i a hash in [0,1)), so times never decrease and the id of
 * any time is found in O(1).
 */
export class SyntheticAggTrades {
  readonly #market: Market;
  readonly #spec: SymbolSpec;
  readonly #path: PricePath;
  readonly #format: NumberFormat;
  readonly #seed: number;
  readonly #start: number;
  readonly #gap: number;
  /** Trades per aggregate trade, between 1 and 2: f = ⌊i × ratio⌋. */
  readonly #ratio: number;

  constructor(market: Market, spec: SymbolSpec, path: PricePath) {
    this.#market = market;
    this.#spec = spec;
    this.#path = path;
    this.#format = numberFormat(spec, market);
    this.#seed = hashString(`aggTrade:${market}:${spec.symbol}`);
    this.#start = listedAt(spec, market);
    this.#gap = spec.tradeGapMs;
    this.#ratio = 1 + (this.#seed % 1000) / 1000;
  }

  time(id: number): number {
    return this.#start + Math.floor((id + unit(this.#seed, id)) * this.#gap);
  }

  /** The first id with time ≥ t. */
  firstAtOrAfter(t: number): number {
    if (t <= this.#start) return 0;
    let id = Math.max(0, Math.floor((t - this.#start) / this.#gap) - 1);
    while (this.time(id) < t) id++;
    while (id > 0 && this.time(id - 1) >= t) id--;
    return id;
  }

  /** The last id with time ≤ t (-1 when none). */
  lastAtOrBefore(t: number): number {
    return this.firstAtOrAfter(t + 1) - 1;
  }

  trade(id: number): AggTrade {
    const f = this.#format;
    const time = this.time(id);
    const u = (j: number): number => unit(this.#seed, id, j);
    const price = Math.max(f.tick, roundTo(this.#path.at(time) * (1 + 0.0002 * (u(1) - 0.5)), f.tick));
    const meanQty = (this.#spec.dailyVolume * this.#gap) / DAY_MS;
    const qty = Math.max(f.step, roundTo(-meanQty * Math.log(1 - u(2)), f.step));
    // COIN-M quantities are whole contracts of contractSize USD.
    const q =
      f.contractSize === undefined ? f.qty(qty) : String(Math.max(1, Math.round((qty * price) / f.contractSize)));
    const trade: AggTrade = {
      a: id,
      p: f.price(price),
      q,
      f: Math.floor(id * this.#ratio),
      l: Math.floor((id + 1) * this.#ratio) - 1,
      T: time,
      m: u(3) < 0.5,
    };
    if (this.#market === 'spot') trade.M = true;
    return trade;
  }

  /** Trades with ids in [from, to], at most `limit`: the first ones, or the last ones when `fromEnd`. */
  range(from: number, to: number, limit: number, fromEnd: boolean): AggTrade[] {
    const lo = Math.max(0, from);
    if (to < lo || limit <= 0) return [];
    const first = fromEnd ? Math.max(lo, to - limit + 1) : lo;
    const last = Math.min(to, first + limit - 1);
    const trades: AggTrade[] = [];
    for (let id = first; id <= last; id++) trades.push(this.trade(id));
    return trades;
  }
}

/**
 * The rows of the candles with open time in [lo, hi] (hi ≤ now) of a series opening at
 * `firstOpen`, at most `limit`: the first ones, or the last ones when `fromEnd` (how the
 * klines endpoints answer without a startTime).
 */
export function candlePage(
  series: { interval: Interval; firstOpen: number },
  lo: number,
  hi: number,
  limit: number,
  fromEnd: boolean,
  now: number,
  row: (openTime: number) => string,
): string[] {
  const iv = series.interval;
  let start = candleOpenTime(iv, Math.max(lo, series.firstOpen));
  if (start < lo) start = nextOpenTime(iv, start);
  const last = candleOpenTime(iv, Math.min(hi, now));
  if (start > last || limit <= 0) return [];
  if (fromEnd) {
    let t = last;
    for (let n = 1; n < limit && t > start; n++) t = candleOpenTime(iv, t - 1);
    start = t;
  }
  const rows: string[] = [];
  for (let t = start; t <= last && rows.length < limit; t = nextOpenTime(iv, t)) rows.push(row(t));
  return rows;
}
