/**
 * The one Kafka consumer of the project: a consumer group member that hands each record to a
 * handler and commits its offset only after the handler reached an outcome, so a crash
 * redelivers instead of losing. Every consumer of the project is this one with other options:
 * the local KafkaSource dispatcher, event consumers (loader-ws's stop listener), the console's
 * event tail and dummy-service's pong reader (these two commit nothing).
 *
 * - ordered: one record at a time per partition, partitions in parallel (a KafkaSource's
 *   `ordering: ordered`); unordered: up to `inFlight` records at once, offsets still committed
 *   in order, so a crash never commits past a record without an outcome.
 * - A handler that throws what is to be retried (its disposition, errors.ts; anything that is
 *   no StreamForgeError counts as SF_INTERNAL) is tried again with capped backoff, for as long
 *   as it takes (the record cannot be skipped without losing it); its partition waits, the
 *   others go on. One whose disposition is dead-letter or reject is not tried again: it goes
 *   to `onFailed`, and its offset advances.
 * - The client heartbeats on a timer of its own, so a handler may take longer than the
 *   session timeout without the member being thrown out of its group.
 * - Memory stays bounded whatever the topic holds: at most `maxBufferedRecords` records (or
 *   bytes) taken in without an outcome, reading paused while they are there.
 * - After a rebalance, records of partitions this member lost are dropped unhandled (their new
 *   owner reads them from the committed offset) and commits are made only for partitions it owns.
 *   A partition whose lane a rebalance reset (lost and back, or a new membership) starts again
 *   where the group committed it or, with no commit yet, at the first record this member had no
 *   outcome for: never where the stream last fetched, which would commit past records nobody handled.
 *
 * Isolation: a record that fails or hangs for minutes holds up neither other
 * partitions nor, in unordered mode, other flows (a workflow, for the dispatcher):
 * - unordered: the in-flight places go to the flow holding the fewest (the partition, or what
 *   `flowOf` names); a flow never takes the last quarter of them while others may come, and a
 *   record waiting for its next attempt (`delivery.backoff`, or a throw) holds no place;
 * - the buffer: a partition that has made no progress for `stallMs` while the buffer is half
 *   full is paused on its own (the client pauses only whole streams, so its records are set
 *   aside and read again later, and reading skips over its backlog meanwhile); it keeps at
 *   most its share of the buffer, and the rest of the buffer stays for the partitions that move.
 */
import { Consumer, ListOffsetTimestamps, MessagesStreamFallbackModes, MessagesStreamModes } from '@platformatic/kafka';
import { backoffDelay, mayRetry, sleep, type Backoff } from '../retry/backoff.ts';
import { clientOptions } from './connection.ts';
import { reportConsumerLag } from './consumer-lag-reporter.ts';
import { FairPlaces } from './fair-places.ts';
import { isRetriableKafkaError, kafkaFailure } from './kafka-errors.ts';
import { createOffsetCommits } from './offset-commits.ts';
import {
  type ConsumerState,
  dropWaiting,
  type Item,
  type Lane,
  laneKey,
  type RecordStream,
} from './partition-lanes.ts';
import { createPartitionPause } from './partition-pause.ts';
import type { RecordConsumer, RecordConsumerOptions } from './record-consumer-options.ts';
import { createRecordHandlers } from './record-handlers.ts';
import { createRecordIntake } from './record-intake.ts';
import type { ConsumedRecord } from './records.ts';

export type { Delivery, Ordering, RecordConsumer, RecordConsumerOptions } from './record-consumer-options.ts';

const MAX_BUFFERED_RECORDS = 1_000;
const MAX_BUFFERED_BYTES = 32 * 1_048_576;

/** Opening the stream again: what Kafka calls retriable, 31 attempts, 0.2 s doubling to 5 s. */
const OPEN_BACKOFF: Backoff = { baseMs: 200, maxMs: 5_000, attempts: 31 };

function toRecord(message: {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key?: Buffer;
  value?: Buffer;
  headers: Map<Buffer, Buffer>;
}): ConsumedRecord {
  const headers: Record<string, Buffer> = {};
  for (const [name, value] of message.headers) headers[name.toString()] = value;
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset.toString(),
    timestamp: message.timestamp.toString(),
    key: message.key ?? null,
    value: message.value ?? null,
    headers,
  };
}

