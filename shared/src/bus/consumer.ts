/**
 * A consumer for services that read Kafka directly (a Job such as loader-ws, the tests):
 * offsets are committed only after the handler succeeded, so a crash redelivers instead of
 * losing. A failing handler is retried with capped exponential backoff while the consumer
 * keeps its group membership; a record that is not a CloudEvent goes to `onMalformed`.
 */
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '../telemetry/logger.ts';
import { decodeRecord, type DecodedEvent } from './codec.ts';
import { onConsumerGaveUp } from './consumer-crash.ts';
import { topicName } from './topics.ts';

export interface RecordMeta {
  topic: string;
  partition: number;
  offset: string;
  message: KafkaMessage;
}

export interface EventConsumerOptions<T> {
  kafka: Kafka;
  groupId: string;
  /** Plan names or full names; the prefix (KAFKA_TOPIC_PREFIX) is applied. */
  topics: string[];
  fromBeginning?: boolean;
  handle(event: DecodedEvent<T>, meta: RecordMeta): Promise<void>;
  /** Called for records that are not CloudEvents; the offset advances after it returns. */
  onMalformed?(error: Error, meta: RecordMeta): Promise<void> | void;
  logger?: Logger;
  /** The consumer crashed and kafkajs will not restart it: nothing more is consumed. */
  onGaveUp?(error: Error): void;
  retryInitialMs?: number;
  retryMaxMs?: number;
}

export interface EventConsumer {
  consumer: Consumer;
  stop(): Promise<void>;
}

export async function startEventConsumer<T>(options: EventConsumerOptions<T>): Promise<EventConsumer> {
  const consumer = options.kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 1_000 });
  let stopping = false;
  onConsumerGaveUp(consumer, (error) => {
    options.logger?.error({ err: error, groupId: options.groupId }, 'Kafka consumer stopped for good: nothing more is consumed');
    options.onGaveUp?.(error);
  });
  await consumer.connect();
  await consumer.subscribe({ topics: options.topics.map((t) => topicName(t)), fromBeginning: options.fromBeginning ?? true });
  const initial = options.retryInitialMs ?? 200;
  const max = options.retryMaxMs ?? 10_000;

  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ topic, partition, message, heartbeat }) => {
      const meta: RecordMeta = { topic, partition, offset: message.offset, message };
      let event: DecodedEvent<T> | undefined;
      try {
        event = decodeRecord<T>(message);
      } catch (error) {
        options.logger?.warn({ topic, partition, offset: message.offset, err: error }, 'record is not a CloudEvent');
        await options.onMalformed?.(error as Error, meta);
      }
      for (let attempt = 0; event !== undefined && !stopping; attempt++) {
        try {
          await options.handle(event, meta);
          break;
        } catch (error) {
          const delay = Math.min(max, initial * 2 ** attempt);
          options.logger?.warn({ topic, partition, offset: message.offset, attempt, delayMs: delay, err: error }, 'handler failed; retrying');
          await new Promise((r) => setTimeout(r, delay));
          await heartbeat();
        }
      }
      if (stopping) return; // not handled: leave the offset so the next owner redelivers it
      await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
    },
  });

  return {
    consumer,
    async stop() {
      stopping = true;
      await consumer.disconnect();
    },
  };
}
