/**
 * Splits a backfill into pages: independent, idempotent work items, each one request for
 * klines (up to the market's limit of candles) or one hour of aggTrades or raw trades. Pure.
 */
import {
  AGG_TRADES_PAGE_MS,
  FUNDING_RATE_PAGE_MS,
  isPriceKlineKind,
  topicKindOf,
  klinePageBounds,
  klinesPerRequest,
  parseTimeRange,
  timePageBounds,
  type Interval,
  type Market,
  type PageKind,
  type StartCommand,
  type WorkPage,
} from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import { dataTopicOf } from '@streamforge/core/bus';

export interface PagePlanOptions {
  /** The service that plans, and so names the pages' telemetry unless the command does. */
  service: string;
  /** Candles per klines page; default and maximum: what one request may span (1000 spot, 1500 futures; COIN-M: 200 days). */
  klinesPerPage?: number;
  /** Length of an aggTrades page; USD-M allows at most one hour between startTime and endTime. */
  aggTradesPageMs?: number;
  /** Pages never reach past this time (the exchange has no candles from the future). */
  now?: number;
}

/** REST page bounds `[start, end)` over one stretch of a backfill: a request's worth each. */
export function restPageBounds(
  kind: PageKind,
  interval: Interval | undefined,
  market: Market,
  startMs: number,
  endMs: number,
  options: Omit<PagePlanOptions, 'service' | 'now'> = {},
): Array<[number, number]> {
  if (kind === 'funding_rate') return timePageBounds(startMs, endMs, FUNDING_RATE_PAGE_MS);
  if (kind === 'metrics')
    throw new StreamForgeError(
      'SF_CONTRACT_INVALID',
      'kind: metrics are loaded from archive files only; REST has only their latest month (docs/bulk-history.md)',
    );
  // The price series page like candles: same limits, same weights (COIN-M's 200 days applied to them too, unverified).
  // Raw trades (bulk tails only) are paged by the hour like aggTrades: each page follows trade ids within its hour (rest-page.ts).
  if (kind !== 'klines' && !isPriceKlineKind(kind))
    return timePageBounds(startMs, endMs, Math.min(options.aggTradesPageMs ?? AGG_TRADES_PAGE_MS, AGG_TRADES_PAGE_MS));
  if (interval === undefined) throw new StreamForgeError('SF_CONTRACT_INVALID', 'interval: klines need one');
  const limit = klinesPerRequest(market, interval);
  return klinePageBounds(interval, startMs, endMs, Math.min(options.klinesPerPage ?? limit, limit));
}

/** What every page of one workflow shares; the caller adds bounds and place. */
export type PageBase = Omit<WorkPage, 'start_ms' | 'end_ms' | 'page'>;

/** The fields a command gives every page of its backfill, checked or defaulted here, before any page is sent. */
export function pageBaseOf(
  command: StartCommand,
  kind: PageKind,
  interval: Interval | undefined,
  service: string,
): PageBase {
  const collection = command.collection_name;
  if (collection === undefined)
    throw new StreamForgeError('SF_CONTRACT_INVALID', 'collection_name: is required for a backfill');
  if ((kind === 'klines' || isPriceKlineKind(kind)) && interval === undefined)
    throw new StreamForgeError('SF_CONTRACT_INVALID', `type: ${command.type} has no interval`);
  return {
    queue_id: command.queue_id,
    type: command.type,
    symbol: command.symbol,
    market: command.market ?? 'spot',
    kind,
    ...(interval ? { interval } : {}),
    collection_name: collection,
    kafka_topic: command.kafka_topic ?? dataTopicOf(topicKindOf(kind)),
    telemetry_id: command.telemetry_id ?? service,
  };
}

/** The time range a backfill command names, cut at `now` (the exchange has nothing from the future). */
export function backfillRangeOf(
  command: StartCommand,
  now = Number.POSITIVE_INFINITY,
): { startMs: number; endMs: number } {
  if (command.time_range === undefined)
    throw new StreamForgeError('SF_CONTRACT_INVALID', 'time_range: is required for a backfill');
  const range = parseTimeRange(command.time_range);
  return { startMs: range.startMs, endMs: Math.min(range.endMs, now) };
}

export function planPages(
  command: StartCommand,
  kind: PageKind,
  interval: Interval | undefined,
  options: PagePlanOptions,
): WorkPage[] {
  const { startMs, endMs } = backfillRangeOf(command, options.now);
  const base = pageBaseOf(command, kind, interval, options.service);
  let bounds = restPageBounds(kind, interval, base.market, startMs, endMs, options);
  // A range with nothing in it still gets one (empty) page, so every service can report it done.
  if (bounds.length === 0) bounds = [[startMs, Math.max(startMs + 1, endMs)]];
  return bounds.map(([start_ms, end_ms], index) => ({
    ...base,
    start_ms,
    end_ms,
    page: { index, count: bounds.length },
  }));
}