export async function startRecordConsumer(options: RecordConsumerOptions): Promise<RecordConsumer> {
  const { logger, groupId } = options;
  const ordered = (options.ordering ?? 'ordered') === 'ordered';
  const sessionTimeout = options.sessionTimeoutMs ?? 10_000;
  const consumer = new Consumer({
    ...clientOptions(options.connection, 10),
    groupId,
    sessionTimeout,
    rebalanceTimeout: Math.max(sessionTimeout, 30_000),
    heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
    maxWaitTime: options.maxWaitMs ?? 500,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 4 * 1_048_576,
    autocommit: false,
    highWaterMark: 64,
  });

  const state: ConsumerState = {
    groupId,
    logger,
    ordered,
    lanes: new Map<string, Lane>(),
    retiring: new Map<string, Lane>(),
    // Used in unordered mode only; ordered, a partition runs one record at a time.
    places: new FairPlaces<Item>(Math.max(1, options.inFlight ?? 50)),
    buffered: { records: 0, bytes: 0 },
    stream: undefined,
    stopping: false,
  };
  const pause = createPartitionPause(state, consumer, {
    maxRecords: options.maxBufferedRecords ?? MAX_BUFFERED_RECORDS,
    maxBytes: options.maxBufferedBytes ?? MAX_BUFFERED_BYTES,
    stallMs: options.stallMs ?? 1_000,
  });
  const commits = createOffsetCommits(state, consumer, {
    commit: options.commit,
    intervalMs: options.commitIntervalMs ?? 200,
  });
  const handlers = createRecordHandlers(state, options, {
    retry: { baseMs: options.retryInitialMs ?? 200, maxMs: options.retryMaxMs ?? 10_000 },
    commits,
    adjust: pause.adjust,
  });
  const intake = createRecordIntake(state, options, {
    pause,
    commits,
    pump: handlers.pump,
    positions: async (partitions) => {
      const byTopic = new Map<string, number[]>();
      for (const { topic, partition } of partitions) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
      const logOffsets = (timestamp: bigint) =>
        consumer.listOffsets({ topics: [...byTopic.keys()], partitions: Object.fromEntries(byTopic), timestamp });
      const [committed, logStarts, logEnds] = await Promise.all([
        consumer.listCommittedOffsets({
          topics: [...byTopic].map(([topic, numbers]) => ({ topic, partitions: numbers })),
        }),
        logOffsets(ListOffsetTimestamps.EARLIEST),
        logOffsets(ListOffsetTimestamps.LATEST),
      ]);
      return new Map(
        partitions.map(({ topic, partition }) => [
          laneKey(topic, partition),
          {
            committed: committed.get(topic)?.[partition] ?? -1n,
            logStart: logStarts.get(topic)?.[partition] ?? 0n,
            logEnd: logEnds.get(topic)?.[partition],
          },
        ]),
      );
    },
  });
  let readyResolve: () => void = () => undefined;
  const readyPromise = new Promise<void>((r) => {
    readyResolve = r;
  });

  consumer.on('consumer:group:join', (payload) => intake.joined(payload, consumer.assignments));
  // A failed rejoin is reported on the client itself; unheard, Node would end the process.
  consumer.on('error', (error: Error) => reopen(state.stream, error));

  const lag = options.registry
    ? reportConsumerLag(consumer, {
        registry: options.registry,
        groupId,
        topics: options.topics,
        intervalMs: options.lagIntervalMs,
        logger,
        positionOf: (key) => state.lanes.get(key)?.offsets.position ?? state.stream?.offsetsCommitted.get(key),
      })
    : undefined;

  // ---- the stream -------------------------------------------------------------------------------
  async function open(): Promise<void> {
    for (let attempt = 0; !state.stopping; attempt++) {
      try {
        const opened = await consumer.consume({
          topics: options.topics,
          mode: MessagesStreamModes.COMMITTED,
          fallbackMode:
            options.from === 'earliest' ? MessagesStreamFallbackModes.EARLIEST : MessagesStreamFallbackModes.LATEST,
          autocommit: false,
        });
        state.stream = opened;
        pause.streamOpened();
        opened.once('offsets', () => readyResolve());
        // After every join the stream fetches each owned partition from the group's commit, or
        // without one from where it last fetched: partitions starting again go back to their start.
        opened.on('offsets', () => intake.offsetsFixed());
        intake.offsetsFixed();
        opened.on('data', (message) => intake.take(toRecord(message), message.leaderEpoch));
        opened.on('error', (error) => reopen(opened, error));
        pause.adjust();
        return;
      } catch (error) {
        if (state.stopping) return;
        if (!isRetriableKafkaError(error) || !mayRetry(OPEN_BACKOFF, attempt + 1)) throw error;
        await sleep(backoffDelay(OPEN_BACKOFF, attempt + 1));
      }
    }
  }

  /** Closes a failed stream and opens a new one (which joins the group anew), once per failure. */
  function reopen(failed: RecordStream | undefined, error: Error): void {
    if (state.stopping || failed === undefined || failed !== state.stream) return;
    logger?.warn({ groupId, err: error }, 'Kafka consumer failed; opening its stream again (the group is joined anew)');
    state.stream = undefined;
    void failed
      .close()
      .catch(() => undefined)
      .finally(() => void open().catch(gaveUp));
  }

  function gaveUp(error: unknown): void {
    const failure = kafkaFailure(`Kafka consumer group ${groupId} stopped for good; nothing more is consumed`, error);
    logger?.error({ groupId, err: failure }, failure.message);
    options.onGaveUp?.(failure);
  }

  try {
    await open();
  } catch (error) {
    state.stopping = true;
    lag?.stop();
    await consumer.close(true).catch(() => undefined);
    gaveUp(error);
    throw kafkaFailure(`Kafka consumer group ${groupId} could not start`, error);
  }

  return {
    groupId,
    ready: () => readyPromise,
    async stop() {
      if (state.stopping) return;
      state.stopping = true;
      lag?.stop();
      pause.stop();
      state.stream?.pause();
      // Handlers waiting for their next attempt end now; their records come again to the next member.
      for (const lane of [...state.lanes.values(), ...state.retiring.values()]) lane.abort.abort();
      dropWaiting(state, () => true);
      if (handlers.running > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          handlers.idle(),
          new Promise<void>((r) => {
            timer = setTimeout(r, options.stopGraceMs ?? 30_000);
          }),
        ]);
        clearTimeout(timer);
        if (handlers.running > 0)
          logger?.warn(
            { groupId, running: handlers.running },
            'handlers still running at stop: their records come again to the next member',
          );
      }
      await commits.flush();
      await state.stream?.close().catch(() => undefined);
      await consumer.close(true).catch(() => undefined);
      lag?.remove();
    },
  };
}
