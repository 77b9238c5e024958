/**
 * The content of one archive file of the simulator's stand-in for Binance's public archive
 * (docs/binance.md, public data files): a zip holding one deflated CSV named like the zip,
 * with the rows the simulator's REST endpoints answer for the same day or month, written with
 * the archive's quirks. Spot files have no header row and print booleans `True`/`False`; futures
 * (USD-M and COIN-M) files start with a header row and print `true`/`false`; spot times (kline open and close,
 * trade time) are microseconds for days from 2025-01-01 on, milliseconds before; USD-M times
 * are always milliseconds. A trades file holds the raw trades REST serves (ws-raw-trades.ts).
 * Rows are read page by page, so a large file is never held as objects.
 */
import { createHash } from 'node:crypto';
import { Zip, ZipDeflate } from 'fflate';
import {
  METRICS_FIELDS,
  type AggTrade,
  type FundingRate,
  type KlineRow,
  type Market,
  type MetricsRow,
  type RawTrade,
} from '@streamforge/core/contracts';
import { archiveFileName, periodEnd, type ArchiveFile } from './archive-paths.ts';
import { metricsTime, type PriceSeries } from './futures-series.ts';
import type { MarketData } from './market-data.ts';
import { rawTradesOf } from './ws-raw-trades.ts';

/** Header row of USD-M kline files (spot kline files have none). */
export const FUTURES_KLINE_HEADER =
  'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore';
/** Header row of USD-M aggTrades files (spot aggTrades files have none, and one more column: is_best_match). */
export const FUTURES_AGG_TRADE_HEADER =
  'agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker';

/** Header row of USD-M trades files (spot trades files have none, and one more column: is_best_match). */
export const FUTURES_TRADE_HEADER = 'id,price,qty,quote_qty,time,is_buyer_maker';

/** Header row of funding rate files (monthly only): no mark price, the funding interval instead. */
export const FUNDING_RATE_HEADER = 'calc_time,funding_interval_hours,last_funding_rate';

/** Header row of USD-M metrics files (daily only). */
export const METRICS_HEADER = ['create_time', 'symbol', ...METRICS_FIELDS].join(',');

const HEADERS: Record<ArchiveFile['kind'], string> = {
  klines: FUTURES_KLINE_HEADER,
  markPriceKlines: FUTURES_KLINE_HEADER,
  indexPriceKlines: FUTURES_KLINE_HEADER,
  premiumIndexKlines: FUTURES_KLINE_HEADER,
  aggTrades: FUTURES_AGG_TRADE_HEADER,
  trades: FUTURES_TRADE_HEADER,
  fundingRate: FUNDING_RATE_HEADER,
  metrics: METRICS_HEADER,
};

/** A funding settlement as a line of the monthly file. */
export function fundingRateCsvLine(rate: FundingRate): string {
  return `${rate.fundingTime},8,${rate.fundingRate}`;
}

/** A metrics row as a line of the daily file, its time written as a UTC date-time. */
export function metricsCsvLine(symbol: string, row: MetricsRow): string {
  return [metricsTime(row.create_time), symbol, ...METRICS_FIELDS.map((field) => row[field])].join(',');
}

/** Spot archive files of days from then on write times in microseconds. */
export const SPOT_MICROSECONDS_FROM = Date.UTC(2025, 0, 1);

const PAGE = 10_000;

/** Whether the file writes times in microseconds (spot, from 2025-01-01 on). */
export function usesMicroseconds(market: Market, periodStart: number): boolean {
  return market === 'spot' && periodStart >= SPOT_MICROSECONDS_FROM;
}

/** A kline as a line of an archive CSV (without newline). */
export function klineCsvLine(row: KlineRow, micro: boolean): string {
  const time = (t: number): string => (micro ? `${t}000` : String(t));
  return `${time(row[0])},${row[1]},${row[2]},${row[3]},${row[4]},${row[5]},${time(row[6])},${row[7]},${row[8]},${row[9]},${row[10]},${row[11]}`;
}

