/**
 * The live loader: one workflow's streams (one kind, one or many symbols, spot or USD-M)
 * from Binance's WebSocket API into the data topic, with the workflow's queue_id and
 * collection. Per message it keeps what makes the stream trustworthy:
 *
 * - klines: open updates go out marked `closed: false`, the final `x:true` one replaces
 *   them (same key); a candle missing, or missing its final message, is a gap;
 * - trades and aggTrades: ids must follow each other; older ids are duplicates;
 * - depth: a local order book by Binance's procedure, published every `depthIntervalMs`
 *   when it changed, with its last update id; a broken chain resynchronises the book;
 * - bookTicker: every best bid/ask, keyed by its update id.
 *
 * Gaps are filled from REST (gap-filler.ts). Telemetry goes to queue-events: `started`,
 * `loading` with counts at an interval and on every gap, `stopped` at the end.
 */
import type { EventProducer } from '@streamforge/core/bus';
import { StreamForgeError, dispositionOf } from '@streamforge/core/errors';
import { backoffDelay, mayRetry, sleep, type Backoff } from '@streamforge/core/retry';
import {
  BinanceStreamClient,
  IdSequence,
  type IdObservation,
  KlineSequence,
  OrderBookSync,
  type BinanceRestClient,
  type BinanceStreamClientOptions,
  type DepthEvent,
  type StreamClientEvent,
  type StreamMessage,
  type TimeSource,
} from '@streamforge/exchange';
import type { TelemetryStatus } from '@streamforge/core/contracts';
import type { Logger } from '@streamforge/core/telemetry';
import type { TelemetryEmitter } from '@streamforge/core/bus';
import { BatchPublisher } from './batch-publisher.ts';
import { GapFiller, type GapFill } from './gap-filler.ts';
import { LatencyRecorder } from './latency.ts';
import type { LiveJobConfig } from './job-config.ts';
import {
  aggTradeRecord,
  bookTickerRecord,
  depthRecord,
  eventTimeOf,
  klineRecord,
  payloadProblems,
  streamOf,
  symbolOfStream,
  tradeRecord,
  type AggTradePayload,
  type BookTickerPayload,
  type KlinePayload,
  type TradePayload,
} from './stream-records.ts';

/** A gap fill: 5 attempts, waiting 1 s doubling between them. */
const GAP_FILL_BACKOFF: Backoff = { baseMs: 1_000, attempts: 5 };

export interface LiveLoaderDeps {
  config: LiveJobConfig;
  producer: EventProducer;
  telemetry: TelemetryEmitter;
  exchange: BinanceRestClient;
  time: TimeSource;
  logger: Logger;
  /** Default BINANCE_SPOT_WS_URL / BINANCE_USDM_WS_URL. */
  wsBaseUrl?: string;
  /** Exchange-clock ms to real ms (1 / EXCHANGE_TIME_FACTOR), for latency figures. */
  latencyScale?: number;
  /** Tuning of the stream client (tests shorten backoffs). */
  client?: Partial<BinanceStreamClientOptions>;
  runId?: string;
}

interface SymbolState {
  klines?: KlineSequence;
  ids?: IdSequence;
  /** Time of the newest trade seen, the start of an aggTrades gap's time range. */
  lastTradeTime?: number;
  book?: OrderBookSync;
  bookEventTime?: number;
}

export interface LiveLoaderStats {
  messages: number;
  records_published: number;
  queued: number;
  gaps_found: number;
  gaps_filled: number;
  gap_fill_failures: number;
  book_resyncs: number;
  duplicates: number;
  stale: number;
  /** Frames or messages that were not what the exchange sends (skipped, never fatal). */
  malformed: number;
  disconnects: number;
  reconnects: number;
  /** Exchange event time to Kafka acknowledgement. */
  latency_ms: Record<string, number>;
  /** Exchange event time to arrival here: the exchange's and the network's share of latency_ms. */
  arrival_ms: Record<string, number>;
}

