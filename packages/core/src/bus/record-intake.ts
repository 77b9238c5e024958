/**
 * What a record consumer (record-consumer.ts) takes in: records of the partitions its group
 * assigned it, each once and in order per partition, into the lane of its partition (and, when
 * unordered, the queue of its flow). After a rebalance, records of partitions this member lost
 * are dropped unhandled: their new owner reads them from the committed offset.
 */
import type { ConsumerGroupJoinPayload, GroupAssignment } from '@platformatic/kafka';
import { backoffDelay, sleep, type Backoff } from '../retry/backoff.ts';
import type { OffsetCommits } from './offset-commits.ts';
import { type ConsumerState, dropWaiting, type Item, laneKey, openLane } from './partition-lanes.ts';
import type { PartitionPause } from './partition-pause.ts';
import type { RecordConsumerOptions } from './record-consumer-options.ts';
import type { ConsumedRecord } from './records.ts';

/** After this long reading back from `resumeAt` without getting it, the records there are gone (retention): go on. */
const REWIND_GRACE_MS = 60_000;

/** Records only past where a partition is to start again for this long: the group is asked again where it starts. */
const RESTART_RECHECK_MS = 5_000;

/** Asking the group where partitions start again: 0.2 s doubling to 5 s, for as long as the assignment holds. */
const ASK_BACKOFF: Backoff = { baseMs: 200, maxMs: 5_000 };

export interface PartitionRef {
  topic: string;
  partition: number;
}

export interface RecordIntake {
  /** A record the stream read. */
  take(record: ConsumedRecord, leaderEpoch: number): void;
  /** The member joined its group (again): `current` is the client's assignment when the payload has none. */
  joined(payload: ConsumerGroupJoinPayload, current: GroupAssignment[] | null): void;
  /** The stream (re)set where it fetches each owned partition (after every join): partitions starting again are sent back to their start. */
  offsetsFixed(): void;
}