/** An aggregate trade as a line of an archive CSV (without newline). */
export function aggTradeCsvLine(trade: AggTrade, market: Market, micro: boolean): string {
  const time = micro ? `${trade.T}000` : String(trade.T);
  const head = `${trade.a},${trade.p},${trade.q},${trade.f},${trade.l},${time}`;
  if (market !== 'spot') return `${head},${trade.m}`;
  const py = (b: boolean | undefined): string => (b === true ? 'True' : 'False');
  return `${head},${py(trade.m)},${py(trade.M)}`;
}

/** A raw trade as a line of an archive CSV (without newline): the historicalTrades fields in their order. */
export function tradeCsvLine(trade: RawTrade, market: Market, micro: boolean): string {
  const time = micro ? `${trade.time}000` : String(trade.time);
  const head = `${trade.id},${trade.price},${trade.qty},${trade.quoteQty},${time}`;
  if (market !== 'spot') return `${head},${trade.isBuyerMaker}`;
  const py = (b: boolean | undefined): string => (b === true ? 'True' : 'False');
  return `${head},${py(trade.isBuyerMaker)},${py(trade.isBestMatch)}`;
}

export interface BuiltArchive {
  zip: Uint8Array;
  /** Hex SHA-256 of the zip, as the CHECKSUM sidecar gives it. */
  sha256: string;
  /** Hex MD5 of the zip, the S3 ETag. */
  md5: string;
  rows: number;
  /** False when the last candle was still open at `now` (a lag shorter than the interval): not cached. */
  final: boolean;
}

/** The CSV lines of a file, a page at a time; `final` false when a candle was still open. */
async function* csvLines(data: MarketData, file: ArchiveFile, now: number): AsyncGenerator<string[], boolean> {
  const end = periodEnd(file);
  const micro = usesMicroseconds(file.market, file.start);
  if (file.kind === 'markPriceKlines' || file.kind === 'indexPriceKlines' || file.kind === 'premiumIndexKlines') {
    // What REST answers for the period, page by page (the price series are never in µs: futures only).
    const series: PriceSeries = file.kind;
    let cursor = file.start;
    let final = true;
    for (;;) {
      const query = { startTime: cursor, endTime: end - 1, limit: PAGE };
      const page = data.priceKlines(file.market, series, file.symbol, file.interval!, query, now);
      if (page.length === 0) return final;
      if (page.at(-1)![6] >= now) final = false;
      yield page.map((row) => klineCsvLine(row, false));
      if (page.length < PAGE) return final;
      cursor = page.at(-1)![0] + 1;
    }
  }
  if (file.kind === 'fundingRate') {
    const rates = data.fundingRates(
      file.market,
      file.symbol,
      { startTime: file.start, endTime: end - 1, limit: PAGE },
      now,
    );
    if (rates.length > 0) yield rates.map(fundingRateCsvLine);
    return true;
  }
  if (file.kind === 'metrics') {
    const rows = data.metrics(file.market, file.symbol, file.start, end - 1, now);
    if (rows.length > 0) yield rows.map((row) => metricsCsvLine(file.symbol, row));
    return true;
  }
  if (file.kind === 'klines') {
    let cursor = file.start;
    let final = true;
    for (;;) {
      const page = await data.klines(
        file.market,
        file.symbol,
        file.interval!,
        { startTime: cursor, endTime: end - 1, limit: PAGE },
        now,
      );
      if (page.length === 0) return final;
      if (page.at(-1)![6] >= now) final = false;
      yield page.map((row) => klineCsvLine(row, micro));
      if (page.length < PAGE) return final;
      cursor = page.at(-1)![0] + 1;
    }
  }
  const first = data.aggTrades(file.market, file.symbol, { startTime: file.start, endTime: end - 1, limit: 1 }, now);
  if (first.length === 0) return true;
  let fromId = first[0]!.a;
  for (;;) {
    const page = data
      .aggTrades(file.market, file.symbol, { fromId, limit: PAGE }, now)
      .filter((trade) => trade.T < end);
    if (page.length === 0) return true;
    // Raw trades are the ones REST serves: each aggregate trade's `f`…`l`, in id order.
    yield file.kind === 'trades'
      ? page.flatMap((agg) => rawTradesOf(agg, file.market).map((trade) => tradeCsvLine(trade, file.market, micro)))
      : page.map((trade) => aggTradeCsvLine(trade, file.market, micro));
    if (page.length < PAGE) return true;
    fromId = page.at(-1)!.a + 1;
  }
}

