/**
 * One backfill page over the exchange's REST API: its rows as the exchange sent them (the
 * connector turns them into records, ROW_FORMATS), fetched within the weight budget the
 * client keeps.
 */
import {
  HISTORICAL_TRADE_LIMITS,
  KLINE_LIMITS,
  candleOpenTime,
  closeTime,
  isPriceKlineKind,
  PAGE_KIND_NAMES,
  type BinanceKlineRow,
  type Interval,
  type RawTrade,
  type RowFormat,
  type WorkPage,
} from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import type { BinanceRestClient } from '@streamforge/exchange';

/** A page's rows as the exchange sent them: decoded, or its JSON text forwarded without decoding. */
export interface FetchedPage {
  format: RowFormat;
  count: number;
  rows?: unknown[];
  /** The rows as the exchange's JSON text, forwarded without decoding. */
  rowsJson?: string;
}

/** Kline rows hold no nested arrays, so the rows of a kline array are its `[` less the outer one. */
function countKlineRows(json: string): number {
  let brackets = 0;
  for (let at = json.indexOf('['); at !== -1; at = json.indexOf('[', at + 1)) brackets++;
  return Math.max(0, brackets - 1);
}

type KlinesQuery = Parameters<BinanceRestClient['klines']>[0];

/**
 * A page of candles (trade candles or a futures price series: the same 12-field rows). A page
 * whose last candle has closed holds only closed candles, all inside it (startTime/endTime
 * bound them), so the exchange's bytes go on as they are: nothing to decode or re-encode. A
 * page cut at the time it was planned may end inside a candle: then only candles already
 * closed are kept, as an open candle is not final yet.
 */
async function candlesPage(
  page: WorkPage,
  now: number,
  format: RowFormat,
  fetch: { text: (query: KlinesQuery) => Promise<string>; rows: (query: KlinesQuery) => Promise<unknown[]> },
): Promise<FetchedPage> {
  const interval = page.interval as Interval;
  const query = {
    market: page.market,
    symbol: page.symbol,
    interval,
    startTime: page.start_ms,
    endTime: page.end_ms - 1,
    limit: KLINE_LIMITS[page.market].max,
  };
  if (closeTime(interval, candleOpenTime(interval, page.end_ms - 1)) < now) {
    const rowsJson = await fetch.text(query);
    return { format, rowsJson, count: countKlineRows(rowsJson) };
  }
  const rows = (await fetch.rows(query)) as BinanceKlineRow[];
  const closed = rows.filter((row) => row[0] >= page.start_ms && row[0] < page.end_ms && row[6] < now);
  return { format, rows: closed, count: closed.length };
}

/** Page kinds whose hour of rows is unbounded (a busy symbol's trades): read in batches, never whole. */
export type TradePageKind = 'agg_trades' | 'trades';

export function isTradePage(page: WorkPage): page is WorkPage & { kind: TradePageKind } {
  return page.kind === 'agg_trades' || page.kind === 'trades';
}

/**
 * A page of a kind with a bounded number of rows: at most one answer of candles, or of
 * funding rates (1000 eight-hour rates a page).
 */
export async function fetchRestPage(exchange: BinanceRestClient, page: WorkPage, now: number): Promise<FetchedPage> {
  const format = PAGE_KIND_NAMES[page.kind].rowFormat;
  if (page.kind === 'klines')
    return await candlesPage(page, now, format, {
      text: (query) => exchange.klinesText(query),
      rows: (query) => exchange.klines(query),
    });
  if (isPriceKlineKind(page.kind)) {
    const series = PAGE_KIND_NAMES[page.kind].endpoint;
    return await candlesPage(page, now, format, {
      text: (query) => exchange.priceKlinesText(series, query),
      rows: (query) => exchange.priceKlines(series, query),
    });
  }
  if (page.kind === 'funding_rate') {
    const rates = await exchange.fundingRatePages({
      market: page.market,
      symbol: page.symbol,
      startTime: page.start_ms,
      endTime: page.end_ms - 1,
    });
    return { format, rows: rates, count: rates.length };
  }
  // Metrics have no REST page (the plan takes them from archives only), and trades are read in batches: no retry can load one.
  throw new StreamForgeError(
    'SF_CONTRACT_INVALID',
    `kind: ${page.kind} pages are ${isTradePage(page) ? 'read in batches (restTradeBatches)' : 'read from archives only, not over REST'}`,
  );
}

/** A page of trades, one exchange answer at a time, in trade-id order. */
export function restTradeBatches(
  exchange: BinanceRestClient,
  page: WorkPage & { kind: TradePageKind },
): AsyncGenerator<readonly unknown[]> {
  if (page.kind === 'trades') return rawTradeBatches(exchange, page);
  return exchange.aggTradePages({
    market: page.market,
    symbol: page.symbol,
    startTime: page.start_ms,
    endTime: page.end_ms - 1,
  });
}

/**
 * The raw trades with a time in [start_ms, end_ms). REST cannot ask for raw trades by time,
 * only from an id (historicalTrades), so the first aggregate trade at or after the start gives
 * the first raw trade id there (`f`: all raw trades of an aggregate trade share its time), and
 * historicalTrades is followed by id until a trade reaches the end. Ids grow with time, so the
 * trades found are exactly the page's, and adjacent pages neither overlap nor leave a gap.
 */
async function* rawTradeBatches(exchange: BinanceRestClient, page: WorkPage): AsyncGenerator<RawTrade[]> {
  const { market, symbol } = page;
  const [first] = await exchange.aggTrades({
    market,
    symbol,
    startTime: page.start_ms,
    endTime: page.end_ms - 1,
    limit: 1,
  });
  if (first === undefined) return;
  const limit = HISTORICAL_TRADE_LIMITS[market].max;
  let fromId = first.f;
  for (;;) {
    const batch = await exchange.historicalTrades({ market, symbol, fromId, limit });
    const inPage = batch.filter((trade) => trade.time >= page.start_ms && trade.time < page.end_ms);
    if (inPage.length > 0) yield inPage;
    // A trade past the end closes the page; a short answer is the newest trade there is: nothing past it yet.
    const last = batch.at(-1);
    if (last === undefined || last.time >= page.end_ms || batch.length < limit) return;
    fromId = last.id + 1;
  }
}
