/**
 * What a record consumer (record-consumer.ts) takes in: records of the partitions its group
 * assigned it, each once and in order per partition, into the lane of its partition (and, when
 * unordered, the queue of its flow). After a rebalance, records of partitions this member lost
 * are dropped unhandled: their new owner reads them from the committed offset.
 */
import type { ConsumerGroupJoinPayload, GroupAssignment } from '@platformatic/kafka';
import type { OffsetCommits } from './offset-commits.ts';
import { type ConsumerState, dropWaiting, type Item, laneKey, openLane } from './partition-lanes.ts';
import type { PartitionPause } from './partition-pause.ts';
import type { RecordConsumerOptions } from './record-consumer-options.ts';
import type { ConsumedRecord } from './records.ts';

/** After this long reading back from `resumeAt` without getting it, the records there are gone (retention): go on. */
const REWIND_GRACE_MS = 60_000;

export interface RecordIntake {
  /** A record the stream read. */
  take(record: ConsumedRecord, leaderEpoch: number): void;
  /** The member joined its group (again): `current` is the client's assignment when the payload has none. */
  joined(payload: ConsumerGroupJoinPayload, current: GroupAssignment[] | null): void;
}

export function createRecordIntake(
  state: ConsumerState,
  options: Pick<RecordConsumerOptions, 'flowOf' | 'onAssigned'>,
  parts: { pause: PartitionPause; commits: OffsetCommits; pump: () => void },
): RecordIntake {
  const { groupId, logger, lanes, retiring, buffered } = state;
  const { pause } = parts;
  /** The partitions of the current assignment: a fetch answered after a rebalance may still carry others. */
  let assigned = new Set<string>();
  let membership: { memberId: string | null; generationId: number } | undefined;
  /** Partitions this member has had a lane for: one coming back may meet records fetched before it left. */
  const everOwned = new Set<string>();

  function take(record: ConsumedRecord, leaderEpoch: number): void {
    const key = laneKey(record.topic, record.partition);
    if (!assigned.has(key)) return; // fetched for an assignment this member no longer has
    let lane = lanes.get(key);
    if (!lane) {
      if (everOwned.has(key)) {
        // A partition that comes back (or whose lane a rebalance reset) starts where the group
        // committed it. A record beyond that is from a fetch made before the rebalance: taking it
        // would start the lane past records nobody handled (and commit past them), so it is
        // dropped; the stream reads again from the committed offset. (The topics are written
        // without transactions or compaction, so their offsets have no gaps to wait for.)
        const start = state.stream?.offsetsCommitted.get(key);
        if (start === undefined || BigInt(record.offset) !== start) return;
      }
      everOwned.add(key);
      lane = openLane(key, record, leaderEpoch);
      lanes.set(key, lane);
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
    membership = { memberId: payload.memberId, generationId };
    assigned = owned;
    for (const [key, lane] of lanes) {
      if (owned.has(key) && continuous) continue;
      // Lost to another member: what waits here is its to read; nothing more is committed for it,
      // and a handler still retrying one of its records may stop (its signal).
      lane.owned = false;
      lane.abort.abort();
      dropWaiting(state, (item) => item.lane === lane);
      lanes.delete(key);
      if (lane.running > 0) retiring.set(key, lane);
      parts.commits.drop(key);
    }
    pause.adjust();
    options.onAssigned?.(partitions);
  }

  return { take, joined };
}
