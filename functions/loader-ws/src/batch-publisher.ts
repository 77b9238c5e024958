/**
 * Records to the data topic as batches (a data event carries a batch of one kind and one
 * symbol). Group commit: while one send is in flight, records queue up; when
 * it is acknowledged, everything queued goes in the next send. At low rates every record
 * leaves at once (low latency), at high rates batches grow by themselves (high throughput),
 * with no timer to tune. One send at a time also keeps each symbol's records in order.
 *
 * A record waiting in the queue is replaced by a newer one with the same key (an open
 * candle's updates), so only its latest version is sent. A send that fails is retried with
 * backoff; nothing is dropped.
 */
import { MAX_SEND_BYTES, type EventInput, type EventProducer } from '@streamforge/core/bus';
import {
  dataEventType,
  sourceOf,
  type DataBatch,
  type DataKind,
  type DataRecord,
  type Market,
} from '@streamforge/core/contracts';
import type { TimeSource } from '@streamforge/exchange';
import type { Logger } from '@streamforge/core/telemetry';
import { backoffDelay, sleep, type Backoff } from '@streamforge/core/retry';
import { LatencyRecorder } from './latency.ts';

/** Kafka refusing a send: 0.5 s doubling to 30 s, for as long as it takes (nothing is dropped). */
const SEND_BACKOFF: Backoff = { baseMs: 500, maxMs: 30_000 };

export interface BatchTarget {
  queueId: string;
  market: Market;
  kind: DataKind;
  interval?: string;
  collectionName: string;
  kafkaTopic: string;
  telemetryId: string;
}

export interface BatchPublisherOptions {
  /** Records per data event. Default 1000. */
  maxRecords?: number;
  /** Records per send (all events of one request). Default 20 000, fewer when records are large (see maxBytesPerSend). */
  maxRecordsPerSend?: number;
  /**
   * Estimated bytes per send, so one send takes what one produce request carries (the
   * producer cuts anything larger into several, see MAX_SEND_BYTES). Default MAX_SEND_BYTES.
   */
  maxBytesPerSend?: number;
  /** Exchange-clock ms to real ms, for the latency figures. Default 1. */
  latencyScale?: number;
}

interface Queued {
  record: DataRecord;
  eventTime: number;
}

export interface PublisherStats {
  published: number;
  batches: number;
  sends: number;
  failedSends: number;
  queued: number;
}

export class BatchPublisher {
  readonly latency: LatencyRecorder;
  readonly #producer: EventProducer;
  readonly #time: TimeSource;
  readonly #logger: Logger;
  readonly #target: BatchTarget;
  readonly #maxRecords: number;
  readonly #maxPerSend: number;
  readonly #maxBytesPerSend: number;
  /** Average JSON size of a record, from a sample of one in 64. */
  #recordBytes = 0;
  #added = 0;
  /** Per `source:symbol`, records by key in arrival order. */
  readonly #queues = new Map<string, Map<string, Queued>>();
  readonly #stats = { published: 0, batches: 0, sends: 0, failedSends: 0 };
  readonly #idle: Array<() => void> = [];
  #queued = 0;
  #draining = false;
  #closed = false;

  constructor(
    deps: { producer: EventProducer; time: TimeSource; logger: Logger },
    target: BatchTarget,
    options: BatchPublisherOptions = {},
  ) {
    this.#producer = deps.producer;
    this.#time = deps.time;
    this.#logger = deps.logger;
    this.#target = target;
    this.#maxRecords = options.maxRecords ?? 1000;
    this.#maxPerSend = options.maxRecordsPerSend ?? 20_000;
    this.#maxBytesPerSend = options.maxBytesPerSend ?? MAX_SEND_BYTES;
    this.latency = new LatencyRecorder(100_000, options.latencyScale ?? 1);
  }

