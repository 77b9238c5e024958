/**
 * The offsets of one partition between their arrival and their outcome, and the next one its
 * group may commit. Records reach their outcome out of order (unordered mode, a retry), but a
 * commit never passes a record without one, so a crash redelivers instead of losing.
 */
export class CommitTracker {
  /** Offsets taken in without an outcome, in order: the first one bounds what may be committed. */
  readonly #outstanding: bigint[] = [];
  /** Highest offset taken in: a refetch after a rebalance repeats records, which are dropped. */
  highest: bigint;
  /** The first offset taken in: where this member started, so nothing below it is committed. */
  readonly floor: bigint;
  /** The next offset to commit once everything before it had its outcome. */
  position: bigint | undefined;

  /** Tracks a partition from `first`, the first offset this member takes in. */
  constructor(first: bigint) {
    this.highest = first - 1n;
    this.floor = first;
  }

  /** Not taken in before (a refetch after a rebalance repeats records). */
  isNew(offset: bigint): boolean {
    return offset > this.highest;
  }

  /** The record at `offset`, the next one read, is taken in and waits for its outcome. */
  take(offset: bigint): void {
    this.highest = offset;
    this.#outstanding.push(offset);
  }

  /** The record at `offset` reached its outcome: the next offset to commit (`position`). */
  done(offset: bigint): bigint {
    const at = this.#outstanding.indexOf(offset);
    if (at >= 0) this.#outstanding.splice(at, 1);
    const next = this.#outstanding[0] ?? this.highest + 1n;
    this.position = next;
    return next;
  }

  /** The first offset without an outcome: where the partition must be read again if this member lets it go now. */
  get unfinished(): bigint {
    return this.#outstanding[0] ?? this.highest + 1n;
  }

  /** Committing `next` moves the group on from where this member started. */
  committable(next: bigint): boolean {
    return next > this.floor;
  }

  /** The records from `cut` on were given back, to be read again: as if they had never been taken in. */
  giveBack(cut: bigint): void {
    while ((this.#outstanding.at(-1) ?? -1n) >= cut) this.#outstanding.pop();
    this.highest = cut - 1n;
  }
}
