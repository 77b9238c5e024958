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
import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes, type MessagesStream } from '@platformatic/kafka';
import { toStreamForgeError, type StreamForgeError } from '../errors.ts';
import { backoffDelay, mayRetry, sleep, type Backoff } from '../retry/backoff.ts';
import type { Logger } from '../telemetry/logger.ts';
import { consumerLagGauge } from '../telemetry/consumer-lag.ts';
import type { Registry } from '../telemetry/metrics.ts';
import { clientOptions } from './connection.ts';
import { isRetriableKafkaError, kafkaFailure } from './kafka-errors.ts';
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

/** A record taken in, from its arrival to its outcome. */
interface Item {
  lane: Lane;
  record: ConsumedRecord;
  offset: bigint;
  bytes: number;
  /** Unordered mode: the flow whose places it takes. */
  flow: Flow | undefined;
  /** Holds an in-flight place (unordered mode); not while it waits for its next attempt. */
  placed: boolean;
}

/** Unordered mode: records that share in-flight places fairly with other flows. */
interface Flow {
  key: string;
  /** Records not started yet, oldest first. */
  queue: Item[];
  /** Records back from a wait, asking for a place for their next attempt. */
  returning: Array<{ item: Item; grant: (granted: boolean) => void }>;
  /** Places held now. */
  placed: number;
  /** Records of this flow without an outcome: the flow is forgotten at 0. */
  items: number;
  /** When it was last given a place: of two flows holding as many, the one served longer ago goes first. */
  servedAt: number;
}

interface Lane {
  key: string;
  topic: string;
  partition: number;
  leaderEpoch: number;
  /** Ordered mode: the records after the running one, in order. */
  queue: Item[];
  /** Offsets taken in without an outcome, in order: the first one bounds what may be committed. */
  outstanding: bigint[];
  /** Handlers alive (running, or waiting for their next attempt). */
  running: number;
  /** Records and bytes taken in without an outcome (queued, running or waiting). */
  buffered: number;
  bufferedBytes: number;
  /** Highest offset taken in: a refetch after a rebalance repeats records, which are dropped. */
  highest: bigint;
  /** The first offset taken in: where this member started, so nothing below it is committed. */
  floor: bigint;
  /** The highest offset whose handler started: the records above it are only queued, and can be given back. */
  started: bigint;
  /** The next offset to commit once everything before it had its outcome. */
  position: bigint | undefined;
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

const MAX_BUFFERED_RECORDS = 1_000;
const MAX_BUFFERED_BYTES = 32 * 1_048_576;
/** Unordered: the part of the in-flight places (1/4) one flow leaves free while it is alone. */
const RESERVED_SHARE = 4;
const LAG_INTERVAL_MS = 2_000;
/** After this long reading back from `resumeAt` without getting it, the records there are gone (retention): go on. */
const REWIND_GRACE_MS = 60_000;

/** Opening the stream again: what Kafka calls retriable, 31 attempts, 0.2 s doubling to 5 s. */
const OPEN_BACKOFF: Backoff = { baseMs: 200, maxMs: 5_000, attempts: 31 };
/** The client's own key of a partition (a Kafka topic name cannot hold ':'). */
const laneKey = (topic: string, partition: number) => `${topic}:${partition}`;

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
  const limit = ordered ? Number.POSITIVE_INFINITY : Math.max(1, options.inFlight ?? 50);
  // Unordered: places a flow alone leaves free for a flow that may come, which can start that
  // many records at once even while the first one's records hang or wait on a slow sink (12 of
  // 50: a one-week backfill's 11 pages all at once). None below 4 places.
  const reserve = ordered ? 0 : Math.floor(limit / RESERVED_SHARE);
  const maxRecords = options.maxBufferedRecords ?? MAX_BUFFERED_RECORDS;
  const maxBytes = options.maxBufferedBytes ?? MAX_BUFFERED_BYTES;
  const stallMs = options.stallMs ?? 1_000;
  const retry: Backoff = { baseMs: options.retryInitialMs ?? 200, maxMs: options.retryMaxMs ?? 10_000 };
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

