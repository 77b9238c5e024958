/**
 * One backfill page over the exchange's REST API: its rows as the exchange sent them (the
 * connector turns them into records, ROW_FORMATS), fetched within the weight budget the
 * client keeps.
 */
import {
  KLINE_LIMITS,
  candleOpenTime,
  closeTime,
  type BinanceKlineRow,
  type Interval,
  type RowFormat,
  type WorkPage,
} from '@streamforge/core/contracts';
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

export async function fetchRestPage(exchange: BinanceRestClient, page: WorkPage, now: number): Promise<FetchedPage> {
  if (page.kind === 'klines') {
    const interval = page.interval as Interval;
    const query = {
      market: page.market,
      symbol: page.symbol,
      interval,
      startTime: page.start_ms,
      endTime: page.end_ms - 1,
      limit: KLINE_LIMITS[page.market].max,
    };
    // A page whose last candle has closed holds only closed candles, all inside it
    // (startTime/endTime bound them), so the exchange's bytes go on as they are: nothing to
    // decode or re-encode. A page cut at the time it was planned may end inside a candle.
    if (closeTime(interval, candleOpenTime(interval, page.end_ms - 1)) < now) {
      const rowsJson = await exchange.klinesText(query);
      return { format: 'binance_kline', rowsJson, count: countKlineRows(rowsJson) };
    }
    const rows = (await exchange.klines(query)) as unknown as BinanceKlineRow[];
    // A page reaching now: only candles already closed; an open candle is not final yet.
    const closed = rows.filter((row) => row[0] >= page.start_ms && row[0] < page.end_ms && row[6] < now);
    return { format: 'binance_kline', rows: closed, count: closed.length };
  }
  const trades: unknown[] = [];
  for await (const pageOfTrades of exchange.aggTradePages({
    market: page.market,
    symbol: page.symbol,
    startTime: page.start_ms,
    endTime: page.end_ms - 1,
  }))
    trades.push(...pageOfTrades);
  return { format: 'binance_agg_trade', rows: trades, count: trades.length };
}
