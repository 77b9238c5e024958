/**
 * Splits a backfill into pages: independent, idempotent work items, each one request for
 * klines (up to the market's limit of candles) or one hour of aggTrades. Pure.
 */
import {
  AGG_TRADES_PAGE_MS,
  KLINE_LIMITS,
  klinePageBounds,
  parseTimeRange,
  timePageBounds,
  type Interval,
  type StartCommand,
  type WorkPage,
} from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import { dataTopicOf } from '@streamforge/core/bus';
import { SERVICE } from './service.ts';

export interface PagePlanOptions {
  /** Candles per klines page; default and maximum: the market's limit (1000 spot, 1500 USD-M). */
  klinesPerPage?: number;
  /** Length of an aggTrades page; USD-M allows at most one hour between startTime and endTime. */
  aggTradesPageMs?: number;
  /** Pages never reach past this time (the exchange has no candles from the future). */
  now?: number;
}

export function planPages(
  command: StartCommand,
  kind: 'klines' | 'agg_trades',
  interval: Interval | undefined,
  options: PagePlanOptions = {},
): WorkPage[] {
  // Optional in a command, required in a page: checked or defaulted here, before any page is sent.
  if (command.time_range === undefined)
    throw new StreamForgeError('SF_CONTRACT_INVALID', 'time_range: is required for a backfill');
  const collection = command.collection_name;
  if (collection === undefined)
    throw new StreamForgeError('SF_CONTRACT_INVALID', 'collection_name: is required for a backfill');
  const range = parseTimeRange(command.time_range);
  const endMs = Math.min(range.endMs, options.now ?? Number.POSITIVE_INFINITY);
  const market = command.market ?? 'spot';
  let bounds: Array<[number, number]>;
  if (kind === 'klines') {
    if (interval === undefined)
      throw new StreamForgeError('SF_CONTRACT_INVALID', `type: ${command.type} has no interval`);
    const limit = KLINE_LIMITS[market].max;
    bounds = klinePageBounds(interval, range.startMs, endMs, Math.min(options.klinesPerPage ?? limit, limit));
  } else {
    bounds = timePageBounds(
      range.startMs,
      endMs,
      Math.min(options.aggTradesPageMs ?? AGG_TRADES_PAGE_MS, AGG_TRADES_PAGE_MS),
    );
  }
  // A range with nothing in it still gets one (empty) page, so every service can report it done.
  if (bounds.length === 0) bounds = [[range.startMs, Math.max(range.startMs + 1, endMs)]];
  return bounds.map(([start_ms, end_ms], index) => ({
    queue_id: command.queue_id,
    type: command.type,
    symbol: command.symbol,
    market,
    kind,
    ...(interval ? { interval } : {}),
    start_ms,
    end_ms,
    page: { index, count: bounds.length },
    collection_name: collection,
    kafka_topic: command.kafka_topic ?? dataTopicOf(kind),
    telemetry_id: command.telemetry_id ?? SERVICE,
  }));
}
