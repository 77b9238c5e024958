/**
 * The local KafkaSource dispatcher: for each KafkaSource manifest, consume its topics with
 * its consumer group and POST every record to the sink as a CloudEvent, with the semantics
 * of Knative's dispatcher: retry, with the manifest's backoff, what the sink's answer says to
 * retry (the disposition the function runtime names in its header, errors.ts; a sink that
 * names none is judged by status as Knative does: 5xx, 404, 408, 409, 429), and transport
 * errors/timeouts; dead-letter everything else and what exhausts its retries, with the reason; commit a record's offset only after its final
 * outcome; `ordering: ordered` delivers one record at a time per partition.
 *
 * One deliberate difference: when even the dead-letter write fails, Knative drops the record
 * and commits; here the offset is not committed and the record comes again, because the
 * dead-letter sink is Kafka itself and StreamForge promises that nothing is lost.
 *
 * Another, for isolation (one workflow's failures must not hold up another's): Knative's
 * unordered dispatcher keeps a record in flight through its retries, so one workflow's
 * failing records can fill every in-flight place. Here a record waiting for its next attempt
 * holds no place, and the places are shared fairly between workflows (the CloudEvent
 * subject), so another workflow's records go on meanwhile.
 */
import { Pool } from 'undici';
import { StreamForgeError, dispositionOfResponse } from '@streamforge/core/errors';
import { backoffDelay, mayRetry, sleep, type Backoff } from '@streamforge/core/retry';
import type { EventProducer } from '@streamforge/core/bus';
import { withAdmin, type BusAdmin } from '@streamforge/core/bus';
import { startRecordConsumer, type Delivery, type RecordConsumer } from '@streamforge/core/bus';
import type { BusConnection } from '@streamforge/core/bus';
import { topicName } from '@streamforge/core/bus';
import type { Logger } from '@streamforge/core/telemetry';
import { Counter, Histogram, type Registry } from '@streamforge/core/telemetry';
import { toDeadLetterRecord, toHttpEvent, type HttpEvent, type RecordToDeliver } from './http-delivery.ts';
import { backoffMs, type KafkaSinkSpec, type KafkaSourceSpec, type SinkRef } from './manifests.ts';

export type SinkResolver = (ref: SinkRef, source: KafkaSourceSpec) => Promise<string>;

export interface DispatcherOptions {
  connection: BusConnection;
  sources: KafkaSourceSpec[];
  /** KafkaSinks that dead-letter sinks may name (their topic is the dead-letter topic). */
  kafkaSinks: KafkaSinkSpec[];
  resolveSink: SinkResolver;
  /** Producer for dead letters. */
  producer: EventProducer;
  logger: Logger;
  registry?: Registry;
  /** Prefix of topics and consumer groups (KAFKA_TOPIC_PREFIX), so tests can run isolated stacks. */
  prefix?: string;
  namespace?: string;
  /** In-flight records per source in unordered mode (Knative: max.poll.records = 50). */
  unorderedInFlight?: number;
  /** A source's consumer group refused it for good: the source delivers nothing more. */
  onGaveUp?(source: string, error: StreamForgeError): void;
}