  const lanes = new Map<string, Lane>();
  /** The partitions of the current assignment: a fetch answered after a rebalance may still carry others. */
  let assigned = new Set<string>();
  /** Lanes lost in a rebalance whose handlers still run: in ordered mode their partition waits for them. */
  const retiring = new Map<string, Lane>();
  let membership: { memberId: string | null; generationId: number } | undefined;
  /** Partitions this member has had a lane for: one coming back may meet records fetched before it left. */
  const everOwned = new Set<string>();
  const flows = new Map<string, Flow>();
  let serveCount = 0;
  /** Handlers alive, and (unordered) the in-flight places they hold. */
  let running = 0;
  let placed = 0;
  const buffered = { records: 0, bytes: 0 };
  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  let streamPaused = false;
  let lanesPaused = false;
  let flowTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  let readyResolve: () => void = () => undefined;
  const readyPromise = new Promise<void>((r) => {
    readyResolve = r;
  });
  const idle: Array<() => void> = [];

  // ---- commits: coalesced, only for owned partitions, never backwards -----------------------
  const toCommit = new Map<string, { topic: string; partition: number; offset: bigint; leaderEpoch: number }>();
  // What the group has committed per owned partition: the stream keeps it (set when it fixes
  // where a partition starts, raised by every commit that succeeds).
  const committedOf = (key: string): bigint => stream?.offsetsCommitted.get(key) ?? -1n;
  let committing: Promise<void> | undefined;
  let commitTimer: NodeJS.Timeout | undefined;
  let lastCommitAt = 0;
  const commitInterval = options.commitIntervalMs ?? 200;

  function markDone(lane: Lane, offset: bigint): void {
    const at = lane.outstanding.indexOf(offset);
    if (at >= 0) lane.outstanding.splice(at, 1);
    const next = lane.outstanding[0] ?? lane.highest + 1n;
    lane.position = next;
    if (!options.commit || !lane.owned || next <= lane.floor) return;
    if (committedOf(lane.key) >= next) return;
    toCommit.set(lane.key, {
      topic: lane.topic,
      partition: lane.partition,
      offset: next,
      leaderEpoch: lane.leaderEpoch,
    });
    scheduleCommit();
  }

  function scheduleCommit(): void {
    if (commitTimer !== undefined || committing !== undefined || stopping) return;
    commitTimer = setTimeout(
      () => {
        commitTimer = undefined;
        lastCommitAt = Date.now();
        committing = flushCommits().finally(() => {
          committing = undefined;
          if (toCommit.size > 0) scheduleCommit();
        });
      },
      Math.max(0, lastCommitAt + commitInterval - Date.now()),
    );
  }

  async function flushCommits(): Promise<void> {
    // Only partitions this member still owns (the lanes map holds no other).
    const offsets = [...toCommit.entries()].filter(([key]) => lanes.has(key));
    toCommit.clear();
    if (offsets.length === 0) return;
    try {
      await consumer.commit({ offsets: offsets.map(([, o]) => o) });
    } catch (error) {
      // A rebalance under way or a broker away: the newest offsets go with the next flush.
      logger?.warn(
        { groupId, err: error, retriable: isRetriableKafkaError(error) },
        'offset commit failed; trying again with the next one',
      );
      for (const [key, o] of offsets) if (!toCommit.has(key)) toCommit.set(key, o);
    }
  }

