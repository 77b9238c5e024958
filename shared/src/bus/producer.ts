/**
 * An idempotent producer (acks from all in-sync replicas, broker-side de-duplication of
 * retried sends) that publishes CloudEvents in batches: one request per call, however many
 * topics and events it holds.
 *
 * Sends go one at a time, and a send that failed retires the kafkajs producer. kafkajs hands
 * a failed request's sequence numbers back, although the broker may have written it (the
 * answer was lost); the next batch then takes those numbers and the broker acknowledges it
 * as a duplicate without writing it: an event lost after a successful send. One send at a
 * time lets kafkajs's own retry of the failed request take them back first; a fresh producer
 * id after a send that failed for good means no other batch ever reuses them.
 */
import type { Kafka, Message, Producer } from 'kafkajs';
import { StreamForgeError } from '../errors.ts';
import { encodeEvent, type EventInput } from './codec.ts';
import { topicName } from './topics.ts';
import type { CloudEvent } from 'cloudevents';

export interface EventProducer {
  /** Publishes events to one topic (plan name or full name) and resolves once all are acknowledged. */
  send<T>(topic: string, events: ReadonlyArray<EventInput<T> | CloudEvent<T>>): Promise<void>;
  /** Publishes to several topics in one request. */
  sendBatch(batches: ReadonlyArray<{ topic: string; events: ReadonlyArray<EventInput<unknown> | CloudEvent<unknown>> }>): Promise<void>;
  /** Publishes raw Kafka messages (tests, plain-record producers). */
  sendMessages(topic: string, messages: Message[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ProducerOptions {
  /** Topic prefix override; defaults to KAFKA_TOPIC_PREFIX. */
  topicPrefix?: string;
  /** Retries of a request inside kafkajs before the send fails (default 8, ≈ 20 s). */
  retries?: number;
}

function unavailable(error: unknown, topics: string[]): StreamForgeError {
  return new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', `Kafka did not accept events for ${topics.join(', ')}: ${(error as Error).message}`, { cause: error });
}

export async function createEventProducer(kafka: Kafka, options: ProducerOptions = {}): Promise<EventProducer> {
  const connected = async (): Promise<Producer> => {
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: options.retries ?? 8, initialRetryTime: 100, maxRetryTime: 5_000 },
    });
    await producer.connect();
    return producer;
  };
  let current: Producer | undefined = await connected();
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;
  const resolve = (topic: string): string => (options.topicPrefix === undefined ? topicName(topic) : topicName(topic, options.topicPrefix));

  /** Runs one send after the previous ones, on a producer whose sequence numbers are all known to the broker. */
  const serially = (topics: string[], send: (producer: Producer) => Promise<unknown>): Promise<void> => {
    if (closed) return Promise.reject(unavailable(new Error('the producer is disconnected'), topics));
    const run = queue.then(async () => {
      try {
        current ??= await connected();
        await send(current);
      } catch (error) {
        const retired = current;
        current = undefined;
        void retired?.disconnect().catch(() => undefined);
        throw unavailable(error, topics);
      }
    });
    queue = run.catch(() => undefined);
    return run;
  };

  const sendBatch: EventProducer['sendBatch'] = async (batches) => {
    const topicMessages = batches
      .filter((b) => b.events.length > 0)
      .map((b) => ({ topic: resolve(b.topic), messages: b.events.map((e) => encodeEvent(e as EventInput<unknown>)) }));
    if (topicMessages.length === 0) return;
    await serially(topicMessages.map((t) => t.topic), (producer) => producer.sendBatch({ topicMessages, acks: -1 }));
  };

  return {
    send: (topic, events) => sendBatch([{ topic, events: events as ReadonlyArray<EventInput<unknown>> }]),
    sendBatch,
    sendMessages(topic, messages) {
      const name = resolve(topic);
      return serially([name], (producer) => producer.send({ topic: name, messages, acks: -1 }));
    },
    async disconnect() {
      closed = true;
      await queue;
      await current?.disconnect();
      current = undefined;
    },
  };
}
