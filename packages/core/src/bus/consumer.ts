/**
 * A consumer of CloudEvents for services that read Kafka directly (a Job such as loader-ws,
 * the tests): each record is decoded and handed over in order per partition, and its offset
 * committed only after the handler succeeded, so a crash redelivers instead of losing. A
 * handler failing with an error whose disposition is retry (errors.ts) is tried again with
 * capped backoff, the client's own heartbeats keeping the group membership meanwhile; one
 * whose disposition is dead-letter or reject goes to `onFailed` and is not tried again. A
 * record that is not a CloudEvent goes to `onMalformed`.
 */
import type { StreamForgeError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { decodeRecord, type DecodedEvent } from './codec.ts';
import { startRecordConsumer, type RecordConsumer } from './record-consumer.ts';
import type { BusConnection, ConsumedRecord } from './records.ts';
import { topicName } from './topics.ts';

export interface EventConsumerOptions<T> {
  connection: BusConnection;
  groupId: string;
  /** Plan names or full names; the prefix (KAFKA_TOPIC_PREFIX) is applied. */
  topics: string[];
  fromBeginning?: boolean;
  handle(event: DecodedEvent<T>, record: ConsumedRecord): Promise<void>;
  /** Called for records that are not CloudEvents; the offset advances after it returns. */
  onMalformed?(error: Error, record: ConsumedRecord): Promise<void> | void;
  /** The handler failed with a dead-letter or reject disposition; the offset advances after it returns (record-consumer.ts). */
  onFailed?(error: StreamForgeError, record: ConsumedRecord): Promise<void> | void;
  logger?: Logger;
  /** The group refused this consumer for good: nothing more is consumed. */
  onGaveUp?(error: StreamForgeError): void;
  retryInitialMs?: number;
  retryMaxMs?: number;
}

export type EventConsumer = RecordConsumer;

export async function startEventConsumer<T>(options: EventConsumerOptions<T>): Promise<EventConsumer> {
  return await startRecordConsumer({
    connection: options.connection,
    groupId: options.groupId,
    topics: options.topics.map((t) => topicName(t)),
    from: (options.fromBeginning ?? true) ? 'earliest' : 'latest',
    commit: true,
    ordering: 'ordered',
    maxWaitMs: 1_000,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.onGaveUp ? { onGaveUp: options.onGaveUp } : {}),
    ...(options.onFailed ? { onFailed: options.onFailed } : {}),
    ...(options.retryInitialMs === undefined ? {} : { retryInitialMs: options.retryInitialMs }),
    ...(options.retryMaxMs === undefined ? {} : { retryMaxMs: options.retryMaxMs }),
    async handle(record) {
      let event: DecodedEvent<T>;
      try {
        event = decodeRecord<T>(record);
      } catch (error) {
        options.logger?.warn(
          { topic: record.topic, partition: record.partition, offset: record.offset, err: error },
          'record is not a CloudEvent',
        );
        await options.onMalformed?.(error as Error, record);
        return;
      }
      await options.handle(event, record);
    },
  });
}
