/**
 * Fills what the live streams missed from the REST API.
 *
 * - Klines and aggTrades: as backfill pages (`WorkPage`) on loader-api-work, the same work
 *   items a historical backfill is made of, so loader-api fetches them within the shared
 *   weight budget and the connector stores them in the workflow's collection, overwriting by
 *   key. Each gap is its own small backfill named `<queue_id>.gap.<run>.<n>`: its page
 *   bookkeeping (pages done, loader-api's `finished`) must not count as the live workflow's
 *   progress, which ends by `stop`, never by pages.
 * - Raw trades: loader-api has no raw-trade backfill, and Binance serves raw trades by id
 *   only through historicalTrades (`fromId`), not by time, so this Job fetches them itself
 *   (it is a long-running process, not a request-scoped function) and publishes them as
 *   `api` batches.
 */
import { TOPICS, type EventProducer } from '@streamforge/core/bus';
import {
  EVENT_TYPES,
  KLINE_LIMITS,
  klinePageBounds,
  sourceOf,
  telemetryId,
  timePageBounds,
  type Interval,
  type Market,
  type WorkPage,
} from '@streamforge/core/contracts';
import type { BinanceRestClient } from '@streamforge/exchange';
import type { Logger } from '@streamforge/core/telemetry';
import type { BatchPublisher } from './batch-publisher.ts';
import { tradeRecord } from './stream-records.ts';

export interface GapTarget {
  queueId: string;
  type: string;
  market: Market;
  interval?: Interval;
  collectionName: string;
  kafkaTopic: string;
}

export interface GapFill {
  /** What was missing, for telemetry. */
  description: string;
  /** Pages published for loader-api, or records fetched here. */
  pages: number;
  records: number;
  fill_queue_id?: string;
}

export interface GapFillerDeps {
  producer: EventProducer;
  exchange: BinanceRestClient;
  publisher: BatchPublisher;
  logger: Logger;
  /** Distinguishes this run's gap ids from a previous run of the same Job (a retried pod). */
  runId: string;
}

export class GapFiller {
  readonly #deps: GapFillerDeps;
  readonly #target: GapTarget;
  #count = 0;

  constructor(deps: GapFillerDeps, target: GapTarget) {
    this.#deps = deps;
    this.#target = target;
  }

  /** Candles with open time in [from, to) become backfill pages. */
  async klines(symbol: string, from: number, to: number): Promise<GapFill> {
    const interval = this.#target.interval!;
    const bounds = klinePageBounds(interval, from, to, KLINE_LIMITS[this.#target.market].max);
    const queueId = await this.#publishPages(symbol, 'klines', bounds);
    return {
      description: `${symbol} ${interval} candles opening ${new Date(from).toISOString()} to before ${new Date(to).toISOString()}`,
      pages: bounds.length,
      records: 0,
      fill_queue_id: queueId,
    };
  }

  /** Aggregate trades made in [from, to] (the times of the trades around the gap) become hour pages. */
  async aggTrades(symbol: string, ids: { from: number; to: number }, from: number, to: number): Promise<GapFill> {
    const bounds = timePageBounds(from, to + 1);
    const queueId = await this.#publishPages(symbol, 'agg_trades', bounds);
    return {
      description: `${symbol} aggTrades ${ids.from}–${ids.to} (${ids.to - ids.from + 1})`,
      pages: bounds.length,
      records: 0,
      fill_queue_id: queueId,
    };
  }

  /** Raw trades with ids in [from, to], fetched here and queued as `api` batches. */
  async trades(symbol: string, from: number, to: number): Promise<GapFill> {
    let next = from;
    let records = 0;
    while (next <= to) {
      const page = await this.#deps.exchange.historicalTrades({
        market: this.#target.market,
        symbol,
        fromId: next,
        limit: Math.min(1000, to - next + 1),
      });
      if (page.length === 0) break; // not on the exchange (yet): nothing more to fill
      for (const t of page) {
        if (t.id > to) break;
        this.#deps.publisher.add(
          symbol,
          tradeRecord({ E: t.time, s: symbol, t: t.id, p: t.price, q: t.qty, T: t.time, m: t.isBuyerMaker }),
          t.time,
          'api',
        );
        records += 1;
      }
      next = page[page.length - 1]!.id + 1;
    }
    return { description: `${symbol} trades ${from}–${to} (${to - from + 1})`, pages: 0, records };
  }

  async #publishPages(symbol: string, kind: 'klines' | 'agg_trades', bounds: Array<[number, number]>): Promise<string> {
    const t = this.#target;
    const queueId = `${t.queueId}.gap.${this.#deps.runId}.${++this.#count}`;
    const pages: WorkPage[] = bounds.map(([start_ms, end_ms], index) => ({
      queue_id: queueId,
      type: t.type,
      symbol,
      market: t.market,
      kind,
      ...(kind === 'klines' && t.interval !== undefined ? { interval: t.interval } : {}),
      start_ms,
      end_ms,
      page: { index, count: bounds.length },
      collection_name: t.collectionName,
      kafka_topic: t.kafkaTopic,
      telemetry_id: telemetryId('loader-api', queueId.slice(t.queueId.length + 1)),
    }));
    await this.#deps.producer.send(
      TOPICS.loaderWork,
      pages.map((page) => ({
        id: `${queueId}:page:${page.page.index}`,
        type: EVENT_TYPES.workPage,
        source: sourceOf('loader-ws'),
        subject: queueId,
        partitionKey: `${symbol}:${page.page.index}`,
        data: page,
      })),
    );
    this.#deps.logger.info(
      { fill_queue_id: queueId, symbol, kind, pages: pages.length },
      'gap handed to loader-api as backfill pages',
    );
    return queueId;
  }
}