export function createRecordIntake(
  state: ConsumerState,
  options: Pick<RecordConsumerOptions, 'flowOf' | 'onAssigned'>,
  parts: {
    pause: PartitionPause;
    commits: OffsetCommits;
    pump: () => void;
    /** Each partition's offset committed by the group (-1 when it has none) and first offset in the log, by `laneKey`. */
    positions: (
      partitions: PartitionRef[],
    ) => Promise<Map<string, { committed: bigint; logStart: bigint; logEnd?: bigint }>>;
  },
): RecordIntake {
  const { groupId, logger, lanes, retiring, buffered } = state;
  const { pause } = parts;
  /** The partitions of the current assignment: a fetch answered after a rebalance may still carry others. */
  let assigned = new Set<string>();
  let membership: { memberId: string | null; generationId: number } | undefined;
  /**
   * Partitions this member has had a lane for (one coming back may meet records fetched before
   * it left), each with the first offset its last lane had no outcome for.
   */
  const leftOff = new Map<string, bigint>();
  /** Partitions of the assignment whose lane is to open again, once known at which offset (and since when). */
  const restartAt = new Map<string, { offset: bigint; since: number; ref: PartitionRef }>();
  /** Partitions whose start the group is being asked for now: one question at a time each. */
  const asking = new Set<string>();
  /** Counts joins: an answer about an earlier assignment is not applied. */
  let round = 0;
  /** Partitions whose stream was sent back to their start since the last join (logged once each). */
  const sentBack = new Set<string>();

  const seek = (key: string, offset: bigint) => void state.stream?.offsetsToFetch.set(key, offset);

  function take(record: ConsumedRecord, leaderEpoch: number): void {
    const key = laneKey(record.topic, record.partition);
    if (!assigned.has(key)) return; // fetched for an assignment this member no longer has
    let lane = lanes.get(key);
    if (!lane) {
      if (leftOff.has(key)) {
        // A partition that comes back (or whose lane a rebalance reset) starts again where the
        // group committed it, or, without a commit, at the first record this member had no
        // outcome for (restartAt; the stream's own idea of it, without a commit, is where it
        // last fetched, past records nobody handled). Until that is known, and for a record
        // elsewhere (a fetch made before the rebalance), nothing is taken: starting the lane
        // past records nobody handled would commit past them. The stream is sent back to the
        // start. (The topics are written without transactions or compaction, so their offsets
        // have no gaps to wait for.)
        const restart = restartAt.get(key);
        if (restart === undefined) return;
        const start = restart.offset;
        const offset = BigInt(record.offset);
        if (offset !== start) {
          if (offset > start) {
            seek(key, start);
            if (!sentBack.has(key)) {
              sentBack.add(key);
              logger?.info(
                { groupId, topic: record.topic, partition: record.partition, from: String(start), read: record.offset },
                'records fetched past where a partition starts again after a rebalance: not taken, read again from its start',
              );
            }
            // Still only records past the start after a while: retention may have removed it
            // meanwhile. The group is asked again (never a record taken past the start unasked).
            if (Date.now() - restart.since >= RESTART_RECHECK_MS) {
              restart.since = Date.now();
              void findStarts(round, [{ topic: record.topic, partition: record.partition }]);
            }
          }
          return;
        }
        restartAt.delete(key);
      }
      lane = openLane(key, record, leaderEpoch);
      lanes.set(key, lane);
      leftOff.set(key, lane.offsets.unfinished);
    }
    const offset = BigInt(record.offset);
    if (!lane.offsets.isNew(offset)) return; // read again after a rebalance: already taken in
    if (lane.paused) return pause.setAside(lane, offset);
    if (lane.resumeAt !== undefined) {
      // Reading went back to where the lane stopped taking records; a fetch made before that
      // may still bring later ones, which would leave a hole: ask again from resumeAt.
      if (offset > lane.resumeAt && Date.now() - lane.rewoundAt < REWIND_GRACE_MS)
        return pause.seek(lane, lane.resumeAt);
      if (offset > lane.resumeAt)
        logger?.warn(
          { groupId, topic: lane.topic, partition: lane.partition, from: String(lane.resumeAt), to: String(offset) },
          'records set aside are no longer in the log (retention?); going on after them',
        );
      if (offset >= lane.resumeAt) lane.resumeAt = undefined;
    }
    lane.offsets.take(offset);
    lane.leaderEpoch = leaderEpoch;
    const item: Item = {
      lane,
      record,
      offset,
      bytes: (record.value?.byteLength ?? 0) + (record.key?.byteLength ?? 0),
      flow: undefined,
      placed: false,
    };
    if (lane.buffered === 0) lane.movedAt = Date.now();
    lane.buffered++;
    lane.bufferedBytes += item.bytes;
    buffered.records++;
    buffered.bytes += item.bytes;
    if (state.ordered) lane.queue.push(item);
    else item.flow = state.places.add(options.flowOf?.(record) ?? key, item);
    parts.pump();
  }

  function joined(payload: ConsumerGroupJoinPayload, current: GroupAssignment[] | null): void {
    const owned = new Set<string>();
    const partitions: Array<{ topic: string; partition: number }> = [];
    for (const assignment of payload.assignments ?? current ?? []) {
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
    if (membership !== undefined && !continuous)
      logger?.info(
        {
          groupId,
          memberId: payload.memberId,
          generationId,
          was: membership,
          lanes: lanes.size,
          buffered: buffered.records,
        },
        'member joined its group anew (a new member id or a skipped generation): what it holds is read again',
      );
    membership = { memberId: payload.memberId, generationId };
    assigned = owned;
    const thisRound = ++round;
    for (const [key, lane] of lanes) {
      if (owned.has(key) && continuous) continue;
      // Lost to another member: what waits here is its to read; nothing more is committed for it,
      // and a handler still retrying one of its records may stop (its signal).
      leftOff.set(key, lane.offsets.unfinished);
      lane.owned = false;
      lane.abort.abort();
      dropWaiting(state, (item) => item.lane === lane);
      lanes.delete(key);
      if (lane.running > 0) retiring.set(key, lane);
      parts.commits.drop(key);
    }
    restartAt.clear();
    sentBack.clear();
    const restarting = partitions.filter((p) => {
      const key = laneKey(p.topic, p.partition);
      return leftOff.has(key) && !lanes.has(key);
    });
    if (restarting.length > 0) void findStarts(thisRound, restarting);
    pause.adjust();
    options.onAssigned?.(partitions);
  }

  /** Asks the group where partitions whose lane is to open again start, and sends the stream there. */
  async function findStarts(asked: number, restarting: PartitionRef[]): Promise<void> {
    const keys = restarting.map(({ topic, partition }) => laneKey(topic, partition));
    for (const key of keys) asking.add(key);
    try {
      await askStarts(asked, restarting);
    } finally {
      for (const key of keys) asking.delete(key);
    }
  }

  async function askStarts(asked: number, restarting: PartitionRef[]): Promise<void> {
    for (let attempt = 1; asked === round && !state.stopping; attempt++) {
      let positions: Map<string, { committed: bigint; logStart: bigint; logEnd?: bigint }>;
      try {
        positions = await parts.positions(restarting);
      } catch (error) {
        logger?.warn(
          { groupId, err: error, partitions: restarting.length },
          'where partitions start again after a rebalance is not known yet; asking the group again',
        );
        await sleep(backoffDelay(ASK_BACKOFF, attempt));
        continue;
      }
      if (asked !== round || state.stopping) return;
      for (const { topic, partition } of restarting) {
        const key = laneKey(topic, partition);
        const { committed = -1n, logStart = 0n, logEnd } = positions.get(key) ?? {};
        const wanted = committed >= 0n ? committed : (leftOff.get(key) as bigint);
        // Records retention removed are not waited for, nor records a truncated log no longer has.
        const kept = wanted > logStart ? wanted : logStart;
        const start = logEnd !== undefined && kept > logEnd ? logEnd : kept;
        restartAt.set(key, { offset: start, since: Date.now(), ref: { topic, partition } });
        seek(key, start);
        logger?.info(
          {
            groupId,
            topic,
            partition,
            from: String(start),
            left_off: String(leftOff.get(key)),
            committed: committed >= 0n ? String(committed) : null,
            log_start: String(logStart),
            log_end: logEnd === undefined ? null : String(logEnd),
          },
          committed >= 0n
            ? 'partition read again from its committed offset after a rebalance'
            : 'partition read again after a rebalance from the first record this member had no outcome for (the group has no commit for it)',
        );
      }
      return;
    }
  }

  /**
   * The stream set its fetch positions on its own: after a join (from what the client takes for
   * the commit) or after recovering from an out-of-range fetch (to the log's start or end, when
   * the start known here was removed by retention or truncated away). Re-applying the old start
   * blindly would send a recovered stream out of range again, for ever; asking the group again
   * gives a start inside the log either way.
   */
  function offsetsFixed(): void {
    const again = [...restartAt.entries()].filter(([key]) => !asking.has(key)).map(([, { ref }]) => ref);
    if (again.length > 0) void findStarts(round, again);
  }

  return { take, joined, offsetsFixed };
}
