/**
 * In-flight places shared fairly between flows (the unordered mode of record-consumer.ts; a
 * flow is a partition, or a workflow for the dispatcher), so a flow whose records fail or hang
 * for minutes holds up no other: each free place goes to the flow holding the fewest, and a
 * flow never takes the last quarter of them while others may come.
 */

/** The part of the places (1/4) one flow leaves free while it is alone. */
const RESERVED_SHARE = 4;

/** Records that share the in-flight places fairly with other flows. */
export interface Flow<T> {
  readonly key: string;
  /** Records not started yet, oldest first. */
  queue: T[];
  /** Records back from a wait, asking for a place for their next attempt. */
  returning: Array<{ item: T; grant: (granted: boolean) => void }>;
  /** Places held now. */
  placed: number;
  /** Records of this flow without an outcome: the flow is forgotten at 0. */
  items: number;
  /** When it was last given a place: of two flows holding as many, the one served longer ago goes first. */
  servedAt: number;
}

/** A place given: to a record to start, or (with `resume`) to one back from a wait, to be told. */
export interface Grant<T> {
  flow: Flow<T>;
  item: T;
  resume?: (granted: boolean) => void;
}

export class FairPlaces<T> {
  readonly limit: number;
  /**
   * Places a flow alone leaves free for a flow that may come, which can start that many records
   * at once even while the first one's records hang or wait on a slow sink (12 of 50: a one-week
   * backfill's 11 pages all at once). None below 4 places.
   */
  readonly reserve: number;
  /** Places held now, by all flows. */
  placed = 0;
  readonly #flows = new Map<string, Flow<T>>();
  #serveCount = 0;

  constructor(limit: number) {
    this.limit = limit;
    this.reserve = Math.floor(limit / RESERVED_SHARE);
  }

  /** A record joins the queue of the flow `key`, to wait for a place; returns its flow. */
  add(key: string, item: T): Flow<T> {
    let flow = this.#flows.get(key);
    if (!flow) {
      flow = { key, queue: [], returning: [], placed: 0, items: 0, servedAt: 0 };
      this.#flows.set(key, flow);
    }
    flow.items++;
    flow.queue.push(item);
    return flow;
  }

  /** A record of `flow` back from a wait asks for a place again; `grant` tells whether it got one. */
  ask(flow: Flow<T>, item: T, grant: (granted: boolean) => void): void {
    flow.returning.push({ item, grant });
  }

  /** Gives the next free place, if one is to be given: a record back from a wait goes before its flow's queue. */
  grant(): Grant<T> | undefined {
    const flow = this.#next();
    if (!flow) return undefined;
    this.placed++;
    flow.placed++;
    flow.servedAt = ++this.#serveCount;
    const back = flow.returning.shift();
    if (back) return { flow, item: back.item, resume: back.grant };
    return { flow, item: flow.queue.shift() as T };
  }

  /** A record of `flow` gives its place up (an outcome, or a wait for its next attempt). */
  release(flow: Flow<T>): void {
    this.placed--;
    flow.placed--;
  }

  /** A record of `flow` is done with: the flow is forgotten with its last one. */
  forget(flow: Flow<T>): void {
    if (--flow.items === 0 && this.#flows.get(flow.key) === flow) this.#flows.delete(flow.key);
  }

  /** The queued records (not started) that `which` names. */
  queued(which: (item: T) => boolean): T[] {
    return [...this.#flows.values()].flatMap((flow) => flow.queue.filter(which));
  }

  /** Takes these records out of their queues. */
  unqueue(items: ReadonlySet<T>): void {
    for (const flow of this.#flows.values()) flow.queue = flow.queue.filter((item) => !items.has(item));
  }

  /** Takes the queued records `which` names out (each handed to `dropped`), and refuses a place to those asking for one. */
  drop(which: (item: T) => boolean, dropped: (item: T) => void): void {
    for (const flow of [...this.#flows.values()]) {
      flow.queue = flow.queue.filter((item) => {
        if (!which(item)) return true;
        dropped(item);
        return false;
      });
      flow.returning = flow.returning.filter(({ item, grant }) => {
        if (!which(item)) return true;
        grant(false);
        return false;
      });
    }
  }

  /**
   * The flow that gets the next free place: the one holding the fewest. With plenty free
   * anyone may take one; the last `reserve` places go only to a flow below its fair share
   * while another flow is active, so one flow alone never fills them all.
   */
  #next(): Flow<T> | undefined {
    const free = this.limit - this.placed;
    if (free <= 0) return undefined;
    let active = 0;
    for (const flow of this.#flows.values())
      if (flow.placed > 0 || flow.queue.length > 0 || flow.returning.length > 0) active++;
    const fair = Math.floor(this.limit / Math.max(1, active));
    let best: Flow<T> | undefined;
    for (const flow of this.#flows.values()) {
      if (flow.queue.length === 0 && flow.returning.length === 0) continue;
      if (free <= this.reserve && !(active >= 2 && flow.placed < fair)) continue;
      if (!best || flow.placed < best.placed || (flow.placed === best.placed && flow.servedAt < best.servedAt))
        best = flow;
    }
    return best;
  }
}