  // ---- taking records in ------------------------------------------------------------------------
  function take(record: ConsumedRecord, leaderEpoch: number): void {
    const key = laneKey(record.topic, record.partition);
    if (!assigned.has(key)) return; // fetched for an assignment this member no longer has
    let lane = lanes.get(key);
    if (!lane) {
      const first = BigInt(record.offset);
      if (everOwned.has(key)) {
        // A partition that comes back (or whose lane a rebalance reset) starts where the group
        // committed it. A record beyond that is from a fetch made before the rebalance: taking it
        // would start the lane past records nobody handled (and commit past them), so it is
        // dropped; the stream reads again from the committed offset. (The topics are written
        // without transactions or compaction, so their offsets have no gaps to wait for.)
        const start = stream?.offsetsCommitted.get(key);
        if (start === undefined || first !== start) return;
      }
      everOwned.add(key);
      lane = {
        key,
        topic: record.topic,
        partition: record.partition,
        leaderEpoch,
        queue: [],
        outstanding: [],
        running: 0,
        buffered: 0,
        bufferedBytes: 0,
        highest: first - 1n,
        floor: first,
        started: first - 1n,
        position: undefined,
        owned: true,
        movedAt: Date.now(),
        paused: false,
        resumeAt: undefined,
        skipTo: undefined,
        skipAskedAt: 0,
        rewoundAt: 0,
        abort: new AbortController(),
      };
      lanes.set(key, lane);
    }
    const offset = BigInt(record.offset);
    if (offset <= lane.highest) return; // read again after a rebalance: already taken in
    if (lane.paused) return setAside(lane, offset);
    if (lane.resumeAt !== undefined) {
      // Reading went back to where the lane stopped taking records; a fetch made before that
      // may still bring later ones, which would leave a hole: ask again from resumeAt.
      if (offset > lane.resumeAt && Date.now() - lane.rewoundAt < REWIND_GRACE_MS) return seek(lane, lane.resumeAt);
      if (offset > lane.resumeAt)
        logger?.warn(
          { groupId, topic: lane.topic, partition: lane.partition, from: String(lane.resumeAt), to: String(offset) },
          'records set aside are no longer in the log (retention?); going on after them',
        );
      if (offset >= lane.resumeAt) lane.resumeAt = undefined;
    }
    lane.highest = offset;
    lane.leaderEpoch = leaderEpoch;
    const item: Item = {
      lane,
      record,
      offset,
      bytes: (record.value?.byteLength ?? 0) + (record.key?.byteLength ?? 0),
      flow: undefined,
      placed: false,
    };
    lane.outstanding.push(offset);
    if (lane.buffered === 0) lane.movedAt = Date.now();
    lane.buffered++;
    lane.bufferedBytes += item.bytes;
    buffered.records++;
    buffered.bytes += item.bytes;
    if (ordered) {
      lane.queue.push(item);
    } else {
      const flowKey = options.flowOf?.(record) ?? key;
      let flow = flows.get(flowKey);
      if (!flow) {
        flow = { key: flowKey, queue: [], returning: [], placed: 0, items: 0, servedAt: 0 };
        flows.set(flowKey, flow);
      }
      flow.items++;
      flow.queue.push(item);
      item.flow = flow;
    }
    pump();
  }

  /** A record is done with (an outcome, given back, or its partition lost): it no longer counts. */
  function forget(item: Item): void {
    const { lane, flow } = item;
    lane.buffered--;
    lane.bufferedBytes -= item.bytes;
    buffered.records--;
    buffered.bytes -= item.bytes;
    if (flow && --flow.items === 0 && flows.get(flow.key) === flow) flows.delete(flow.key);
  }

  // ---- handlers -----------------------------------------------------------------------------------
  /** Starts handlers: per partition one at a time when ordered; when unordered, a place to the flow holding the fewest. */
  function pump(): void {
    if (!stopping) {
      if (ordered) {
        for (const lane of lanes.values()) {
          if (lane.queue.length === 0 || lane.running > 0 || (retiring.get(lane.key)?.running ?? 0) > 0) continue;
          start(lane.queue.shift() as Item);
        }
      } else {
        for (let flow = nextFlow(); flow; flow = nextFlow()) {
          placed++;
          flow.placed++;
          flow.servedAt = ++serveCount;
          const back = flow.returning.shift();
          if (back) {
            back.item.placed = true;
            back.grant(true);
          } else {
            const item = flow.queue.shift() as Item;
            item.placed = true;
            start(item);
          }
        }
      }
    }
    adjustFlow();
  }

