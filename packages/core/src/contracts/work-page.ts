/**
 * A backfill page: one independent, idempotent, retryable unit of historical download
 * (loader-api fans a workflow out into pages through Kafka, so parallel instances share
 * them and each call stays well inside Knative's request timeout).
 */
import { defineContract } from './validation.ts';
import { COLLECTION_NAME_PATTERN, QUEUE_ID_PATTERN, SYMBOL_PATTERN } from './ids.ts';
import { FUTURES_KINDS, MARKETS, PRICE_KLINE_KINDS, type FuturesKind, type Market } from './workflow-type.ts';
import { nextOpenTime, openTimesIn, type Interval } from './intervals.ts';
import type { FuturesOnlyEndpoint } from './binance-contract.ts';
import type { RowFormat } from './data-batch.ts';

/** USD-M allows at most one hour between an aggTrades request's startTime and endTime. */
export const AGG_TRADES_PAGE_MS = 3_600_000;

/** Pages [start, end) over the candles opening in [startMs, endMs), at most `perPage` candles each. */
export function klinePageBounds(
  interval: Interval,
  startMs: number,
  endMs: number,
  perPage: number,
): Array<[number, number]> {
  const bounds: Array<[number, number]> = [];
  let first: number | undefined;
  let count = 0;
  let previousEnd = startMs;
  for (const open of openTimesIn(interval, startMs, endMs)) {
    first ??= open;
    count++;
    previousEnd = nextOpenTime(interval, open);
    if (count === perPage) {
      bounds.push([first, previousEnd]);
      first = undefined;
      count = 0;
    }
  }
  if (first !== undefined) bounds.push([first, Math.min(previousEnd, endMs)]);
  return bounds;
}

/** Pages [start, end) over [startMs, endMs), each at most `stepMs` long (aggTrades: an hour). */
export function timePageBounds(startMs: number, endMs: number, stepMs = AGG_TRADES_PAGE_MS): Array<[number, number]> {
  const bounds: Array<[number, number]> = [];
  for (let t = startMs; t < endMs; t += stepMs) bounds.push([t, Math.min(t + stepMs, endMs)]);
  return bounds;
}

/** What a backfill page can load. */
export type PageKind = 'klines' | 'agg_trades' | 'trades' | FuturesKind;

/** What the exchange calls a page kind's series, and the format its rows travel in. */
interface PageKindNames {
  /** The archive's data type: the folder and file names of its files (`…/metrics/BTCUSDT/`). */
  archive: string;
  /** How the connector reads the page's rows, from REST or archive alike. */
  rowFormat: RowFormat;
  /** The REST endpoint, where one reader serves several kinds (the price series); the others call theirs. */
  endpoint?: FuturesOnlyEndpoint;
}

/**
 * Each page kind's names on the exchange, in one table that the REST and archive paths both
 * read, so a new series is named once.
 */
export const PAGE_KIND_NAMES = {
  klines: { archive: 'klines', rowFormat: 'binance_kline' },
  agg_trades: { archive: 'aggTrades', rowFormat: 'binance_agg_trade' },
  trades: { archive: 'trades', rowFormat: 'binance_trade' },
  mark_price_klines: { archive: 'markPriceKlines', rowFormat: 'binance_price_kline', endpoint: 'markPriceKlines' },
  index_price_klines: { archive: 'indexPriceKlines', rowFormat: 'binance_price_kline', endpoint: 'indexPriceKlines' },
  premium_index_klines: {
    archive: 'premiumIndexKlines',
    rowFormat: 'binance_price_kline',
    endpoint: 'premiumIndexKlines',
  },
  funding_rate: { archive: 'fundingRate', rowFormat: 'binance_funding_rate' },
  metrics: { archive: 'metrics', rowFormat: 'binance_metrics' },
} as const satisfies Record<PageKind, PageKindNames>;

/** The page kinds whose series have a file folder (and REST pages) per kline interval. */
const INTERVAL_PAGE_KINDS = ['klines', ...PRICE_KLINE_KINDS] as const;