export interface Dispatcher {
  start(): Promise<void>;
  /** Resolves when every source's consumer has joined its group and has partitions. */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

type Outcome = 'delivered' | 'dead_lettered' | 'dropped';

interface DispatchMetrics {
  outcomes: Counter<'source' | 'outcome'>;
  attempts: Counter<'source' | 'result'>;
  latency: Histogram<'source'>;
  deadLettered: Counter<'source' | 'reason'>;
}

function createDispatchMetrics(registry: Registry | undefined): DispatchMetrics {
  const registers = registry ? [registry] : [];
  return {
    outcomes: new Counter({
      name: 'streamforge_dispatch_events_total',
      help: 'Records dispatched, by final outcome.',
      labelNames: ['source', 'outcome'],
      registers,
    }),
    attempts: new Counter({
      name: 'streamforge_dispatch_attempts_total',
      help: 'HTTP delivery attempts, by result (2xx, 4xx, 5xx, error).',
      labelNames: ['source', 'result'],
      registers,
    }),
    latency: new Histogram({
      name: 'streamforge_dispatch_delivery_seconds',
      help: 'Time from first attempt to final outcome of a record.',
      labelNames: ['source'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    // The name every function uses for what it sets aside (telemetry/metrics.ts), so one
    // dashboard panel shows dead letters wherever they happen; reason is bounded (http_<status>, unreachable).
    deadLettered: new Counter({
      name: 'streamforge_dead_lettered_total',
      help: 'Events or records set aside with a reason instead of being processed.',
      labelNames: ['source', 'reason'],
      registers,
    }),
  };
}

interface AttemptResult {
  ok: boolean;
  retryable: boolean;
  status?: number;
  body?: Buffer;
  headers?: Record<string, string>;
  reason: string;
}

/** A group's coordinator may still be loading right after the broker started: 21 attempts, 0.1 s doubling to 2 s. */
const OFFSETS_BACKOFF: Backoff = { baseMs: 100, maxMs: 2_000, attempts: 21 };

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { logger } = options;
  const prefix = options.prefix;
  const metrics = createDispatchMetrics(options.registry);
  const pools = new Map<string, Pool>();
  const consumers: RecordConsumer[] = [];
  const joined = new Set<string>();
  let stopping = false;
  let readyResolve: () => void = () => undefined;
  const readyPromise = new Promise<void>((r) => {
    readyResolve = r;
  });

  const topic = (name: string) => (prefix === undefined ? topicName(name) : topicName(name, prefix));
  const poolFor = (url: string): Pool => {
    const origin = new URL(url).origin;
    let pool = pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, { connections: 64, pipelining: 1, keepAliveTimeout: 10_000 });
      pools.set(origin, pool);
    }
    return pool;
  };

  async function attempt(url: string, event: HttpEvent, timeoutMs: number): Promise<AttemptResult> {
    try {
      const target = new URL(url);
      const response = await poolFor(url).request({
        path: target.pathname + target.search,
        method: 'POST',
        headers: { ...event.headers, prefer: 'reply', 'kn-namespace': options.namespace ?? 'default' },
        body: event.body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const reason = `sink answered ${response.statusCode}`;
      // Knative discards the reply of a KafkaSource sink, but keeps the body of a failure.
      if (response.statusCode >= 200 && response.statusCode < 300) {
        await response.body.dump();
        return { ok: true, retryable: false, status: response.statusCode, reason };
      }
      const body = Buffer.from(await response.body.arrayBuffer());
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(response.headers)) if (typeof v === 'string') headers[k] = v;
      return {
        ok: false,
        retryable: dispositionOfResponse(response.statusCode, headers) === 'retry',
        status: response.statusCode,
        body,
        headers,
        reason,
      };
    } catch (error) {
      return { ok: false, retryable: true, reason: `delivery failed: ${(error as Error).message}` };
    }
  }

  async function deadLetter(
    source: KafkaSourceSpec,
    record: RecordToDeliver,
    event: HttpEvent,
    url: string,
    last: AttemptResult,
  ): Promise<Outcome> {
    const sinkRef = source.delivery.deadLetterSink;
    if (!sinkRef) {
      logger.error({ source: source.name, id: event.id, reason: last.reason }, 'no dead-letter sink: record dropped');
      return 'dropped';
    }
    const sink = options.kafkaSinks.find((s) => s.name === sinkRef.name);
    if (sinkRef.kind !== 'KafkaSink' || !sink)
      throw new Error(
        `${source.name}: dead-letter sink ${sinkRef.kind}/${sinkRef.name} is not a KafkaSink in kafka-sources/`,
      );
    const dead = toDeadLetterRecord(event, record, {
      destination: url,
      reason: last.reason,
      ...(last.status === undefined ? {} : { status: last.status }),
      ...(last.body ? { body: last.body } : {}),
      ...(last.headers ? { responseHeaders: last.headers } : {}),
    });
    for (let n = 0; ; n++) {
      try {
        await options.producer.sendRecords(topic(sink.topic), [dead]);
        logger.warn(
          {
            source: source.name,
            id: event.id,
            type: event.type,
            status: last.status,
            reason: last.reason,
            deadLetterTopic: topic(sink.topic),
          },
          'record dead-lettered',
        );
        metrics.deadLettered.inc({
          source: source.name,
          reason: last.status === undefined ? 'unreachable' : `http_${last.status}`,
        });
        return 'dead_lettered';
      } catch (error) {
        // Whatever the producer's error says, the record is tried again (never dropped): the
        // consumer retries what is marked retry, and this outcome must become durable.
        if (n >= source.delivery.retry || stopping)
          throw new StreamForgeError(
            'SF_DEPENDENCY_UNAVAILABLE',
            `dead-letter topic ${topic(sink.topic)} not written: ${(error as Error).message}`,
            { cause: error },
          );
        await sleep(backoffMs(source.delivery, n + 1));
      }
    }
  }

  /**
   * Delivers one record to its final outcome; throws only when the outcome could not be made
   * durable, and gives up (undefined) when the dispatcher stops or the record's partition went
   * to another member.
   */
  async function dispatch(
    source: KafkaSourceSpec,
    record: RecordToDeliver,
    delivery: Delivery,
  ): Promise<Outcome | undefined> {
    const event = toHttpEvent(record, source.name, options.namespace);
    const started = performance.now();
    let last: AttemptResult = { ok: false, retryable: true, reason: 'not attempted' };
    let url = '';
    for (let n = 0; n <= source.delivery.retry; n++) {
      // The client heartbeats on its own timer, so a long backoff keeps the group membership;
      // and the record holds no in-flight place meanwhile, so retries never hold up other records.
      if (n > 0) await delivery.backoff(backoffMs(source.delivery, n));
      if (stopping || delivery.signal.aborted) return undefined;
      try {
        url = await options.resolveSink(source.sink, source);
      } catch (error) {
        last = {
          ok: false,
          retryable: true,
          reason: `sink ${source.sink.name} unavailable: ${(error as Error).message}`,
        };
        metrics.attempts.inc({ source: source.name, result: 'error' });
        continue;
      }
      last = await attempt(url, event, source.delivery.timeoutMs);
      metrics.attempts.inc({
        source: source.name,
        result: last.status === undefined ? 'error' : `${Math.floor(last.status / 100)}xx`,
      });
      if (last.ok) {
        metrics.outcomes.inc({ source: source.name, outcome: 'delivered' });
        metrics.latency.observe({ source: source.name }, (performance.now() - started) / 1000);
        return 'delivered';
      }
      logger.debug(
        { source: source.name, id: event.id, attempt: n + 1, reason: last.reason },
        'delivery attempt failed',
      );
      if (!last.retryable) break;
    }
    const outcome = await deadLetter(source, record, event, url || source.sink.name, last);
    metrics.outcomes.inc({ source: source.name, outcome });
    metrics.latency.observe({ source: source.name }, (performance.now() - started) / 1000);
    return outcome;
  }

  /** `latest` means "from when this source was created": pin it now, as Knative's controller does. */
  async function initialiseOffsets(source: KafkaSourceSpec, groupId: string, topics: string[]): Promise<void> {
    if (source.initialOffset !== 'latest') return;
    // A group's coordinator may still be loading right after the broker started: retry what Kafka calls retriable.
    for (let attempt = 0; ; attempt++) {
      try {
        return await withAdmin(options.connection, (admin) => pinLatestOffsets(admin, groupId, topics));
      } catch (error) {
        if (
          (error as StreamForgeError).details?.retriable !== true ||
          !mayRetry(OFFSETS_BACKOFF, attempt + 1) ||
          stopping
        )
          throw error;
        await sleep(backoffDelay(OFFSETS_BACKOFF, attempt + 1));
      }
    }
  }

  async function pinLatestOffsets(admin: BusAdmin, groupId: string, topics: string[]): Promise<void> {
    const committed = await admin.groupOffsets(groupId, topics);
    for (const t of topics) {
      const mine = committed.get(t) ?? new Map<number, string>();
      const missing = (await admin.topicOffsets(t)).filter((end) => !mine.has(end.partition));
      if (missing.length > 0)
        await admin.setGroupOffsets(
          groupId,
          t,
          missing.map((end) => ({ partition: end.partition, offset: end.high })),
        );
    }
  }

  async function startSource(source: KafkaSourceSpec): Promise<void> {
    const groupId = prefix === undefined ? topicName(source.consumerGroup) : topicName(source.consumerGroup, prefix);
    const topics = source.topics.map(topic);
    await initialiseOffsets(source, groupId, topics);
    const consumer = await startRecordConsumer({
      connection: options.connection,
      groupId,
      topics,
      from: source.initialOffset === 'earliest' ? 'earliest' : 'latest',
      commit: true,
      ordering: source.ordering,
      inFlight: options.unorderedInFlight ?? 50,
      // Knative's source data plane uses the same: a crashed dispatcher's partitions move on within 10 s.
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 3_000,
      maxBytesPerPartition: 4 * 1_048_576,
      // Long polls return as soon as data arrives; a short wait makes stop and rebalance quick.
      maxWaitMs: 500,
      logger,
      ...(options.registry ? { registry: options.registry } : {}),
      // Unordered, the in-flight places are shared fairly between workflows (the CloudEvent
      // subject, the queue id on work pages): one workflow's pages never take them all.
      flowOf: (record) => {
        const subject = record.headers.ce_subject;
        return subject === undefined
          ? `partition:${record.topic}:${record.partition}`
          : `subject:${subject.toString()}`;
      },
      // A record whose outcome could not be made durable throws and is tried again; a stop leaves it uncommitted.
      handle: async (record, delivery) =>
        (await dispatch(source, record, delivery)) === undefined ? false : undefined,
      onAssigned: () => {
        joined.add(source.name);
        if (joined.size === options.sources.length) readyResolve();
      },
      onGaveUp: (error) => {
        logger.fatal(
          { source: source.name, groupId, err: error },
          'KafkaSource consumer stopped for good: the source delivers nothing more',
        );
        options.onGaveUp?.(source.name, error);
      },
    });
    if (stopping) {
      // stop() ran while this source was starting: it must not consume on after the dispatcher stopped.
      await consumer.stop();
      return;
    }
    consumers.push(consumer);
    logger.info(
      { source: source.name, topics, groupId, sink: source.sink.name, ordering: source.ordering },
      'KafkaSource started',
    );
  }

  return {
    async start() {
      if (options.sources.length === 0) readyResolve();
      await Promise.all(options.sources.map(startSource));
    },
    ready: () => readyPromise,
    async stop() {
      stopping = true;
      await Promise.all(consumers.map((c) => c.stop().catch(() => undefined)));
      await Promise.all([...pools.values()].map((p) => p.close().catch(() => undefined)));
    },
  };
}