  /**
   * The flow that gets the next free place: the one holding the fewest. With plenty free
   * anyone may take one; the last `reserve` places go only to a flow below its fair share
   * while another flow is active, so one flow alone never fills them all.
   */
  function nextFlow(): Flow | undefined {
    const free = limit - placed;
    if (free <= 0) return undefined;
    let active = 0;
    for (const flow of flows.values())
      if (flow.placed > 0 || flow.queue.length > 0 || flow.returning.length > 0) active++;
    const fair = Math.floor(limit / Math.max(1, active));
    let best: Flow | undefined;
    for (const flow of flows.values()) {
      if (flow.queue.length === 0 && flow.returning.length === 0) continue;
      if (free <= reserve && !(active >= 2 && flow.placed < fair)) continue;
      if (!best || flow.placed < best.placed || (flow.placed === best.placed && flow.servedAt < best.servedAt))
        best = flow;
    }
    return best;
  }

  function start(item: Item): void {
    const { lane } = item;
    lane.running++;
    running++;
    if (item.offset > lane.started) lane.started = item.offset;
    void run(item);
  }

  async function run(item: Item): Promise<void> {
    const { lane, record } = item;
    const delivery: Delivery = { signal: lane.abort.signal, backoff: (ms) => backoff(item, ms) };
    let outcome: Awaited<ReturnType<RecordConsumerOptions['handle']>> = false;
    for (let attempt = 0; !stopping && lane.owned; attempt++) {
      try {
        outcome = await options.handle(record, delivery);
        break;
      } catch (error) {
        const failure = toStreamForgeError(error);
        if (failure.disposition !== 'retry' && (await failedForGood(record, failure))) {
          outcome = undefined;
          break;
        }
        const delay = backoffDelay(retry, attempt + 1);
        logger?.warn(
          {
            groupId,
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            attempt,
            delayMs: delay,
            err: error,
          },
          'record handler failed; trying again',
        );
        await backoff(item, delay);
      }
    }
    lane.running--;
    running--;
    if (item.placed) release(item);
    forget(item);
    lane.movedAt = Date.now();
    if (lane.running === 0 && retiring.get(lane.key) === lane) retiring.delete(lane.key);
    // Without an outcome the offset stays where it is: the record comes again to whoever owns the partition next.
    if (outcome !== false) markDone(lane, item.offset);
    if (running === 0) for (const wake of idle.splice(0)) wake();
    pump();
  }

  /** A record not to be tried again: told to `onFailed` (true once it returned), or passed over. */
  async function failedForGood(record: ConsumedRecord, error: StreamForgeError): Promise<boolean> {
    const where = {
      groupId,
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      code: error.code,
      disposition: error.disposition,
    };
    if (!options.onFailed) {
      logger?.error({ ...where, err: error }, 'record handler failed for good; the record is passed over');
      return true;
    }
    try {
      await options.onFailed(error, record);
      return true;
    } catch (failure) {
      logger?.warn({ ...where, err: failure }, 'a record that failed for good could not be set aside; trying it again');
      return false;
    }
  }

  function release(item: Item): void {
    item.placed = false;
    placed--;
    if (item.flow) item.flow.placed--;
  }

  /** The wait before a record's next attempt; unordered, it gives its place up meanwhile and asks for one again after. */
  async function backoff(item: Item, ms: number): Promise<void> {
    const { lane, flow } = item;
    // Ordered, the partition waits for this record whatever happens: there is no place to give.
    if (!flow) return sleep(ms, lane.abort.signal);
    if (item.placed) {
      release(item);
      pump();
    }
    await sleep(ms, lane.abort.signal);
    if (stopping || lane.abort.signal.aborted) return; // no place: the handler is to end (its signal says why)
    await new Promise<boolean>((grant) => {
      flow.returning.push({ item, grant });
      pump();
    });
  }