/** The archive types whose files are per interval: trade candles and the futures price series. */
export type IntervalArchiveType = (typeof PAGE_KIND_NAMES)[(typeof INTERVAL_PAGE_KINDS)[number]]['archive'];
/** Derived from the table, so the exchange's archive paths and the simulator's share the names. */
export const INTERVAL_ARCHIVE_TYPES: readonly IntervalArchiveType[] = INTERVAL_PAGE_KINDS.map(
  (kind) => PAGE_KIND_NAMES[kind].archive,
);

/**
 * fundingRate pages span 1000 hours: at most 1000 settlements even at a 1-hour funding
 * interval, so one request (limit 1000) holds a page; the usual 8 hours make it 125.
 */
export const FUNDING_RATE_PAGE_MS = 1000 * 3_600_000;

export interface WorkPage {
  queue_id: string;
  type: string;
  symbol: string;
  market: Market;
  kind: PageKind;
  interval?: string;
  /** Open times (klines) or trade times (aggTrades, trades: bulk pages only) in [start_ms, end_ms). */
  start_ms: number;
  end_ms: number;
  /**
   * The page's place in its workflow's plan; `archive_bytes`, bulk plans only: the size of all
   * the plan's archive files, so progress can say how much of them is read.
   */
  page: { index: number; count: number; archive_bytes?: number };
  collection_name: string;
  kafka_topic: string;
  telemetry_id: string;
  /**
   * Bulk pages only: the public archive file (a day or a month) that holds this page's
   * range. The plan names only files the site listed; one it then does not serve fails the
   * page (retried, then dead-lettered with the reason).
   */
  archive?: ArchivePageRef;
}

/** A day's or a month's archive file of the page's series: its period and first millisecond. */
export interface ArchivePageRef {
  period: 'daily' | 'monthly';
  start: number;
  /**
   * A large file is read as several pages, each a slice of its time: this page is slice
   * `index` of `count`, and `bytes` is its share of the file's size (the shares of a file add
   * up to it), so progress counts the file's bytes once.
   */
  slice?: { index: number; count: number; bytes: number };
}

export const workPageSchema = {
  $id: 'streamforge/work-page.json',
  title: 'backfill page',
  type: 'object',
  additionalProperties: false,
  required: [
    'queue_id',
    'type',
    'symbol',
    'market',
    'kind',
    'start_ms',
    'end_ms',
    'page',
    'collection_name',
    'kafka_topic',
    'telemetry_id',
  ],
  properties: {
    queue_id: { type: 'string', pattern: QUEUE_ID_PATTERN },
    type: { type: 'string' },
    symbol: { type: 'string', pattern: SYMBOL_PATTERN },
    market: { enum: MARKETS },
    kind: { enum: ['klines', 'agg_trades', 'trades', ...FUTURES_KINDS] },
    interval: { type: 'string', pattern: '^[0-9]+[smhdwM]$' },
    start_ms: { type: 'integer', minimum: 0 },
    end_ms: { type: 'integer', minimum: 1 },
    page: {
      type: 'object',
      additionalProperties: false,
      required: ['index', 'count'],
      properties: {
        index: { type: 'integer', minimum: 0 },
        count: { type: 'integer', minimum: 1 },
        archive_bytes: { type: 'integer', minimum: 0 },
      },
    },
    collection_name: { type: 'string', pattern: COLLECTION_NAME_PATTERN },
    kafka_topic: { type: 'string', minLength: 1 },
    telemetry_id: { type: 'string', minLength: 1 },
    archive: {
      type: 'object',
      additionalProperties: false,
      required: ['period', 'start'],
      properties: {
        period: { enum: ['daily', 'monthly'] },
        start: { type: 'integer', minimum: 0 },
        slice: {
          type: 'object',
          additionalProperties: false,
          required: ['index', 'count', 'bytes'],
          properties: {
            index: { type: 'integer', minimum: 0 },
            count: { type: 'integer', minimum: 2 },
            bytes: { type: 'integer', minimum: 0 },
          },
        },
      },
    },
  },
} as const;

export const workPageContract = defineContract<WorkPage>('backfill page', workPageSchema);
