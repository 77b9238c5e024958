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
 * - A handler that throws is tried again with capped backoff (the record cannot be skipped
 *   without losing it); its partition waits, the others go on.
 * - The client heartbeats on a timer of its own, so a handler may take longer than the
 *   session timeout without the member being thrown out of its group.
 * - Reading is paused while too many records (or bytes) wait for a handler, so memory stays
 *   bounded whatever the topic holds.
 * - After a rebalance, records of partitions this member lost are dropped unhandled (their new
 *   owner reads them from the committed offset) and commits are made only for partitions it owns.
 */
import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes, type MessagesStream } from '@platformatic/kafka';
import type { StreamForgeError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { consumerLagGauge } from '../telemetry/consumer-lag.ts';
import type { Registry } from '../telemetry/metrics.ts';
import { clientOptions } from './connection.ts';
import { isRetriableKafkaError, kafkaFailure } from './kafka-errors.ts';
import type { BusConnection, ConsumedRecord } from './records.ts';

export type Ordering = 'ordered' | 'unordered';

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
   * Handles one record. Resolves once the record has its outcome; `false` means it has none
   * (the consumer is stopping), so its offset is not committed. A throw is tried again.
   */
  handle(record: ConsumedRecord): Promise<void | false>;
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
}

export interface RecordConsumer {
  readonly groupId: string;
  /** Resolves once the member has joined its group and fixed where each owned partition starts. */
  ready(): Promise<void>;
  /** Stops fetching, lets running handlers finish (a handler sees the stop through its own signal), commits what finished, leaves the group. */
  stop(): Promise<void>;
}

interface Lane {
  topic: string;
  partition: number;
  leaderEpoch: number;
  queue: Array<{ record: ConsumedRecord; bytes: number }>;
  /** Offsets queued or running, in order: the first one bounds what may be committed. */
  outstanding: bigint[];
  running: number;
  /** Highest offset taken in: a refetch after a rebalance repeats records, which are dropped. */
  highest: bigint;
  /** The first offset taken in: where this member started, so nothing below it is committed. */
  floor: bigint;
  /** The next offset to commit once everything before it had its outcome. */
  position: bigint | undefined;
  owned: boolean;
}

const MAX_QUEUED_RECORDS = 1_000;
const MAX_QUEUED_BYTES = 32 * 1_048_576;
const LAG_INTERVAL_MS = 2_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** The client's own key of a partition (a Kafka topic name cannot hold ':'). */
const laneKey = (topic: string, partition: number) => `${topic}:${partition}`;