  // ---- flow control: the buffer, shared between partitions ------------------------------------------
  function adjustFlow(): void {
    if (!stream || stopping) return;
    const now = Date.now();
    const crowded = buffered.records >= maxRecords / 2 || buffered.bytes >= maxBytes / 2;
    const setAsideNow = { records: 0, bytes: 0 };
    if (crowded || lanesPaused) {
      let active = 0;
      for (const lane of lanes.values()) if (lane.buffered > 0) active++;
      // A share for each busy partition and one that may come.
      const share = { records: maxRecords / (active + 1), bytes: maxBytes / (active + 1) };
      lanesPaused = false;
      for (const lane of lanes.values()) {
        const stalled = lane.buffered > 0 && now - lane.movedAt >= stallMs;
        if (
          !lane.paused &&
          crowded &&
          stalled &&
          (lane.buffered >= share.records || lane.bufferedBytes >= share.bytes)
        ) {
          lane.paused = true;
          logger?.info(
            {
              groupId,
              topic: lane.topic,
              partition: lane.partition,
              buffered: lane.buffered,
              stalledMs: now - lane.movedAt,
            },
            'partition makes no progress: reading it paused, the others go on',
          );
        } else if (
          lane.paused &&
          (!stalled || (lane.buffered < share.records / 2 && lane.bufferedBytes < share.bytes / 2))
        ) {
          resumeLane(lane);
        }
        if (!lane.paused) continue;
        lanesPaused = true;
        if ((lane.buffered > share.records || lane.bufferedBytes > share.bytes) && lane.highest > lane.started)
          giveBack(lane, share);
        setAsideNow.records += lane.buffered;
        setAsideNow.bytes += lane.bufferedBytes;
      }
    }
    // What paused partitions hold is theirs; the rest of the buffer is for the partitions that move.
    const room = { records: maxRecords - setAsideNow.records, bytes: maxBytes - setAsideNow.bytes };
    const moving = { records: buffered.records - setAsideNow.records, bytes: buffered.bytes - setAsideNow.bytes };
    if (!streamPaused && (moving.records >= room.records || moving.bytes >= room.bytes)) {
      streamPaused = true;
      stream.pause();
    } else if (streamPaused && moving.records < room.records / 2 && moving.bytes < room.bytes / 2) {
      streamPaused = false;
      stream.resume();
    }
    // A partition stalls by time passing alone: look again while it matters.
    if (flowTimer === undefined && (crowded || lanesPaused || streamPaused)) {
      flowTimer = setTimeout(
        () => {
          flowTimer = undefined;
          adjustFlow();
        },
        Math.max(50, stallMs / 2),
      ).unref();
    }
  }

  /** Gives back a paused lane's newest records not started yet until it is within `share`: they are read again later. */
  function giveBack(lane: Lane, share: { records: number; bytes: number }): void {
    const waiting = ordered
      ? lane.queue
      : [...flows.values()]
          .flatMap((flow) => flow.queue.filter((item) => item.lane === lane))
          .sort((a, b) => (a.offset < b.offset ? -1 : 1));
    const given = new Set<Item>();
    for (
      let i = waiting.length - 1;
      i >= 0 && (lane.buffered > share.records || lane.bufferedBytes > share.bytes);
      i--
    ) {
      const item = waiting[i] as Item;
      if (item.offset <= lane.started) break;
      given.add(item);
      forget(item);
    }
    if (given.size === 0) return;
    let cut = lane.highest + 1n;
    for (const item of given) if (item.offset < cut) cut = item.offset;
    if (ordered) lane.queue = lane.queue.filter((item) => !given.has(item));
    else for (const flow of flows.values()) flow.queue = flow.queue.filter((item) => !given.has(item));
    while ((lane.outstanding.at(-1) ?? -1n) >= cut) lane.outstanding.pop();
    lane.highest = cut - 1n;
    lane.resumeAt = lane.resumeAt === undefined || cut < lane.resumeAt ? cut : lane.resumeAt;
    logger?.info(
      { groupId, topic: lane.topic, partition: lane.partition, given_back: given.size, from: String(cut) },
      'records of a paused partition given back: they are read again when it moves',
    );
  }