export class LiveLoader {
  readonly #deps: LiveLoaderDeps;
  readonly #config: LiveJobConfig;
  readonly #publisher: BatchPublisher;
  readonly #gaps: GapFiller;
  readonly #symbols = new Map<string, SymbolState>();
  readonly #counts = {
    messages: 0,
    gapsFound: 0,
    gapsFilled: 0,
    gapFillFailures: 0,
    resyncs: 0,
    duplicates: 0,
    stale: 0,
    malformed: 0,
    disconnects: 0,
  };
  readonly #fills = new Set<Promise<void>>();
  readonly #stopping = new AbortController();
  readonly #arrival: LatencyRecorder;
  #client: BinanceStreamClient | undefined;
  #telemetryTimer: NodeJS.Timeout | undefined;
  #depthLoop: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;
  #connected = false;

  constructor(deps: LiveLoaderDeps) {
    this.#deps = deps;
    this.#config = deps.config;
    const c = deps.config;
    const target = {
      queueId: c.queueId,
      market: c.market,
      kind: c.kind,
      ...(c.interval ? { interval: c.interval } : {}),
      collectionName: c.collectionName,
      kafkaTopic: c.kafkaTopic,
      telemetryId: c.telemetryId,
    };
    // Order-book records are large: keep each data event well inside the 1 MiB body limit.
    const maxRecords = c.kind === 'depth' ? Math.max(1, Math.floor(600_000 / (c.depthLevels * 2 * 40 + 200))) : 1000;
    this.#arrival = new LatencyRecorder(100_000, deps.latencyScale ?? 1);
    this.#publisher = new BatchPublisher({ producer: deps.producer, time: deps.time, logger: deps.logger }, target, {
      maxRecords,
      latencyScale: deps.latencyScale ?? 1,
    });
    this.#gaps = new GapFiller(
      {
        producer: deps.producer,
        exchange: deps.exchange,
        publisher: this.#publisher,
        logger: deps.logger,
        runId: deps.runId ?? deps.time.now().toString(36),
      },
      {
        queueId: c.queueId,
        type: c.type,
        market: c.market,
        ...(c.interval ? { interval: c.interval } : {}),
        collectionName: c.collectionName,
        kafkaTopic: c.kafkaTopic,
      },
    );
    for (const symbol of c.symbols) this.#symbols.set(symbol, this.#newState(symbol));
  }

  get connected(): boolean {
    return this.#connected;
  }

  get publisher(): BatchPublisher {
    return this.#publisher;
  }

  /** Checks the symbols with the exchange, connects and subscribes, reports `started`. */
  async start(): Promise<void> {
    const c = this.#config;
    await this.#checkSymbols();
    const streams = c.symbols.map((s) => streamOf(s, c.kind, c.interval));
    this.#client = new BinanceStreamClient({
      market: c.market,
      streams,
      time: this.#deps.time,
      logger: this.#deps.logger,
      ...(this.#deps.wsBaseUrl === undefined ? {} : { baseUrl: this.#deps.wsBaseUrl }),
      ...this.#deps.client,
      onMessage: (message) => this.#onMessage(message),
      onEvent: (event) => this.#onConnectionEvent(event),
    });
    await this.#client.start();
    this.#connected = true;
    if (c.kind === 'depth') this.#depthLoop = this.#publishBooks();
    this.#telemetryTimer = setInterval(
      () => void this.#emit({ status: 'loading', message: this.#summary() }),
      c.telemetryIntervalMs,
    );
    this.#telemetryTimer.unref();
    await this.#emit({
      status: 'started',
      message: `streaming ${streams.length} ${c.market} stream(s) for ${c.type}: ${c.symbols.join(', ')}`,
    });
    this.#deps.logger.info({ streams: streams.length, symbols: c.symbols, market: c.market }, 'live streams started');
  }

  /** Ends the streams, publishes what is pending, reports `stopped`. Idempotent. */
  stop(reason: string): Promise<void> {
    this.#stopped ??= this.#stop(reason);
    return this.#stopped;
  }

  stats(): LiveLoaderStats {
    const p = this.#publisher.stats();
    const client = this.#client?.stats();
    return {
      messages: this.#counts.messages,
      records_published: p.published,
      queued: p.queued,
      gaps_found: this.#counts.gapsFound,
      gaps_filled: this.#counts.gapsFilled,
      gap_fill_failures: this.#counts.gapFillFailures,
      book_resyncs: this.#counts.resyncs,
      duplicates: this.#counts.duplicates,
      stale: this.#counts.stale,
      malformed: this.#counts.malformed + (client?.malformed ?? 0),
      disconnects: this.#counts.disconnects,
      reconnects: client?.reconnects ?? 0,
      latency_ms: this.#publisher.latency.percentiles(50, 99),
      arrival_ms: this.#arrival.percentiles(50, 99),
    };
  }

  /** Starts the latency figures afresh (a benchmark after its warm-up). */
  resetLatency(): void {
    this.#publisher.latency.reset();
    this.#arrival.reset();
  }

  async #stop(reason: string): Promise<void> {
    this.#stopping.abort();
    clearInterval(this.#telemetryTimer);
    await this.#client?.close();
    this.#connected = false;
    await this.#depthLoop;
    if (this.#config.kind === 'depth') this.#takeBooks(); // the last state of every book
    await Promise.allSettled([...this.#fills]);
    await this.#publisher.flush();
    this.#publisher.close();
    await this.#emit({ status: 'stopped', message: `stopped (${reason}): ${this.#summary()}` });
    this.#deps.logger.info({ reason, ...this.stats() }, 'live streams stopped');
  }

  #newState(symbol: string): SymbolState {
    const c = this.#config;
    switch (c.kind) {
      case 'klines':
        return { klines: new KlineSequence(c.interval!) };
      case 'trades':
      case 'agg_trades':
        return { ids: new IdSequence() };
      case 'depth':
        return {
          book: new OrderBookSync({
            market: c.market,
            symbol,
            fetchSnapshot: () => this.#deps.exchange.depth({ market: c.market, symbol, limit: c.depthSnapshotLimit }),
            onResync: (why) => {
              this.#counts.resyncs += 1;
              void this.#emit({
                status: 'loading',
                message: `order book of ${symbol} resynchronised from a new snapshot: ${why}`,
                ...this.#countsField(),
              });
            },
            onSnapshotError: (error) =>
              this.#deps.logger.warn({ symbol, err: error }, 'depth snapshot failed; the next event tries again'),
          }),
        };
      case 'book_ticker':
        return {};
    }
  }

  /** Checks every symbol exists on the market before streaming (a misspelt symbol's stream would just stay silent). */
  async #checkSymbols(): Promise<void> {
    const c = this.#config;
    const info = await this.#deps.exchange.exchangeInfo(
      c.market === 'spot' ? { market: 'spot', symbols: c.symbols } : { market: 'usdm' },
    );
    const listed = new Set(info.symbols.map((s) => s.symbol));
    const missing = c.symbols.filter((s) => !listed.has(s));
    if (missing.length > 0)
      throw new StreamForgeError('SF_EXCHANGE_REJECTED', `symbols: ${missing.join(', ')} not listed on ${c.market}`);
  }

  #onMessage(message: StreamMessage): void {
    this.#counts.messages += 1;
    try {
      this.#take(message);
    } catch (error) {
      // A message without the fields its stream promises: one record lost is better than the Job.
      this.#counts.malformed += 1;
      this.#deps.logger.warn(
        {
          stream: message.stream,
          malformed: this.#counts.malformed,
          err: error,
          data: JSON.stringify(message.data).slice(0, 200),
        },
        'stream message is malformed; skipped',
      );
    }
  }

  #take(message: StreamMessage): void {
    const problems = payloadProblems(this.#config.kind, message.data);
    if (problems.length > 0)
      throw new StreamForgeError(
        'SF_CONTRACT_INVALID',
        `${message.stream}: missing or mistyped ${problems.join(', ')}`,
      );
    const eventTime = (message.data as { E?: number }).E;
    if (eventTime !== undefined) this.#arrival.record(message.receivedAt - eventTime);
    const symbol = symbolOfStream(message.stream);
    const state = this.#symbols.get(symbol);
    if (state === undefined) return;
    const publisher = this.#publisher;
    switch (this.#config.kind) {
      case 'klines': {
        const p = message.data as KlinePayload;
        const seen = state.klines!.observe(p.k.t, p.k.x);
        if (seen.status === 'stale') {
          this.#counts.stale += 1;
          return;
        }
        if (seen.missing) this.#fill(() => this.#gaps.klines(symbol, seen.missing!.from, seen.missing!.to));
        publisher.add(symbol, klineRecord(p, this.#config.interval!), p.E);
        return;
      }
      case 'agg_trades': {
        const p = message.data as AggTradePayload;
        const seen = this.#observeTradeId(state, p.a);
        if (seen === undefined) return;
        const before = state.lastTradeTime ?? p.T;
        if (seen.missing) this.#fill(() => this.#gaps.aggTrades(symbol, seen.missing!, before, p.T));
        state.lastTradeTime = p.T;
        publisher.add(symbol, aggTradeRecord(p), p.E);
        return;
      }
      case 'trades': {
        const p = message.data as TradePayload;
        const seen = this.#observeTradeId(state, p.t);
        if (seen === undefined) return;
        if (seen.missing) this.#fill(() => this.#gaps.trades(symbol, seen.missing!.from, seen.missing!.to));
        publisher.add(symbol, tradeRecord(p), p.E);
        return;
      }
      case 'depth': {
        const p = message.data as DepthEvent;
        state.bookEventTime = p.E;
        state.book!.push(p);
        return;
      }
      case 'book_ticker': {
        const p = message.data as BookTickerPayload;
        publisher.add(symbol, bookTickerRecord(p), eventTimeOf(p, message.receivedAt));
        return;
      }
    }
  }

  /** Runs a gap fill in the background, retried with backoff, reported on queue-events. */
  /** The observation of a trade id; a duplicate (a resent message) is counted and yields undefined. */
  #observeTradeId(state: SymbolState, id: number): IdObservation | undefined {
    const seen = state.ids!.observe(id);
    if (seen.status !== 'duplicate') return seen;
    this.#counts.duplicates += 1;
    return undefined;
  }

  #fill(run: () => Promise<GapFill>): void {
    this.#counts.gapsFound += 1;
    const task = (async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          const fill = await run();
          this.#counts.gapsFilled += 1;
          const how =
            fill.pages > 0
              ? `${fill.pages} backfill page(s) for loader-api (${fill.fill_queue_id})`
              : `${fill.records} records fetched from REST`;
          await this.#emit({
            status: 'loading',
            message: `gap found and filled: ${fill.description}; ${how}`,
            gap: fill,
            ...this.#countsField(),
          });
          return;
        } catch (error) {
          // A failure its code says will not heal (an exchange rejection) is reported at once.
          if (
            !mayRetry(GAP_FILL_BACKOFF, attempt) ||
            dispositionOf(error) !== 'retry' ||
            this.#stopping.signal.aborted
          ) {
            this.#counts.gapFillFailures += 1;
            this.#deps.logger.error({ err: error }, 'gap could not be filled');
            await this.#emit({
              status: 'loading',
              message: `gap could not be filled: ${(error as Error).message}`,
              error: { message: (error as Error).message, retryable: true },
              ...this.#countsField(),
            });
            return;
          }
          await sleep(backoffDelay(GAP_FILL_BACKOFF, attempt));
        }
      }
    })();
    this.#fills.add(task);
    void task.finally(() => this.#fills.delete(task));
  }

  #onConnectionEvent(event: StreamClientEvent): void {
    if (event.type === 'disconnected' && !event.planned) {
      this.#counts.disconnects += 1;
      this.#deps.logger.warn(
        { connection: event.connection, code: event.code, reason: event.reason },
        'stream connection lost; reconnecting (gaps are detected and filled)',
      );
    }
  }

  /** Publishes every order book that changed, once per depth interval of exchange time. */
  async #publishBooks(): Promise<void> {
    try {
      for (;;) {
        await this.#deps.time.sleep(this.#config.depthIntervalMs, this.#stopping.signal);
        this.#takeBooks();
      }
    } catch {
      // stopping
    }
  }

  #takeBooks(): void {
    for (const [symbol, state] of this.#symbols) {
      const book = state.book!;
      if (!book.takeChanged()) continue;
      const view = book.view(this.#config.depthLevels);
      const at = state.bookEventTime ?? this.#deps.time.now();
      this.#publisher.add(symbol, depthRecord(symbol, view, this.#config.depthLevels, state.bookEventTime), at);
    }
  }

  #countsField(): Record<string, unknown> {
    const s = this.stats();
    return { records_published: s.records_published, gaps_found: s.gaps_found, gaps_filled: s.gaps_filled };
  }

  #summary(): string {
    const s = this.stats();
    return `${s.records_published} records published from ${s.messages} messages; gaps found ${s.gaps_found}, filled ${s.gaps_filled}; reconnects ${s.reconnects}`;
  }

  async #emit(event: { status: TelemetryStatus; message: string } & Record<string, unknown>): Promise<void> {
    const c = this.#config;
    const s = this.stats();
    try {
      await this.#deps.telemetry.emit({
        queue_id: c.queueId,
        producer: c.telemetryId,
        symbol: c.symbols[0]!,
        type: c.type,
        progress: { done: s.records_published, unit: 'records' },
        messages: s.messages,
        records_published: s.records_published,
        gaps_found: s.gaps_found,
        gaps_filled: s.gaps_filled,
        book_resyncs: s.book_resyncs,
        reconnects: s.reconnects,
        latency_ms: s.latency_ms,
        arrival_ms: s.arrival_ms,
        ...(c.symbols.length > 1 ? { symbols: c.symbols } : {}),
        ...event,
      });
    } catch (error) {
      // Telemetry is reporting, not data: a lost report must not stop the stream.
      this.#deps.logger.warn({ err: error, status: event.status }, 'telemetry not published');
    }
  }
}
