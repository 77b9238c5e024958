/**
 * Binance REST market-data client (spot `/api/v3`, USD-M futures `/fapi/v1`, COIN-M futures `/dapi/v1`) on an undici
 * keep-alive Agent (rest-transport.ts). Every request goes through the market's
 * WeightGovernor, so instances sharing one IP stay inside the exchange's weight budget;
 * transient failures (5xx, network, timeouts) are retried with exponential backoff and
 * jitter, permanent rejections are not.
 * Returns Binance's payloads unchanged (kline rows keep their string/number types), so a
 * backfill can be compared with the exchange byte for byte.
 */
import { declareEnv, env } from '@streamforge/core/config';
import type { Interval } from '@streamforge/core/contracts';
import type { Logger } from '@streamforge/core/telemetry';
import {
  AGG_TRADE_LIMITS,
  DEFAULT_WEIGHT_LIMITS,
  DEPTH_LIMITS,
  FUNDING_RATE_LIMITS,
  FUNDING_RATE_REQUESTS,
  HISTORICAL_TRADE_LIMITS,
  KLINE_LIMITS,
  MARKETS,
  requestWeightLimit,
  type AggTrade,
  type PAGE_KIND_NAMES,
  type PriceKlineKind,
  type DepthSnapshot,
  type ExchangeInfo,
  type FundingRate,
  type RawTrade,
  type KlineRow,
  type Market,
} from '@streamforge/core/contracts';
import { RequestBudget, type RequestBudgetStats } from './request-budget.ts';
import { RestTransport } from './rest-transport.ts';
import { systemTime, type TimeSource } from './time-source.ts';
import { WeightGovernor, type WeightGovernorOptions, type WeightGovernorStats } from './weight-governor.ts';

declareEnv({
  BINANCE_SPOT_URL: {
    default: 'https://api.binance.com',
    description: 'Base URL of the Binance spot REST API (the exchange simulator in tests and demos).',
  },
  BINANCE_USDM_URL: {
    default: 'https://fapi.binance.com',
    description: 'Base URL of the Binance USD-M futures REST API (the exchange simulator in tests and demos).',
  },
  BINANCE_COINM_URL: {
    default: 'https://dapi.binance.com',
    description: 'Base URL of the Binance COIN-M futures REST API (the exchange simulator in tests and demos).',
  },
  BINANCE_REQUEST_WEIGHT_LIMIT: {
    default: '',
    description:
      "REQUEST_WEIGHT per minute the client plans with; empty: Binance's 6000 spot / 2400 USD-M and COIN-M (then what exchangeInfo announces). The local platform sets it when the simulator's budget is changed (SIM_WEIGHT_LIMIT).",
  },
});

export interface BinanceRestClientOptions {
  /** Base URLs; default BINANCE_SPOT_URL / BINANCE_USDM_URL / BINANCE_COINM_URL, i.e. the real exchange. */
  baseUrls?: Partial<Record<Market, string>>;
  /** The clock windows, Retry-After and backoff are measured on. */
  time?: TimeSource;
  /** REQUEST_WEIGHT per minute to plan with; default 6000 spot, 2400 futures (updated from exchangeInfo and -1003 messages). */
  weightLimits?: Partial<Record<Market, number>>;
  /** Governor tuning (safety fraction, jitter, maxWaitMs …). */
  governor?: Omit<WeightGovernorOptions, 'limit' | 'time'>;
  /** Attempts for transient failures (5xx, network, timeouts), the first included. Default 5. */
  maxAttempts?: number;
  /** 429/418 answers tolerated for one call before it fails with SF_RATE_LIMITED. Default 10. */
  maxRateLimitRetries?: number;
  /** Exponential backoff between transient retries: base doubles per attempt up to max, times a random 50–100 %. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Headers and body timeout per request; Binance itself gives up after 10 s. Default 10 s. */
  timeoutMs?: number;
  /** Keep-alive connections per origin. Default 32 (above loader-api's 20 pages in flight). */
  connections?: number;
  logger?: Logger;
  random?: () => number;
  /** Where BINANCE_*_URL are read from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface KlinesQuery {
  market?: Market;
  symbol: string;
  interval: Interval;
  startTime?: number;
  endTime?: number;
  /** Default: the exchange's (500). */
  limit?: number;
  timeZone?: string;
}

