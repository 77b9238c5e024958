/**
 * The futures-only series of the exchange simulator, derived from a symbol's price path
 * (synthetic.ts), deterministic and O(1) per row like the trade candles:
 *
 * - index price: the path smoothed over the last minute (the mean of four samples 15 s apart),
 *   as an index of several spot venues would lag the traded price;
 * - mark price: the traded price itself (Binance's mark follows the last price closely);
 * - premium index: (mark − index) / index;
 * - funding rate: settled every 8 hours (00:00, 08:00, 16:00 UTC), 0.01 % plus the mean premium
 *   of the 8 hours before, clamped to ±0.3 %; the mark price at the settlement comes with it;
 * - metrics: a row every 5 minutes with an open interest that drifts with the price and
 *   long/short ratios around 1.
 *
 * A candle's high and low are the extremes of ten samples across it (open, close and eight
 * between), so they bound open and close; candles carry no volumes ("0"), as on Binance.
 */
import {
  METRICS_ARCHIVES_FROM,
  PAGE_KIND_NAMES,
  PRICE_KLINE_KINDS,
  candleOpenTime,
  nextOpenTime,
  type Interval,
  type PriceKlineKind,
} from '@streamforge/core/contracts';
import type { FundingRate, KlineRow, Market, MetricsRow } from '@streamforge/core/contracts';
import { hashString, unit } from './random.ts';
import { listedAt, type SymbolSpec } from './symbols.ts';
import { candlePage, type PricePath } from './synthetic.ts';

/** The price series' REST endpoints (their archive types too), as PAGE_KIND_NAMES names them. */
export type PriceSeries = (typeof PAGE_KIND_NAMES)[PriceKlineKind]['endpoint'];
export const PRICE_SERIES: readonly PriceSeries[] = PRICE_KLINE_KINDS.map((kind) => PAGE_KIND_NAMES[kind].endpoint);

const HOUR_MS = 3_600_000;
export const FUNDING_INTERVAL_MS = 8 * HOUR_MS;
export const METRICS_STEP_MS = 300_000;

/** The three prices of a futures contract at any millisecond. */
export class FuturesPrices {
  readonly #path: PricePath;

  constructor(path: PricePath) {
    this.#path = path;
  }

  mark(t: number): number {
    return this.#path.at(t);
  }

  index(t: number): number {
    return (this.#path.at(t) + this.#path.at(t - 15_000) + this.#path.at(t - 30_000) + this.#path.at(t - 45_000)) / 4;
  }

  premium(t: number): number {
    const index = this.index(t);
    return (this.mark(t) - index) / index;
  }

  /** Exhaustive, so a price series added to PAGE_KIND_NAMES fails the typecheck here rather than serve premiums. */
  of(series: PriceSeries, t: number): number {
    switch (series) {
      case 'markPriceKlines':
        return this.mark(t);
      case 'indexPriceKlines':
        return this.index(t);
      case 'premiumIndexKlines':
        return this.premium(t);
    }
  }
}

const price = (v: number): string => v.toFixed(8);

/** A JSON kline row of a price series (numbers where Binance prints numbers). */
function rowJson(row: KlineRow): string {
  return `[${row[0]},"${row[1]}","${row[2]}","${row[3]}","${row[4]}","${row[5]}",${row[6]},"${row[7]}",${row[8]},"${row[9]}","${row[10]}","${row[11]}"]`;
}

export class SyntheticPriceKlines {
  readonly #series: PriceSeries;
  readonly #interval: Interval;
  readonly #prices: FuturesPrices;
  readonly #firstOpen: number;

  constructor(market: Market, spec: SymbolSpec, series: PriceSeries, interval: Interval, prices: FuturesPrices) {
    this.#series = series;
    this.#interval = interval;
    this.#prices = prices;
    this.#firstOpen = candleOpenTime(interval, listedAt(spec, market));
  }

