/**
 * An idempotent producer (acks from all in-sync replicas, broker-side de-duplication of
 * retried sends) that publishes CloudEvents in batches: one request per call, however many
 * topics and events it holds.
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
}

function unavailable(error: unknown, topics: string[]): StreamForgeError {
  return new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', `Kafka did not accept events for ${topics.join(', ')}: ${(error as Error).message}`, { cause: error });
}

export async function createEventProducer(kafka: Kafka, options: ProducerOptions = {}): Promise<EventProducer> {
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
  });
  await producer.connect();
  const resolve = (topic: string): string => (options.topicPrefix === undefined ? topicName(topic) : topicName(topic, options.topicPrefix));

  const sendBatch: EventProducer['sendBatch'] = async (batches) => {
    const topicMessages = batches
      .filter((b) => b.events.length > 0)
      .map((b) => ({ topic: resolve(b.topic), messages: b.events.map((e) => encodeEvent(e as EventInput<unknown>)) }));
    if (topicMessages.length === 0) return;
    try {
      await producer.sendBatch({ topicMessages, acks: -1 });
    } catch (error) {
      throw unavailable(error, topicMessages.map((t) => t.topic));
    }
  };

  return {
    send: (topic, events) => sendBatch([{ topic, events: events as ReadonlyArray<EventInput<unknown>> }]),
    sendBatch,
    async sendMessages(topic, messages) {
      try {
        await producer.send({ topic: resolve(topic), messages, acks: -1 });
      } catch (error) {
        throw unavailable(error, [resolve(topic)]);
      }
    },
    disconnect: () => producer.disconnect(),
  };
}