/** Which price series a futures price-klines request reads: the endpoints the page kinds name. */
export type PriceKlineSeries = (typeof PAGE_KIND_NAMES)[PriceKlineKind]['endpoint'];

export interface FundingRateQuery {
  market?: Market;
  symbol: string;
  /** Both inclusive. */
  startTime?: number;
  endTime?: number;
  /** Default: the exchange's (100); at most 1000. */
  limit?: number;
  /** Drops the request while it waits for fundingRate's budget (not once sent). */
  signal?: AbortSignal;
}

export interface AggTradesQuery {
  market?: Market;
  symbol: string;
  fromId?: number;
  startTime?: number;
  endTime?: number;
  limit?: number;
}

export interface ExchangeInfoQuery {
  market?: Market;
  symbol?: string;
  symbols?: readonly string[];
}

export interface ExchangeClientStats {
  /** HTTP requests sent, retries included. */
  requests: number;
  /** Retries after transient failures. */
  retries: number;
  /** 429 and 418 answers received. */
  rateLimited: number;
  banned: number;
  /** Last `X-MBX-USED-WEIGHT-1M` seen per market. */
  usedWeight: Record<Market, number | undefined>;
  /** Requests that waited for the weight budget, and how long in total. */
  weightWaits: number;
  weightWaitedMs: number;
  governors: Record<Market, WeightGovernorStats>;
}

export class BinanceRestClient {
  readonly #time: TimeSource;
  readonly #governors: Record<Market, WeightGovernor>;
  /** Markets whose budget was planned (BINANCE_REQUEST_WEIGHT_LIMIT, `weightLimits`): exchangeInfo does not replace it. */
  readonly #planned: Set<Market>;
  readonly #transport: RestTransport;
  /** fundingRate's own 500 requests / 5 min per IP (FUNDING_RATE_REQUESTS), one request at a time. */
  readonly #fundingBudget: RequestBudget;

  constructor(options: BinanceRestClientOptions = {}) {
    const source = options.env ?? process.env;
    const time = options.time ?? systemTime;
    const random = options.random ?? Math.random;
    const configured = env('BINANCE_REQUEST_WEIGHT_LIMIT', source);
    const planned = configured === '' ? undefined : Number(configured);
    const governor = (market: Market): WeightGovernor =>
      new WeightGovernor({
        random,
        ...options.governor,
        time,
        limit: options.weightLimits?.[market] ?? planned ?? DEFAULT_WEIGHT_LIMITS[market],
      });
    this.#time = time;
    this.#fundingBudget = new RequestBudget({ ...FUNDING_RATE_REQUESTS, time });
    this.#governors = { spot: governor('spot'), usdm: governor('usdm'), coinm: governor('coinm') };
    this.#planned = new Set(MARKETS.filter((market) => (options.weightLimits?.[market] ?? planned) !== undefined));
    this.#transport = new RestTransport({
      baseUrls: {
        spot: (options.baseUrls?.spot ?? env('BINANCE_SPOT_URL', source)).replace(/\/+$/, ''),
        usdm: (options.baseUrls?.usdm ?? env('BINANCE_USDM_URL', source)).replace(/\/+$/, ''),
        coinm: (options.baseUrls?.coinm ?? env('BINANCE_COINM_URL', source)).replace(/\/+$/, ''),
      },
      time,
      governors: this.#governors,
      maxAttempts: Math.max(1, options.maxAttempts ?? 5),
      maxRateLimitRetries: options.maxRateLimitRetries ?? 10,
      backoffBaseMs: options.backoff?.baseMs ?? 250,
      backoffMaxMs: options.backoff?.maxMs ?? 10_000,
      timeoutMs: options.timeoutMs ?? 10_000,
      connections: options.connections ?? 32,
      random,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  }