  /** The candle opening at `openTime` as of `now` (partial while still open). */
  candle(openTime: number, now: number): KlineRow {
    const next = nextOpenTime(this.#interval, openTime);
    const end = Math.min(next, now);
    const samples: number[] = [];
    for (let i = 0; i <= 9; i++) samples.push(this.#prices.of(this.#series, openTime + ((end - openTime) * i) / 9));
    const basic = Math.max(1, Math.floor((end - openTime) / 1000));
    return [
      openTime,
      price(samples[0]!),
      price(Math.max(...samples)),
      price(Math.min(...samples)),
      price(samples[9]!),
      '0',
      next - 1,
      '0',
      basic,
      '0',
      '0',
      '0',
    ];
  }

  /** JSON of the candles with open time in [lo, hi] (hi ≤ now), at most `limit`: the first ones, or the last ones when `fromEnd`. */
  page(lo: number, hi: number, limit: number, fromEnd: boolean, now: number): string[] {
    const open = { interval: this.#interval, firstOpen: this.#firstOpen };
    return candlePage(open, lo, hi, limit, fromEnd, now, (t) => rowJson(this.candle(t, now)));
  }
}

/** Funding settlements every 8 hours from the contract's listing. */
export class SyntheticFunding {
  readonly #symbol: string;
  readonly #prices: FuturesPrices;
  readonly #first: number;

  constructor(market: Market, spec: SymbolSpec, prices: FuturesPrices) {
    this.#symbol = spec.symbol;
    this.#prices = prices;
    this.#first = Math.ceil(listedAt(spec, market) / FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS;
  }

  rate(t: number): FundingRate {
    let premium = 0;
    for (let h = 1; h <= 8; h++) premium += this.#prices.premium(t - h * HOUR_MS) / 8;
    const rate = Math.max(-0.003, Math.min(0.003, 0.0001 + premium));
    return {
      symbol: this.#symbol,
      fundingTime: t,
      fundingRate: rate.toFixed(8),
      markPrice: price(this.#prices.mark(t)),
    };
  }

  /** Settlements in [lo, hi] (hi ≤ now), at most `limit`: the first ones, or the last ones when `fromEnd`. */
  page(lo: number, hi: number, limit: number, fromEnd: boolean): FundingRate[] {
    let start = Math.max(this.#first, Math.ceil(lo / FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS);
    const last = Math.floor(hi / FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS;
    if (start > last || limit <= 0) return [];
    if (fromEnd) start = Math.max(start, last - (limit - 1) * FUNDING_INTERVAL_MS);
    const rates: FundingRate[] = [];
    for (let t = start; t <= last && rates.length < limit; t += FUNDING_INTERVAL_MS) rates.push(this.rate(t));
    return rates;
  }
}

/** When a contract's metrics start: at its listing, but not before Binance's metrics archives do. */
export function metricsFrom(spec: SymbolSpec, market: Market): number {
  return Math.max(listedAt(spec, market), METRICS_ARCHIVES_FROM);
}

/** USD-M metrics every 5 minutes from the contract's listing, or the first archived day if later. */
export class SyntheticMetrics {
  readonly #prices: FuturesPrices;
  readonly #seed: number;
  readonly #first: number;
  readonly #baseInterest: number;

  constructor(market: Market, spec: SymbolSpec, prices: FuturesPrices) {
    this.#prices = prices;
    this.#seed = hashString(`metrics:${market}:${spec.symbol}`);
    this.#first = Math.ceil(metricsFrom(spec, market) / METRICS_STEP_MS) * METRICS_STEP_MS;
    this.#baseInterest = spec.dailyVolume / 4;
  }

  row(t: number): MetricsRow {
    const u = (j: number): number => unit(this.#seed, t / METRICS_STEP_MS, j);
    const mark = this.#prices.mark(t);
    const interest = this.#baseInterest * (0.9 + 0.2 * u(1));
    const ratio = (j: number): string => (0.7 + 0.6 * u(j)).toFixed(8);
    return {
      create_time: t,
      sum_open_interest: interest.toFixed(8),
      sum_open_interest_value: (interest * mark).toFixed(8),
      count_toptrader_long_short_ratio: ratio(2),
      sum_toptrader_long_short_ratio: ratio(3),
      count_long_short_ratio: ratio(4),
      sum_taker_long_short_vol_ratio: ratio(5),
    };
  }

  /** Rows created in [lo, hi] (hi ≤ now). */
  rows(lo: number, hi: number): MetricsRow[] {
    const rows: MetricsRow[] = [];
    const start = Math.max(this.#first, Math.ceil(lo / METRICS_STEP_MS) * METRICS_STEP_MS);
    for (let t = start; t <= hi; t += METRICS_STEP_MS) rows.push(this.row(t));
    return rows;
  }
}

/** `2024-01-01 00:05:00`: how the metrics archive writes a time (UTC). */
export function metricsTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
