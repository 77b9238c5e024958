/**
 * What the exchange simulator (a stand-in for Binance) knows about its markets: the symbols
 * it lists and, per (market, symbol, interval), where candles come from — real CSV files
 * when some exist for that series (then only they: outside the files' range there are no
 * candles), otherwise the deterministic synthetic series. It applies Binance's paging
 * contract (docs/binance.md, paging) in one place for both sources. Independent of HTTP,
 * so a WebSocket side can serve the same candles and trades from the same object.
 */
import type { Interval } from '@streamforge/core/contracts';
import type { AggTrade, FundingRate, KlineRow, Market, MetricsRow } from '@streamforge/core/contracts';
import {
  FuturesPrices,
  SyntheticFunding,
  SyntheticMetrics,
  SyntheticPriceKlines,
  type PriceSeries,
} from './futures-series.ts';
import { findKlineCsvFiles, loadKlineCsv, type CsvKlines, type KlineCsvFile } from './csv-klines.ts';
import { coinmSymbolOf, decimalsOf, DEFAULT_SYMBOLS, deriveSymbolSpec, type SymbolSpec } from './symbols.ts';
import { PricePath, SyntheticAggTrades, SyntheticKlines } from './synthetic.ts';

export interface MarketDataOptions {
  /** Symbols listed (names, looked up in the default table or derived, or full specs); default DEFAULT_SYMBOLS. */
  symbols?: readonly (string | SymbolSpec)[];
  /** Folder of data.binance.vision kline CSV files (searched recursively). */
  klinesDir?: string;
  /** What "now" is, in ms. */
  clock?: () => number;
}

/** Binance's paging contract: no times → most recent; startTime → oldest from it; endTime → most recent up to it; both → from start, not beyond end. */
export interface PageQuery {
  startTime?: number;
  endTime?: number;
  limit: number;
}

export interface AggTradeQuery extends PageQuery {
  fromId?: number;
}

export type KlineSource = 'csv' | 'synthetic';

function seriesKey(market: Market, symbol: string, interval: Interval): string {
  return `${market}:${symbol}:${interval}`;
}

export class MarketData {
  readonly clock: () => number;
  readonly #specs = new Map<string, SymbolSpec>();
  readonly #listed: Record<Market, Set<string>> = { spot: new Set(), usdm: new Set(), coinm: new Set() };
  /** COIN-M contracts (`BTCUSD_PERP`) by name: the spec as COIN-M lists it, and the spot symbol whose price it follows. */
  readonly #coinm = new Map<string, { spec: SymbolSpec; underlying: string }>();
  readonly #csvFiles = new Map<string, string[]>();
  readonly #csv = new Map<string, Promise<CsvKlines>>();
  readonly #synthetic = new Map<string, SyntheticKlines>();
  readonly #trades = new Map<string, SyntheticAggTrades>();
  readonly #paths = new Map<string, PricePath>();
  /** The futures series (price candles, funding, metrics) by market, symbol and series. */
  readonly #futures = new Map<string, SyntheticPriceKlines | SyntheticFunding | SyntheticMetrics>();