  /** Queues a record; `source` is `api` for what a gap fill fetched from REST. */
  add(symbol: string, record: DataRecord, eventTime: number, source: 'ws' | 'api' = 'ws'): void {
    const name = `${source}:${symbol}`;
    let queue = this.#queues.get(name);
    if (queue === undefined) {
      queue = new Map();
      this.#queues.set(name, queue);
    }
    if (!queue.has(record.key)) this.#queued += 1;
    queue.set(record.key, { record, eventTime });
    if (this.#added++ % 64 === 0) {
      const bytes = JSON.stringify(record).length;
      this.#recordBytes = this.#recordBytes === 0 ? bytes : this.#recordBytes * 0.9 + bytes * 0.1;
    }
    if (!this.#draining) {
      this.#draining = true;
      // Let the records of the current burst of messages join before the first send.
      setImmediate(() => void this.#drain());
    }
  }

  stats(): PublisherStats {
    return { ...this.#stats, queued: this.#queued };
  }

  /** Resolves once everything queued so far is acknowledged by Kafka. */
  flush(): Promise<void> {
    if (!this.#draining && this.#queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops retrying failed sends (what is still queued stays unsent). */
  close(): void {
    this.#closed = true;
  }

  /** Takes what one send may carry (by count and estimated bytes), as data events per source and symbol. */
  #take(): { events: Array<EventInput<DataBatch>>; taken: Queued[] } {
    const events: Array<EventInput<DataBatch>> = [];
    const taken: Queued[] = [];
    const limit = Math.max(
      1,
      Math.min(this.#maxPerSend, Math.floor(this.#maxBytesPerSend / Math.max(1, this.#recordBytes))),
    );
    for (const [name, queue] of this.#queues) {
      if (taken.length >= limit) break;
      const [source, symbol] = name.split(':') as ['ws' | 'api', string];
      while (queue.size > 0 && taken.length < limit) {
        const chunk: Queued[] = [];
        for (const [key, item] of queue) {
          chunk.push(item);
          queue.delete(key);
          if (chunk.length >= this.#maxRecords || taken.length + chunk.length >= limit) break;
        }
        taken.push(...chunk);
        events.push(
          this.#event(
            source,
            symbol,
            chunk.map((q) => q.record),
          ),
        );
      }
      if (queue.size === 0) this.#queues.delete(name);
    }
    this.#queued -= taken.length;
    return { events, taken };
  }

  #event(source: 'ws' | 'api', symbol: string, records: DataRecord[]): EventInput<DataBatch> {
    const t = this.#target;
    const data: DataBatch = {
      queue_id: t.queueId,
      symbol,
      market: t.market,
      kind: t.kind,
      ...(t.interval === undefined ? {} : { interval: t.interval }),
      collection_name: t.collectionName,
      source,
      telemetry_id: t.telemetryId,
      records,
    };
    // Deterministic: the same records make the same event id, so a retried send is recognisable.
    const id = `${t.queueId}:${source}:${records[0]!.key}..${records[records.length - 1]!.key}:${records.length}`;
    return {
      id,
      type: dataEventType(t.kind),
      source: sourceOf('loader-ws'),
      subject: t.queueId,
      partitionKey: symbol,
      data,
    };
  }

  async #drain(): Promise<void> {
    let failures = 0;
    while (this.#queued > 0) {
      const { events, taken } = this.#take();
      for (;;) {
        try {
          this.#stats.sends += 1;
          await this.#producer.send(this.#target.kafkaTopic, events);
          break;
        } catch (error) {
          this.#stats.failedSends += 1;
          failures += 1;
          if (this.#closed) {
            this.#logger.error({ err: error, records: taken.length }, 'data batches not sent: publisher closed');
            this.#finish();
            return;
          }
          const delay = backoffDelay(SEND_BACKOFF, failures);
          this.#logger.error(
            { err: error, records: taken.length, retry_in_ms: delay },
            'Kafka did not take the data batches; retrying',
          );
          await sleep(delay);
        }
      }
      failures = 0;
      const now = this.#time.now();
      for (const item of taken) this.latency.record(now - item.eventTime);
      this.#stats.published += taken.length;
      this.#stats.batches += events.length;
    }
    this.#finish();
  }

  #finish(): void {
    this.#draining = false;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
