/**
 * Flow control of a record consumer (record-consumer.ts): the buffer of records taken in
 * without an outcome is shared between partitions. Reading stops while the buffer is full, and
 * a partition that has made no progress for `stallMs` while the buffer is half full is paused
 * on its own: the client pauses only whole streams, so its records are set aside and read again
 * later, and reading skips over its backlog meanwhile. It keeps at most its share of the
 * buffer, and the rest of the buffer stays for the partitions that move.
 */
import type { Consumer } from '@platformatic/kafka';
import { type ConsumerState, forget, type Item, type Lane } from './partition-lanes.ts';

export interface PartitionPause {
  /** Pauses or resumes reading (the stream, or a stalled partition) after the buffer changed. */
  adjust(): void;
  /** A record of a paused partition: not taken in; reading comes back for it, and skips the partition's backlog meanwhile. */
  setAside(lane: Lane, offset: bigint): void;
  /** Where the stream fetches this partition next (the client offers no per-partition pause, only this position). */
  seek(lane: Lane, offset: bigint): void;
  /** A new stream was opened: it reads, whatever the last one did. */
  streamOpened(): void;
  stop(): void;
}

export function createPartitionPause(
  state: ConsumerState,
  consumer: Consumer,
  limits: {
    /** Records and bytes taken in without an outcome, at most. */
    maxRecords: number;
    maxBytes: number;
    /** A partition none of whose records reached an outcome for this long counts as stalled. */
    stallMs: number;
  },
): PartitionPause {
  const { groupId, logger, lanes, buffered } = state;
  const { maxRecords, maxBytes, stallMs } = limits;
  let streamPaused = false;
  let lanesPaused = false;
  let flowTimer: NodeJS.Timeout | undefined;

  function adjust(): void {
    const { stream } = state;
    if (!stream || state.stopping) return;
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
        if ((lane.buffered > share.records || lane.bufferedBytes > share.bytes) && lane.offsets.highest > lane.started)
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
          adjust();
        },
        Math.max(50, stallMs / 2),
      ).unref();
    }
  }

  /** Gives back a paused lane's newest records not started yet until it is within `share`: they are read again later. */
  function giveBack(lane: Lane, share: { records: number; bytes: number }): void {
    const waiting = state.ordered
      ? lane.queue
      : state.places.queued((item) => item.lane === lane).sort((a, b) => (a.offset < b.offset ? -1 : 1));
    const given = new Set<Item>();
    for (
      let i = waiting.length - 1;
      i >= 0 && (lane.buffered > share.records || lane.bufferedBytes > share.bytes);
      i--
    ) {
      const item = waiting[i] as Item;
      if (item.offset <= lane.started) break;
      given.add(item);
      forget(state, item);
    }
    if (given.size === 0) return;
    let cut = lane.offsets.highest + 1n;
    for (const item of given) if (item.offset < cut) cut = item.offset;
    if (state.ordered) lane.queue = lane.queue.filter((item) => !given.has(item));
    else state.places.unqueue(given);
    lane.offsets.giveBack(cut);
    lane.resumeAt = lane.resumeAt === undefined || cut < lane.resumeAt ? cut : lane.resumeAt;
    logger?.info(
      { groupId, topic: lane.topic, partition: lane.partition, given_back: given.size, from: String(cut) },
      'records of a paused partition given back: they are read again when it moves',
    );
  }

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
        const at = state.stream?.offsetsToFetch.get(lane.key);
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

  function seek(lane: Lane, offset: bigint): void {
    state.stream?.offsetsToFetch.set(lane.key, offset);
  }

  return {
    adjust,
    setAside,
    seek,
    streamOpened: () => {
      streamPaused = false;
    },
    stop: () => clearTimeout(flowTimer),
  };
}
