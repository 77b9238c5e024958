/**
 * An idempotent producer (acks from all in-sync replicas, broker-side de-duplication of
 * retried requests) that publishes CloudEvents in batches: one produce request per broker
 * per call, however many topics and events it holds, resolved once the broker has them all.
 * A call above MAX_SEND_BYTES goes as consecutive requests of at most that much each (in
 * order), so a send of any size fits the broker's max message size; one that fails half-way
 * may have delivered its first requests, which a retry delivers again (keys are deterministic).
 *
 * Records are partitioned by key with Java's murmur2 (what Kafka's own clients and Knative's
 * data plane use), so one symbol keeps one partition whoever produces it. After a send that
 * failed for good, the client takes a new producer id: a request the broker may have written
 * (its answer lost) can then never make the broker take a later batch for a duplicate.
 */
import { compatibilityPartitioner, ProduceAcks, Producer } from '@platformatic/kafka';
import type { CloudEvent } from 'cloudevents';
import { StreamForgeError } from '../errors.ts';
import { encodeEvent, type EventInput } from './codec.ts';
import { clientOptions } from './connection.ts';
import { kafkaFailure } from './kafka-errors.ts';
import type { BusConnection, OutgoingRecord } from './records.ts';
import { MAX_SEND_BYTES, sliceBySize } from './send-limits.ts';
import { topicName } from './topics.ts';

export interface EventProducer {
  /** Publishes events to one topic (plan name or full name) and resolves once all are acknowledged. */
  send<T>(topic: string, events: ReadonlyArray<EventInput<T> | CloudEvent<T>>): Promise<void>;
  /** Publishes to several topics in one request. */
  sendBatch(
    batches: ReadonlyArray<{ topic: string; events: ReadonlyArray<EventInput<unknown> | CloudEvent<unknown>> }>,
  ): Promise<void>;
  /** Publishes raw records (dead letters, tests, plain-record producers). */
  sendRecords(topic: string, records: readonly OutgoingRecord[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ProducerOptions {
  /** Topic prefix override; defaults to KAFKA_TOPIC_PREFIX. */
  topicPrefix?: string;
  /** Retries of a request inside the client before the send fails (default 8, ≈ 20 s). */
  retries?: number;
  /** How long one produce request may wait for the broker's answer (default 30 s). */
  requestTimeoutMs?: number;
}

type Outgoing = { topic: string; key?: Buffer; value?: Buffer; headers?: Map<Buffer, Buffer>; timestamp?: bigint };

const bytes = (value: string | Buffer): Buffer => (typeof value === 'string' ? Buffer.from(value) : value);

function toOutgoing(topic: string, record: OutgoingRecord): Outgoing {
  const out: Outgoing = { topic };
  if (record.key !== null) out.key = bytes(record.key);
  if (record.value !== null) out.value = bytes(record.value);
  if (record.headers) {
    const headers = new Map<Buffer, Buffer>();
    for (const [name, value] of Object.entries(record.headers)) headers.set(Buffer.from(name), bytes(value));
    out.headers = headers;
  }
  if (record.timestamp !== undefined) out.timestamp = BigInt(record.timestamp);
  return out;
}

/** What a record adds to a record batch, near enough: key, value and headers (framing is in MAX_SEND_BYTES's margin). */
function outgoingBytes(message: Outgoing): number {
  let bytes = (message.key?.byteLength ?? 0) + (message.value?.byteLength ?? 0);
  for (const [name, value] of message.headers ?? []) bytes += name.byteLength + value.byteLength;
  return bytes;
}

export async function createEventProducer(
  connection: BusConnection,
  options: ProducerOptions = {},
): Promise<EventProducer> {
  // The client treats 0 or 1 retries of an idempotent producer as "for ever": at least 2.
  const retries = Math.max(2, options.retries ?? 8);
  const producer = new Producer({
    ...clientOptions(connection, retries),
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeout: options.requestTimeoutMs }),
    idempotent: true,
    acks: ProduceAcks.ALL,
    partitioner: compatibilityPartitioner,
    autocreateTopics: false,
  });
  // Reach the cluster now: a service that cannot fails its start, not its first request.
  try {
    await producer.metadata({ topics: [] });
  } catch (error) {
    await producer.close().catch(() => undefined);
    throw kafkaFailure('Kafka is not reachable', error);
  }
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;
  const resolve = (topic: string): string =>
    options.topicPrefix === undefined ? topicName(topic) : topicName(topic, options.topicPrefix);

  const produce = async (topics: string[], messages: Outgoing[]): Promise<void> => {
    // One request after the other: each stays below the broker's limit, and a partition's records stay in order.
    for (const request of sliceBySize(messages, outgoingBytes, MAX_SEND_BYTES)) {
      if (closed)
        throw new StreamForgeError(
          'SF_DEPENDENCY_UNAVAILABLE',
          `Kafka did not accept events for ${topics.join(', ')}: the producer is closed`,
        );
      const sent = producer.send({ messages: request });
      inFlight.add(sent);
      try {
        await sent;
      } catch (error) {
        const failure = kafkaFailure(`Kafka did not accept events for ${topics.join(', ')}`, error);
        // Every produce failure is worth another try by the caller (a KafkaSource retries the 5xx).
        throw failure.code === 'SF_DEPENDENCY_UNAVAILABLE'
          ? failure
          : new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', failure.message, {
              cause: error,
              ...(failure.details ? { details: failure.details } : {}),
            });
      } finally {
        inFlight.delete(sent);
      }
    }
  };

  const sendBatch: EventProducer['sendBatch'] = async (batches) => {
    const topics: string[] = [];
    const messages: Outgoing[] = [];
    for (const batch of batches) {
      if (batch.events.length === 0) continue;
      const topic = resolve(batch.topic);
      topics.push(topic);
      for (const event of batch.events) messages.push(toOutgoing(topic, encodeEvent(event as EventInput<unknown>)));
    }
    if (messages.length > 0) await produce(topics, messages);
  };

  return {
    send: (topic, events) => sendBatch([{ topic, events: events as ReadonlyArray<EventInput<unknown>> }]),
    sendBatch,
    async sendRecords(topic, records) {
      const name = resolve(topic);
      if (records.length > 0)
        await produce(
          [name],
          records.map((r) => toOutgoing(name, r)),
        );
    },
    async disconnect() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...inFlight]);
      await producer.close().catch(() => undefined);
    },
  };
}
