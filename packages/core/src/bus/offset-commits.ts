/**
 * The commits of a record consumer (record-consumer.ts): each record's offset once it reached
 * its outcome, coalesced, only for partitions this member owns, never backwards.
 */
import type { Consumer } from '@platformatic/kafka';
import { isRetriableKafkaError } from './kafka-errors.ts';
import type { ConsumerState, Lane } from './partition-lanes.ts';

export interface OffsetCommits {
  /** The record at `offset` of `lane` reached its outcome: commit what that allows, soon. */
  done(lane: Lane, offset: bigint): void;
  /** The partition went to another member: nothing waiting is committed for it. */
  drop(key: string): void;
  /** After the last outcome: waits for a commit under way, then commits what is left. */
  flush(): Promise<void>;
}

export function createOffsetCommits(
  state: ConsumerState,
  consumer: Consumer,
  options: {
    /** False for a group that only tails: nothing is committed. */
    commit: boolean;
    /** Offsets are committed together at most this often (RecordConsumerOptions.commitIntervalMs). */
    intervalMs: number;
  },
): OffsetCommits {
  const { groupId, logger } = state;
  const toCommit = new Map<string, { topic: string; partition: number; offset: bigint; leaderEpoch: number }>();
  // What the group has committed per owned partition: the stream keeps it (set when it fixes
  // where a partition starts, raised by every commit that succeeds).
  const committedOf = (key: string): bigint => state.stream?.offsetsCommitted.get(key) ?? -1n;
  let committing: Promise<void> | undefined;
  let commitTimer: NodeJS.Timeout | undefined;
  let lastCommitAt = 0;

  function done(lane: Lane, offset: bigint): void {
    const next = lane.offsets.done(offset);
    if (!options.commit || !lane.owned || !lane.offsets.committable(next)) return;
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
    if (commitTimer !== undefined || committing !== undefined || state.stopping) return;
    commitTimer = setTimeout(
      () => {
        commitTimer = undefined;
        lastCommitAt = Date.now();
        committing = flushCommits().finally(() => {
          committing = undefined;
          if (toCommit.size > 0) scheduleCommit();
        });
      },
      Math.max(0, lastCommitAt + options.intervalMs - Date.now()),
    );
  }

  async function flushCommits(): Promise<void> {
    // Only partitions this member still owns (the lanes map holds no other).
    const offsets = [...toCommit.entries()].filter(([key]) => state.lanes.has(key));
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

  return {
    done,
    drop: (key) => void toCommit.delete(key),
    async flush() {
      clearTimeout(commitTimer);
      await committing;
      if (options.commit) await flushCommits();
    },
  };
}