/** Line 2 of the CSV (a header row counts) with its second field replaced, for the `malformed` fault. */
function garble(lines: string[], first: number, field: string): string[] {
  const at = 2 - first;
  if (at < 0 || at >= lines.length) return lines;
  const cells = lines[at]!.split(',');
  cells[1] = field;
  return lines.map((line, i) => (i === at ? cells.join(',') : line));
}

/** Builds a file's zip as of `now`; undefined when the market data has no row in its period. `malformedField` garbles line 2. */
export async function buildArchive(
  data: MarketData,
  file: ArchiveFile,
  now: number,
  malformedField?: string,
): Promise<BuiltArchive | undefined> {
  const chunks: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((error, chunk) => {
    if (error !== null) failure = error;
    else chunks.push(chunk);
  });
  // A fixed modification time (the period's end) keeps the same file byte for byte on every build.
  const entry = new ZipDeflate(`${archiveFileName(file)}.csv`, { level: 6 });
  entry.mtime = new Date(periodEnd(file));
  zip.add(entry);
  const encoder = new TextEncoder();
  let rows = 0;
  // Lines written so far (1-based numbering of the CSV, header included), to find line 2.
  let written = 0;
  if (file.market !== 'spot') {
    entry.push(encoder.encode(`${HEADERS[file.kind]}\n`));
    written = 1;
  }
  const lines = csvLines(data, file, now);
  let next = await lines.next();
  while (next.done !== true) {
    rows += next.value.length;
    const page = malformedField === undefined ? next.value : garble(next.value, written + 1, malformedField);
    written += next.value.length;
    entry.push(encoder.encode(`${page.join('\n')}\n`));
    next = await lines.next();
  }
  if (rows === 0) return undefined;
  entry.push(new Uint8Array(0), true);
  zip.end();
  if (failure !== null) throw failure;
  const bytes = Buffer.concat(chunks);
  const zipBytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    zip: zipBytes,
    sha256: createHash('sha256').update(zipBytes).digest('hex'),
    md5: createHash('md5').update(zipBytes).digest('hex'),
    rows,
    final: next.value,
  };
}

/** Whether the market data has at least one row in the file's period (cheap: one row asked). */
export async function hasRows(data: MarketData, file: ArchiveFile, now: number): Promise<boolean> {
  const query = { startTime: file.start, endTime: periodEnd(file) - 1, limit: 1 };
  return (await firstRowTime(data, file, query, now)) !== undefined;
}

/** The time of a series' first row by `query` (a file's period, or from 0 for the series' first), or undefined. */
export async function firstRowTime(
  data: MarketData,
  file: Omit<ArchiveFile, 'start' | 'period'>,
  query: { startTime: number; endTime?: number; limit: number },
  now: number,
): Promise<number | undefined> {
  switch (file.kind) {
    case 'klines':
      return (await data.klines(file.market, file.symbol, file.interval!, query, now))[0]?.[0];
    case 'markPriceKlines':
    case 'indexPriceKlines':
    case 'premiumIndexKlines':
      return data.priceKlines(file.market, file.kind, file.symbol, file.interval!, query, now)[0]?.[0];
    case 'fundingRate':
      return data.fundingRates(file.market, file.symbol, query, now)[0]?.fundingTime;
    case 'metrics': {
      // Metrics start at the listing: the first row after startTime within a day is enough.
      const to = Math.min(query.endTime ?? query.startTime + 86_400_000, query.startTime + 86_400_000);
      return data.metrics(file.market, file.symbol, query.startTime, to, now)[0]?.create_time;
    }
    default:
      return data.aggTrades(file.market, file.symbol, query, now)[0]?.T;
  }
}

/** The CHECKSUM sidecar's text, as sha256sum writes it. */
export function checksumText(sha256: string, file: ArchiveFile): string {
  return `${sha256}  ${archiveFileName(file)}.zip\n`;
}