  private constructor(options: MarketDataOptions, csvFiles: readonly KlineCsvFile[]) {
    this.clock = options.clock ?? Date.now;
    for (const entry of options.symbols ?? DEFAULT_SYMBOLS) {
      const spec =
        typeof entry === 'string'
          ? (DEFAULT_SYMBOLS.find((s) => s.symbol === entry) ?? deriveSymbolSpec(entry))
          : entry;
      this.#specs.set(spec.symbol, spec);
      this.#listed.spot.add(spec.symbol);
      if (spec.usdm !== false) this.#listed.usdm.add(spec.symbol);
      if (spec.coinm !== undefined) {
        const contract = coinmSymbolOf(spec);
        this.#listed.coinm.add(contract);
        this.#coinm.set(contract, {
          spec: { ...spec, symbol: contract, quoteAsset: 'USD' },
          underlying: spec.symbol,
        });
      }
    }
    for (const file of csvFiles) {
      const markets: readonly Market[] = file.market === 'any' ? ['spot', 'usdm'] : [file.market];
      for (const market of markets) {
        if (market === 'usdm' && file.interval === '1s') continue; // USD-M has no 1s klines
        this.#listed[market].add(file.symbol);
        const key = seriesKey(market, file.symbol, file.interval);
        this.#csvFiles.set(key, [...(this.#csvFiles.get(key) ?? []), file.path]);
      }
    }
  }

  /** Indexes the CSV folder (files are read on first use of their series). */
  static async create(options: MarketDataOptions = {}): Promise<MarketData> {
    const files =
      options.klinesDir === undefined || options.klinesDir === '' ? [] : await findKlineCsvFiles(options.klinesDir);
    return new MarketData(options, files);
  }

  isListed(market: Market, symbol: string): boolean {
    return this.#listed[market].has(symbol);
  }

  /** The symbols a market lists, sorted. */
  symbols(market: Market): string[] {
    return [...this.#listed[market]].sort();
  }

  /** The spec of a listed symbol (derived for symbols known only from CSV files). */
  spec(market: Market, symbol: string): SymbolSpec {
    if (market === 'coinm') {
      const contract = this.#coinm.get(symbol);
      if (contract !== undefined) return contract.spec;
      const derived = deriveSymbolSpec(symbol);
      return {
        ...derived,
        coinm: { tickSize: derived.tickSize, pricePrecision: decimalsOf(derived.tickSize), contractSize: 10 },
      };
    }
    const known = this.#specs.get(symbol);
    if (known !== undefined && (market === 'spot' || known.usdm !== false)) return known;
    const derived = deriveSymbolSpec(symbol);
    return known === undefined ? derived : { ...known, usdm: derived.usdm };
  }

  source(market: Market, symbol: string, interval: Interval): KlineSource {
    return this.#csvFiles.has(seriesKey(market, symbol, interval)) ? 'csv' : 'synthetic';
  }

  /** The response body of a klines request: a JSON array of 12-element rows. */
  async klinesJson(
    market: Market,
    symbol: string,
    interval: Interval,
    query: PageQuery,
    now = this.clock(),
  ): Promise<string> {
    const hi = Math.min(query.endTime ?? now, now); // never a candle that opens in the future
    const lo = query.startTime ?? Number.NEGATIVE_INFINITY;
    if (lo > hi) return '[]';
    const fromEnd = query.startTime === undefined;
    const key = seriesKey(market, symbol, interval);
    const files = this.#csvFiles.get(key);
    let rows: string[];
    if (files === undefined) {
      rows = this.#syntheticSeries(market, symbol, interval).page(lo, hi, query.limit, fromEnd, now);
    } else {
      let series = this.#csv.get(key);
      if (series === undefined) {
        series = loadKlineCsv(files);
        this.#csv.set(key, series);
        series.catch(() => this.#csv.delete(key)); // a broken file is reported, and read again next time
      }
      rows = (await series).page(lo, hi, query.limit, fromEnd);
    }
    return `[${rows.join(',')}]`;
  }

  async klines(
    market: Market,
    symbol: string,
    interval: Interval,
    query: PageQuery,
    now = this.clock(),
  ): Promise<KlineRow[]> {
    return JSON.parse(await this.klinesJson(market, symbol, interval, query, now)) as KlineRow[];
  }

  /** Aggregate trades by the paging contract, or from `fromId` on. */
  aggTrades(market: Market, symbol: string, query: AggTradeQuery, now = this.clock()): AggTrade[] {
    const series = this.#tradeSeries(market, symbol);
    const newest = series.lastAtOrBefore(now);
    if (query.fromId !== undefined) return series.range(query.fromId, newest, query.limit, false);
    const from = query.startTime === undefined ? 0 : series.firstAtOrAfter(query.startTime);
    const to = query.endTime === undefined ? newest : Math.min(newest, series.lastAtOrBefore(query.endTime));
    return series.range(from, to, query.limit, query.startTime === undefined);
  }

  /**
   * A futures price series (mark price, index price, premium index) by the paging contract of
   * klines. Always from the synthetic price path, also for a symbol whose candles come from CSV files.
   */
  priceKlinesJson(
    market: Market,
    series: PriceSeries,
    symbol: string,
    interval: Interval,
    query: PageQuery,
    now = this.clock(),
  ): string {
    const hi = Math.min(query.endTime ?? now, now);
    const lo = query.startTime ?? Number.NEGATIVE_INFINITY;
    if (lo > hi) return '[]';
    const key = `${market}:${symbol}:${series}:${interval}`;
    let synthetic = this.#futures.get(key) as SyntheticPriceKlines | undefined;
    if (synthetic === undefined) {
      synthetic = new SyntheticPriceKlines(
        market,
        this.spec(market, symbol),
        series,
        interval,
        this.#prices(market, symbol),
      );
      this.#futures.set(key, synthetic);
    }
    return `[${synthetic.page(lo, hi, query.limit, query.startTime === undefined, now).join(',')}]`;
  }

  priceKlines(
    market: Market,
    series: PriceSeries,
    symbol: string,
    interval: Interval,
    query: PageQuery,
    now = this.clock(),
  ): KlineRow[] {
    return JSON.parse(this.priceKlinesJson(market, series, symbol, interval, query, now)) as KlineRow[];
  }

  /** Funding settlements by fundingRate's contract: from startTime ascending, or the latest `limit` without it. */
  fundingRates(market: Market, symbol: string, query: PageQuery, now = this.clock()): FundingRate[] {
    const hi = Math.min(query.endTime ?? now, now);
    const lo = query.startTime ?? Number.NEGATIVE_INFINITY;
    if (lo > hi) return [];
    const key = `${market}:${symbol}:funding`;
    let funding = this.#futures.get(key) as SyntheticFunding | undefined;
    if (funding === undefined) {
      funding = new SyntheticFunding(market, this.spec(market, symbol), this.#prices(market, symbol));
      this.#futures.set(key, funding);
    }
    return funding.page(lo, hi, query.limit, query.startTime === undefined);
  }

  /** Metrics rows created in [startTime, endTime] (not after now). */
  metrics(market: Market, symbol: string, startTime: number, endTime: number, now = this.clock()): MetricsRow[] {
    const key = `${market}:${symbol}:metrics`;
    let metrics = this.#futures.get(key) as SyntheticMetrics | undefined;
    if (metrics === undefined) {
      metrics = new SyntheticMetrics(market, this.spec(market, symbol), this.#prices(market, symbol));
      this.#futures.set(key, metrics);
    }
    return metrics.rows(startTime, Math.min(endTime, now));
  }

  #prices(market: Market, symbol: string): FuturesPrices {
    return new FuturesPrices(this.#pathOf(market, symbol));
  }

  /** The synthetic price of a symbol at any time (the same path every synthetic series follows). */
  pricePath(symbol: string): PricePath {
    let path = this.#paths.get(symbol);
    if (path === undefined) {
      path = new PricePath(symbol, this.spec('spot', symbol).price);
      this.#paths.set(symbol, path);
    }
    return path;
  }

  /** A COIN-M contract trades its base coin's spot price path (BTCUSD_PERP follows BTCUSDT). */
  #pathOf(market: Market, symbol: string): PricePath {
    return this.pricePath(market === 'coinm' ? (this.#coinm.get(symbol)?.underlying ?? symbol) : symbol);
  }

  #syntheticSeries(market: Market, symbol: string, interval: Interval): SyntheticKlines {
    const key = seriesKey(market, symbol, interval);
    let series = this.#synthetic.get(key);
    if (series === undefined) {
      series = new SyntheticKlines(market, this.spec(market, symbol), interval, this.#pathOf(market, symbol));
      this.#synthetic.set(key, series);
    }
    return series;
  }

  #tradeSeries(market: Market, symbol: string): SyntheticAggTrades {
    const key = `${market}:${symbol}`;
    let series = this.#trades.get(key);
    if (series === undefined) {
      series = new SyntheticAggTrades(market, this.spec(market, symbol), this.#pathOf(market, symbol));
      this.#trades.set(key, series);
    }
    return series;
  }
}