  /** A record of a paused partition: not taken in; reading comes back for it, and skips the partition's backlog meanwhile. */
  function setAside(lane: Lane, offset: bigint): void {
    if (lane.resumeAt === undefined || offset < lane.resumeAt) lane.resumeAt = offset;
    if (lane.skipTo !== undefined) {
      if (offset + 1n < lane.skipTo) seek(lane, lane.skipTo);
      return;
    }
    const now = Date.now();
    if (now - lane.skipAskedAt < 1_000) return;
    lane.skipAskedAt = now;
    void consumer
      .listOffsets({ topics: [lane.topic] })
      .then((ends) => {
        const end = ends.get(lane.topic)?.[lane.partition];
        if (end === undefined || !lane.paused || lanes.get(lane.key) !== lane) return;
        lane.skipTo = end;
        const at = stream?.offsetsToFetch.get(lane.key);
        if (at !== undefined && at < end) seek(lane, end);
      })
      .catch((error: unknown) =>
        logger?.debug({ groupId, err: error }, 'end of a paused partition not known; reading on'),
      );
  }

  function resumeLane(lane: Lane): void {
    lane.paused = false;
    lane.skipTo = undefined;
    if (lane.resumeAt !== undefined) {
      lane.rewoundAt = Date.now();
      seek(lane, lane.resumeAt);
    }
  }

  /** Where the stream fetches this partition next (the client offers no per-partition pause, only this position). */
  function seek(lane: Lane, offset: bigint): void {
    stream?.offsetsToFetch.set(lane.key, offset);
  }

  // ---- group membership -------------------------------------------------------------------------
  consumer.on('consumer:group:join', (payload) => {
    const owned = new Set<string>();
    const partitions: Array<{ topic: string; partition: number }> = [];
    for (const assignment of payload.assignments ?? consumer.assignments ?? []) {
      for (const partition of assignment.partitions) {
        owned.add(laneKey(assignment.topic, partition));
        partitions.push({ topic: assignment.topic, partition });
      }
    }
    // A new member id or a skipped generation: this member was out of the group meanwhile and
    // another may have read and committed its partitions, so nothing it holds is current.
    const generationId = payload.generationId ?? -1;
    const continuous =
      membership !== undefined &&
      membership.memberId === payload.memberId &&
      generationId === membership.generationId + 1;
    membership = { memberId: payload.memberId, generationId };
    assigned = owned;
    for (const [key, lane] of lanes) {
      if (owned.has(key) && continuous) continue;
      // Lost to another member: what waits here is its to read; nothing more is committed for it,
      // and a handler still retrying one of its records may stop (its signal).
      lane.owned = false;
      lane.abort.abort();
      dropWaiting((item) => item.lane === lane);
      lanes.delete(key);
      if (lane.running > 0) retiring.set(key, lane);
      toCommit.delete(key);
    }
    adjustFlow();
    options.onAssigned?.(partitions);
  });

  /** Forgets the records not started that `which` names, and refuses places to those waiting for one. */
  function dropWaiting(which: (item: Item) => boolean): void {
    const keep = (item: Item): boolean => {
      if (!which(item)) return true;
      forget(item);
      return false;
    };
    for (const lane of lanes.values()) lane.queue = lane.queue.filter(keep);
    for (const flow of [...flows.values()]) {
      flow.queue = flow.queue.filter(keep);
      flow.returning = flow.returning.filter(({ item, grant }) => {
        if (!which(item)) return true;
        grant(false);
        return false;
      });
    }
  }

  // A failed rejoin is reported on the client itself; unheard, Node would end the process.
  consumer.on('error', (error: Error) => reopen(stream, error));