function toRecord(message: { topic: string; partition: number; offset: bigint; timestamp: bigint; key?: Buffer; value?: Buffer; headers: Map<Buffer, Buffer> }): ConsumedRecord {
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
  const retryInitial = options.retryInitialMs ?? 200;
  const retryMax = options.retryMaxMs ?? 10_000;
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
  let running = 0;
  let queuedRecords = 0;
  let queuedBytes = 0;
  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  let paused = false;
  let stopping = false;
  let readyResolve: () => void = () => undefined;
  const readyPromise = new Promise<void>((r) => { readyResolve = r; });
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
    const key = laneKey(lane.topic, lane.partition);
    if (committedOf(key) >= next) return;
    toCommit.set(key, { topic: lane.topic, partition: lane.partition, offset: next, leaderEpoch: lane.leaderEpoch });
    scheduleCommit();
  }

  function scheduleCommit(): void {
    if (commitTimer !== undefined || committing !== undefined || stopping) return;
    commitTimer = setTimeout(() => {
      commitTimer = undefined;
      lastCommitAt = Date.now();
      committing = flushCommits().finally(() => {
        committing = undefined;
        if (toCommit.size > 0) scheduleCommit();
      });
    }, Math.max(0, lastCommitAt + commitInterval - Date.now()));
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
      logger?.warn({ groupId, err: error, retriable: isRetriableKafkaError(error) }, 'offset commit failed; trying again with the next one');
      for (const [key, o] of offsets) if (!toCommit.has(key)) toCommit.set(key, o);
    }
  }

  // ---- flow control ---------------------------------------------------------------------------
  function adjustFlow(): void {
    if (!stream) return;
    const full = queuedRecords >= MAX_QUEUED_RECORDS || queuedBytes >= MAX_QUEUED_BYTES;
    if (full && !paused) {
      paused = true;
      stream.pause();
    } else if (paused && !stopping && queuedRecords < MAX_QUEUED_RECORDS / 2 && queuedBytes < MAX_QUEUED_BYTES / 2) {
      paused = false;
      stream.resume();
    }
  }

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
      lane = { topic: record.topic, partition: record.partition, leaderEpoch, queue: [], outstanding: [], running: 0, highest: first - 1n, floor: first, position: undefined, owned: true };
      lanes.set(key, lane);
    }
    const offset = BigInt(record.offset);
    if (offset <= lane.highest) return; // read again after a rebalance: already taken in
    lane.highest = offset;
    lane.leaderEpoch = leaderEpoch;
    const bytes = (record.value?.byteLength ?? 0) + (record.key?.byteLength ?? 0);
    lane.queue.push({ record, bytes });
    lane.outstanding.push(offset);
    queuedRecords++;
    queuedBytes += bytes;
    pump();
    adjustFlow();
  }

  /** Starts handlers while the limit allows: per partition one at a time when ordered. */
  function pump(): void {
    let started = true;
    while (started && running < limit && !stopping) {
      started = false;
      for (const lane of lanes.values()) {
        if (running >= limit) break;
        if (lane.queue.length === 0 || (ordered && (lane.running > 0 || (retiring.get(laneKey(lane.topic, lane.partition))?.running ?? 0) > 0))) continue;
        const item = lane.queue.shift() as { record: ConsumedRecord; bytes: number };
        queuedRecords--;
        queuedBytes -= item.bytes;
        lane.running++;
        running++;
        started = true;
        void run(lane, item.record);
      }
    }
    adjustFlow();
  }

  async function run(lane: Lane, record: ConsumedRecord): Promise<void> {
    const offset = BigInt(record.offset);
    let outcome: void | false = false;
    for (let attempt = 0; !stopping && lane.owned; attempt++) {
      try {
        outcome = await options.handle(record);
        break;
      } catch (error) {
        const delay = Math.min(retryMax, retryInitial * 2 ** attempt);
        logger?.warn({ groupId, topic: record.topic, partition: record.partition, offset: record.offset, attempt, delayMs: delay, err: error }, 'record handler failed; trying again');
        await sleep(delay);
      }
    }
    lane.running--;
    running--;
    if (lane.running === 0 && retiring.get(laneKey(lane.topic, lane.partition)) === lane) retiring.delete(laneKey(lane.topic, lane.partition));
    // Without an outcome the offset stays where it is: the record comes again to whoever owns the partition next.
    if (outcome !== false) markDone(lane, offset);
    if (running === 0) for (const wake of idle.splice(0)) wake();
    pump();
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
    const continuous = membership !== undefined && membership.memberId === payload.memberId && generationId === membership.generationId + 1;
    membership = { memberId: payload.memberId, generationId };
    assigned = owned;
    for (const [key, lane] of lanes) {
      if (owned.has(key) && continuous) continue;
      // Lost to another member: what waits here is its to read; nothing more is committed for it.
      lane.owned = false;
      for (const item of lane.queue) {
        queuedRecords--;
        queuedBytes -= item.bytes;
      }
      lane.queue = [];
      lanes.delete(key);
      if (lane.running > 0) retiring.set(key, lane);
      toCommit.delete(key);
    }
    adjustFlow();
    options.onAssigned?.(partitions);
  });

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
          gauge.set({ consumer_group: groupId, topic: assignment.topic, partition: String(partition) }, Math.max(0, Number(high - position)));
        }
      }
    };
    const tick = () => {
      void measure().catch((error: unknown) => logger?.debug({ groupId, err: error }, 'consumer lag not measured')).finally(() => {
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
          fallbackMode: options.from === 'earliest' ? MessagesStreamFallbackModes.EARLIEST : MessagesStreamFallbackModes.LATEST,
          autocommit: false,
        });
        stream = opened;
        paused = false;
        opened.once('offsets', () => readyResolve());
        opened.on('data', (message) => take(toRecord(message), message.leaderEpoch));
        opened.on('error', (error) => reopen(opened, error));
        adjustFlow();
        return;
      } catch (error) {
        if (stopping) return;
        if (!isRetriableKafkaError(error) || attempt >= 30) throw error;
        await sleep(Math.min(5_000, 200 * 2 ** attempt));
      }
    }
  }

  /** Closes a failed stream and opens a new one (which joins the group anew), once per failure. */
  function reopen(failed: typeof stream, error: Error): void {
    if (stopping || failed === undefined || failed !== stream) return;
    logger?.warn({ groupId, err: error }, 'Kafka consumer failed; opening its stream again (the group is joined anew)');
    stream = undefined;
    void failed.close().catch(() => undefined).finally(() => void open().catch(gaveUp));
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
      stream?.pause();
      if (running > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((r) => idle.push(r)),
          new Promise<void>((r) => { timer = setTimeout(r, options.stopGraceMs ?? 30_000); }),
        ]);
        clearTimeout(timer);
        if (running > 0) logger?.warn({ groupId, running }, 'handlers still running at stop: their records come again to the next member');
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