  /** Klines as Binance sends them, one page (paging as in docs/binance.md). */
  async klines(query: KlinesQuery): Promise<KlineRow[]> {
    const market = query.market ?? 'spot';
    const { symbol, interval, startTime, endTime, limit, timeZone } = query;
    return await this.#transport.getArray<KlineRow>(
      market,
      'klines',
      { symbol, interval, startTime, endTime, limit, timeZone },
      limit,
    );
  }

  /** One page of klines as the exchange's JSON text, unparsed (a JSON array of kline rows). */
  async klinesText(query: KlinesQuery): Promise<string> {
    const market = query.market ?? 'spot';
    const { symbol, interval, startTime, endTime, limit, timeZone } = query;
    return await this.#transport.getRowsText(
      market,
      'klines',
      { symbol, interval, startTime, endTime, limit, timeZone },
      limit,
    );
  }

  /**
   * Every kline with open time in [startTime, endTime], page by page (each page at most
   * `limit`, default the market's maximum); the next page starts 1 ms after the last open
   * time, so gaps in the exchange's data need no special case.
   */
  async *klinePages(query: KlinesQuery & { startTime: number }): AsyncGenerator<KlineRow[]> {
    const limit = query.limit ?? KLINE_LIMITS[query.market ?? 'spot'].max;
    let startTime = query.startTime;
    for (;;) {
      const rows = await this.klines({ ...query, startTime, limit });
      if (rows.length > 0) yield rows;
      if (rows.length < limit) return;
      const next = rows[rows.length - 1]![0] + 1;
      if (next <= startTime || (query.endTime !== undefined && next > query.endTime)) return;
      startTime = next;
    }
  }

  /**
   * One page of a futures price series (mark price, index price, premium index) as kline rows;
   * index price klines take the `pair` (BTCUSDT), the others the symbol.
   */
  async priceKlines(series: PriceKlineSeries, query: KlinesQuery): Promise<KlineRow[]> {
    const market = query.market ?? 'usdm';
    return await this.#transport.getArray<KlineRow>(market, series, this.#priceKlineParams(series, query), query.limit);
  }

  /** One page of a futures price series as the exchange's JSON text, unparsed. */
  async priceKlinesText(series: PriceKlineSeries, query: KlinesQuery): Promise<string> {
    const market = query.market ?? 'usdm';
    return await this.#transport.getRowsText(market, series, this.#priceKlineParams(series, query), query.limit);
  }

  #priceKlineParams(series: PriceKlineSeries, query: KlinesQuery): Record<string, string | number | undefined> {
    const { symbol, interval, startTime, endTime, limit } = query;
    const name = series === 'indexPriceKlines' ? 'pair' : 'symbol';
    return { [name]: symbol, interval, startTime, endTime, limit };
  }

  /**
   * Funding rates settled in [startTime, endTime] (both inclusive), ascending, at most `limit`.
   * Requests go one at a time per client and within fundingRate's own budget (RequestBudget);
   * clients on other instances of the same IP are not counted: they get the 5 % left unplanned.
   */
  async fundingRates(query: FundingRateQuery): Promise<FundingRate[]> {
    const market = query.market ?? 'usdm';
    const { symbol, startTime, endTime } = query;
    const limit = query.limit ?? FUNDING_RATE_LIMITS.max;
    // Retries of one call (5xx, 429) are sent within its turn and count once (docs/binance.md).
    return await this.#fundingBudget.run(
      () => this.#transport.getArray<FundingRate>(market, 'fundingRate', { symbol, startTime, endTime, limit }),
      query.signal,
    );
  }

  /**
   * Every funding rate settled in [startTime, endTime], page after page (the next from 1 ms
   * after the last settlement of a full page).
   */
  async fundingRatePages(query: FundingRateQuery & { startTime: number; endTime: number }): Promise<FundingRate[]> {
    const limit = query.limit ?? FUNDING_RATE_LIMITS.max;
    const rates: FundingRate[] = [];
    let startTime = query.startTime;
    for (;;) {
      const page = await this.fundingRates({ ...query, startTime, limit });
      rates.push(...page.filter((r) => r.fundingTime >= startTime && r.fundingTime <= query.endTime));
      if (page.length < limit) return rates;
      const next = page.at(-1)!.fundingTime + 1;
      if (next <= startTime || next > query.endTime) return rates;
      startTime = next;
    }
  }

  async aggTrades(query: AggTradesQuery): Promise<AggTrade[]> {
    const market = query.market ?? 'spot';
    const { symbol, fromId, startTime, endTime, limit } = query;
    return await this.#transport.getArray<AggTrade>(market, 'aggTrades', { symbol, fromId, startTime, endTime, limit });
  }

  /**
   * Every aggregate trade with T in [startTime, endTime]: the first page by time, the next
   * ones by `fromId` (ids have no gaps, and several trades can share one millisecond).
   */
  async *aggTradePages(query: AggTradesQuery & { startTime: number; endTime: number }): AsyncGenerator<AggTrade[]> {
    const limit = query.limit ?? AGG_TRADE_LIMITS.max;
    const { market, symbol, startTime, endTime } = query;
    let page = await this.aggTrades({ market, symbol, startTime, endTime, limit });
    for (;;) {
      const inRange = page.filter((trade) => trade.T <= endTime);
      if (inRange.length > 0) yield inRange;
      if (page.length < limit || inRange.length < page.length) return;
      page = await this.aggTrades({ market, symbol, fromId: page[page.length - 1]!.a + 1, limit });
    }
  }

  /** A depth snapshot (the REST half of the local order-book procedure, docs/binance.md); default limit: the market's maximum. */
  async depth(query: { market?: Market; symbol: string; limit?: number }): Promise<DepthSnapshot> {
    const market = query.market ?? 'spot';
    const limit = query.limit ?? DEPTH_LIMITS[market].max;
    return await this.#transport.get<DepthSnapshot>(market, 'depth', { symbol: query.symbol, limit }, limit);
  }

  /** Trades from `fromId` on (historicalTrades: the only REST way to raw trades by id). */
  async historicalTrades(query: {
    market?: Market;
    symbol: string;
    fromId?: number;
    limit?: number;
  }): Promise<RawTrade[]> {
    const market = query.market ?? 'spot';
    const limit = query.limit ?? HISTORICAL_TRADE_LIMITS[market].max;
    return await this.#transport.getArray<RawTrade>(market, 'historicalTrades', {
      symbol: query.symbol,
      fromId: query.fromId,
      limit,
    });
  }

  /**
   * exchangeInfo; its REQUEST_WEIGHT limit becomes the governor's budget, unless one was
   * planned: a lifted budget (a simulator's, `Infinity`) is announced as Binance's nominal
   * one, since JSON has no Infinity, and must not bring the limit back.
   */
  async exchangeInfo(query: ExchangeInfoQuery = {}): Promise<ExchangeInfo> {
    const market = query.market ?? 'spot';
    const symbols = query.symbols === undefined ? undefined : JSON.stringify(query.symbols);
    const info = await this.#transport.get<ExchangeInfo>(market, 'exchangeInfo', { symbol: query.symbol, symbols });
    const limit = requestWeightLimit(info);
    if (limit !== undefined && !this.#planned.has(market)) this.#governors[market].setLimit(limit);
    return info;
  }

  async serverTime(market: Market = 'spot'): Promise<number> {
    const body = await this.#transport.get<{ serverTime: number }>(market, 'time', {});
    return body.serverTime;
  }

  async ping(market: Market = 'spot'): Promise<void> {
    await this.#transport.get<Record<string, never>>(market, 'ping', {});
  }

  /** Aligns the governor's minute windows with the exchange clock; returns the offset (exchange − local) in ms. */
  async syncClock(market: Market = 'spot'): Promise<number> {
    const before = this.#time.now();
    const serverTime = await this.serverTime(market);
    const offset = serverTime - Math.round((before + this.#time.now()) / 2);
    this.#governors[market].setClockOffset(offset);
    return offset;
  }

  /** fundingRate's own budget: requests sent in the last 5 minutes, and waits. */
  fundingBudget(): RequestBudgetStats {
    return this.#fundingBudget.stats();
  }

  governor(market: Market): WeightGovernor {
    return this.#governors[market];
  }

  stats(): ExchangeClientStats {
    const governors = {
      spot: this.#governors.spot.stats(),
      usdm: this.#governors.usdm.stats(),
      coinm: this.#governors.coinm.stats(),
    };
    const sum = (field: 'rateLimited' | 'banned' | 'waits' | 'waitedMs'): number =>
      MARKETS.reduce((total, market) => total + governors[market][field], 0);
    return {
      ...this.#transport.counts,
      rateLimited: sum('rateLimited'),
      banned: sum('banned'),
      usedWeight: {
        spot: governors.spot.usedWeight,
        usdm: governors.usdm.usedWeight,
        coinm: governors.coinm.usedWeight,
      },
      weightWaits: sum('waits'),
      weightWaitedMs: sum('waitedMs'),
      governors,
    };
  }

  /** Stops waiting calls (they reject) and closes the connections. */
  async close(): Promise<void> {
    await this.#transport.close();
  }
}