  // ---- lag ------------------------------------------------------------------------------------
  let lagTimer: NodeJS.Timeout | undefined;
  const lagSeen = new Set<string>();
  if (options.registry) {
    const gauge = consumerLagGauge(options.registry);
    const measure = async () => {
      if (stopping || !consumer.isActive()) return;
      const highs = await consumer.listOffsets({ topics: options.topics });
      for (const assignment of consumer.assignments ?? []) {
        const partitionHighs = highs.get(assignment.topic) ?? [];
        for (const partition of assignment.partitions) {
          const key = laneKey(assignment.topic, partition);
          const high = partitionHighs[partition];
          const position = lanes.get(key)?.position ?? stream?.offsetsCommitted.get(key);
          if (high === undefined || position === undefined) continue;
          lagSeen.add(key);
          gauge.set(
            { consumer_group: groupId, topic: assignment.topic, partition: String(partition) },
            Math.max(0, Number(high - position)),
          );
        }
      }
    };
    const tick = () => {
      void measure()
        .catch((error: unknown) => logger?.debug({ groupId, err: error }, 'consumer lag not measured'))
        .finally(() => {
          if (!stopping) lagTimer = setTimeout(tick, options.lagIntervalMs ?? LAG_INTERVAL_MS).unref();
        });
    };
    lagTimer = setTimeout(tick, 0).unref();
  }

  // ---- the stream -------------------------------------------------------------------------------
  async function open(): Promise<void> {
    for (let attempt = 0; !stopping; attempt++) {
      try {
        const opened = await consumer.consume({
          topics: options.topics,
          mode: MessagesStreamModes.COMMITTED,
          fallbackMode:
            options.from === 'earliest' ? MessagesStreamFallbackModes.EARLIEST : MessagesStreamFallbackModes.LATEST,
          autocommit: false,
        });
        stream = opened;
        streamPaused = false;
        opened.once('offsets', () => readyResolve());
        opened.on('data', (message) => take(toRecord(message), message.leaderEpoch));
        opened.on('error', (error) => reopen(opened, error));
        adjustFlow();
        return;
      } catch (error) {
        if (stopping) return;
        if (!isRetriableKafkaError(error) || !mayRetry(OPEN_BACKOFF, attempt + 1)) throw error;
        await sleep(backoffDelay(OPEN_BACKOFF, attempt + 1));
      }
    }
  }

  /** Closes a failed stream and opens a new one (which joins the group anew), once per failure. */
  function reopen(failed: typeof stream, error: Error): void {
    if (stopping || failed === undefined || failed !== stream) return;
    logger?.warn({ groupId, err: error }, 'Kafka consumer failed; opening its stream again (the group is joined anew)');
    stream = undefined;
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
    stopping = true;
    clearTimeout(lagTimer);
    await consumer.close(true).catch(() => undefined);
    gaveUp(error);
    throw kafkaFailure(`Kafka consumer group ${groupId} could not start`, error);
  }

  return {
    groupId,
    ready: () => readyPromise,
    async stop() {
      if (stopping) return;
      stopping = true;
      clearTimeout(lagTimer);
      clearTimeout(flowTimer);
      stream?.pause();
      // Handlers waiting for their next attempt end now; their records come again to the next member.
      for (const lane of [...lanes.values(), ...retiring.values()]) lane.abort.abort();
      dropWaiting(() => true);
      if (running > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((r) => idle.push(r)),
          new Promise<void>((r) => {
            timer = setTimeout(r, options.stopGraceMs ?? 30_000);
          }),
        ]);
        clearTimeout(timer);
        if (running > 0)
          logger?.warn(
            { groupId, running },
            'handlers still running at stop: their records come again to the next member',
          );
      }
      clearTimeout(commitTimer);
      await committing;
      if (options.commit) await flushCommits();
      await stream?.close().catch(() => undefined);
      await consumer.close(true).catch(() => undefined);
      if (options.registry) {
        const gauge = consumerLagGauge(options.registry);
        for (const key of lagSeen) {
          const at = key.lastIndexOf(':');
          gauge.remove({ consumer_group: groupId, topic: key.slice(0, at), partition: key.slice(at + 1) });
        }
      }
    },
  };
}
