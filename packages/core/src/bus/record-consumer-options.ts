/**
 * The options of the record consumer (record-consumer.ts) and what it gives its handlers and
 * its callers.
 */
import type { StreamForgeError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Registry } from '../telemetry/metrics.ts';
import type { BusConnection, ConsumedRecord } from './records.ts';

export type Ordering = 'ordered' | 'unordered';

/** What a handler gets besides its record. */
export interface Delivery {
  /** Aborted once the record's outcome no longer counts: the consumer stops, or its partition went to another member. */
  readonly signal: AbortSignal;
  /**
   * Waits before another attempt, ending early on `signal`. In unordered mode the record holds
   * no in-flight place meanwhile, so records waiting to be retried never keep others waiting.
   */
  backoff(ms: number): Promise<void>;
}

export interface RecordConsumerOptions {
  connection: BusConnection;
  /** The group as Kafka knows it (with the environment's prefix). */
  groupId: string;
  /** Topics as Kafka knows them. */
  topics: string[];
  /** Where a group without committed offsets starts reading. */
  from: 'earliest' | 'latest';
  /** Commit each record's offset after its outcome; false for a group that only tails (no commits). */
  commit: boolean;
  ordering?: Ordering;
  /** Records handled at once in unordered mode (Knative's max.poll.records is 50). */
  inFlight?: number;
  /**
   * Unordered mode: which flow a record belongs to; the in-flight places are shared fairly
   * between flows. Default: its partition.
   */
  flowOf?(record: ConsumedRecord): string;
  /**
   * Handles one record. Resolves once the record has its outcome; `false` means it has none
   * (the consumer is stopping), so its offset is not committed. A throw is tried again,
   * unless its disposition says not to (then `onFailed`).
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing (an async function) took the record
  handle(record: ConsumedRecord, delivery: Delivery): Promise<void | false>;
  /**
   * The handler threw an error whose disposition is dead-letter or reject: the record is not
   * tried again, and its offset advances once this returns (if this throws, the record is tried
   * again). Without it the record is logged as an error and passed over, as Knative drops a
   * failed event that has no dead-letter sink.
   */
  onFailed?(error: StreamForgeError, record: ConsumedRecord): Promise<void> | void;
  /** After every join of the group, with the partitions this member now owns. */
  onAssigned?(partitions: ReadonlyArray<{ topic: string; partition: number }>): void;
  /** The group refused this member for good (e.g. a setting the broker does not accept): nothing more is consumed. */
  onGaveUp?(error: StreamForgeError): void;
  /** Keeps `streamforge_kafka_consumer_lag_messages` of this group current in the registry. */
  registry?: Registry;
  /** How often the lag is measured (default 2 s). */
  lagIntervalMs?: number;
  logger?: Logger;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Longest wait of a fetch for new records; short makes stop and rebalance quick. */
  maxWaitMs?: number;
  maxBytesPerPartition?: number;
  /**
   * Offsets that reached their outcome are committed together at most this often (default
   * 200 ms): every commit is a write to the broker's offsets log, and coalescing bounds them
   * to a few per second per consumer, however many records flow. A crash redelivers what
   * finished in the last interval (deliveries are idempotent by key).
   */
  commitIntervalMs?: number;
  /** How long `stop` waits for running handlers before it leaves the group without their outcome (default 30 s). */
  stopGraceMs?: number;
  /** Backoff of a handler that throws (default 200 ms doubling to 10 s). */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Records (default 1000) and bytes (default 32 MiB) taken in without an outcome, at most. */
  maxBufferedRecords?: number;
  maxBufferedBytes?: number;
  /** A partition none of whose records reached an outcome for this long counts as stalled (default 1 s). */
  stallMs?: number;
}

export interface RecordConsumer {
  readonly groupId: string;
  /** Resolves once the member has joined its group and fixed where each owned partition starts. */
  ready(): Promise<void>;
  /** Stops fetching, lets running handlers finish (a handler sees the stop through its own signal), commits what finished, leaves the group. */
  stop(): Promise<void>;
}
