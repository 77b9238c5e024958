/**
 * The lanes of a record consumer (record-consumer.ts): one per partition it owns, holding that
 * partition's records from their arrival to their outcome, and the state that the consumer's
 * parts (intake, handlers, commits, pause) share.
 */
import type { MessagesStream } from '@platformatic/kafka';
import type { Logger } from '../telemetry/logger.ts';
import { CommitTracker } from './commit-tracker.ts';
import type { FairPlaces, Flow } from './fair-places.ts';
import type { ConsumedRecord } from './records.ts';

export type RecordStream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

/** A record taken in, from its arrival to its outcome. */
export interface Item {
  lane: Lane;
  record: ConsumedRecord;
  offset: bigint;
  bytes: number;
  /** Unordered mode: the flow whose places it takes. */
  flow: Flow<Item> | undefined;
  /** Holds an in-flight place (unordered mode); not while it waits for its next attempt. */
  placed: boolean;
}

export interface Lane {
  key: string;
  topic: string;
  partition: number;
  leaderEpoch: number;
  /** Ordered mode: the records after the running one, in order. */
  queue: Item[];
  /** Its offsets taken in without an outcome, and the next one to commit. */
  offsets: CommitTracker;
  /** Handlers alive (running, or waiting for their next attempt). */
  running: number;
  /** Records and bytes taken in without an outcome (queued, running or waiting). */
  buffered: number;
  bufferedBytes: number;
  /** The highest offset whose handler started: the records above it are only queued, and can be given back. */
  started: bigint;
  owned: boolean;
  /** When one of its records last reached an outcome, or it last went from empty to busy. */
  movedAt: number;
  /** Reading this partition is paused: its records are set aside and read again from `resumeAt`. */
  paused: boolean;
  resumeAt: bigint | undefined;
  /** Where the partition ended when it was paused: reading skips there, so its backlog is not read meanwhile. */
  skipTo: bigint | undefined;
  skipAskedAt: number;
  /** When reading went back to `resumeAt`: a fetch made before may still bring later records. */
  rewoundAt: number;
  abort: AbortController;
}

/** What the parts of one record consumer share. */
export interface ConsumerState {
  readonly groupId: string;
  readonly logger: Logger | undefined;
  /** One record at a time per partition; else the in-flight places of `places`. */
  readonly ordered: boolean;
  /** The lanes of the partitions this member owns, by `laneKey`. */
  readonly lanes: Map<string, Lane>;
  /** Lanes lost in a rebalance whose handlers still run: in ordered mode their partition waits for them. */
  readonly retiring: Map<string, Lane>;
  /** Unordered mode: the in-flight places, shared between flows. */
  readonly places: FairPlaces<Item>;
  /** Records and bytes taken in without an outcome, over all lanes. */
  readonly buffered: { records: number; bytes: number };
  stream: RecordStream | undefined;
  stopping: boolean;
}

/** The client's own key of a partition (a Kafka topic name cannot hold ':'). */
export const laneKey = (topic: string, partition: number) => `${topic}:${partition}`;

/** The lane of a partition whose first record taken in is `record`. */
export function openLane(key: string, record: ConsumedRecord, leaderEpoch: number): Lane {
  const first = BigInt(record.offset);
  return {
    key,
    topic: record.topic,
    partition: record.partition,
    leaderEpoch,
    queue: [],
    offsets: new CommitTracker(first),
    running: 0,
    buffered: 0,
    bufferedBytes: 0,
    started: first - 1n,
    owned: true,
    movedAt: Date.now(),
    paused: false,
    resumeAt: undefined,
    skipTo: undefined,
    skipAskedAt: 0,
    rewoundAt: 0,
    abort: new AbortController(),
  };
}

/** A record is done with (an outcome, given back, or its partition lost): it no longer counts. */
export function forget(state: ConsumerState, item: Item): void {
  const { lane, flow } = item;
  lane.buffered--;
  lane.bufferedBytes -= item.bytes;
  state.buffered.records--;
  state.buffered.bytes -= item.bytes;
  if (flow) state.places.forget(flow);
}

/** Forgets the records not started that `which` names, and refuses places to those waiting for one. */
export function dropWaiting(state: ConsumerState, which: (item: Item) => boolean): void {
  const keep = (item: Item): boolean => {
    if (!which(item)) return true;
    forget(state, item);
    return false;
  };
  for (const lane of state.lanes.values()) lane.queue = lane.queue.filter(keep);
  state.places.drop(which, (item) => forget(state, item));
}
