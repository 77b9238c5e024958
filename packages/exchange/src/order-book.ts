/**
 * A local order book kept by Binance's snapshot-plus-diff procedure (docs/binance.md, local
 * order book): buffer the diff events, take a REST snapshot, drop the events it
 * already contains, check that the first kept event bridges it, then apply events in
 * sequence — spot by `U` = previous `u` + 1, USD-M by `pu` = previous `u` — and start over
 * from a new snapshot whenever the chain breaks. Quantities are absolute; zero removes a
 * level (removing an absent level is normal). Prices and quantities stay Binance's strings.
 */
import type { DepthSnapshot, Market } from '@streamforge/core/contracts';

/** A diff-depth event (`depthUpdate`) as the stream sends it; `pu` on USD-M only. */
export interface DepthEvent {
  U: number;
  u: number;
  pu?: number;
  E?: number;
  T?: number;
  b: Array<[string, string]>;
  a: Array<[string, string]>;
}

export interface BookSide {
  /** Best first: bids descending, asks ascending. */
  levels: Array<[string, string]>;
}

export interface BookView {
  lastUpdateId: number;
  bids: Array<[string, string]>;
  asks: Array<[string, string]>;
}

export type SyncState = 'idle' | 'buffering' | 'synced';

export interface OrderBookStats {
  applied: number;
  ignored: number;
  snapshots: number;
  resyncs: number;
  /** Why the last resync happened. */
  lastResync?: string;
}

export interface OrderBookSyncOptions {
  market: Market;
  symbol: string;
  /** The REST depth snapshot (`/api/v3/depth` or `/fapi/v1/depth`). */
  fetchSnapshot(): Promise<DepthSnapshot>;
  /** Events kept while waiting for a snapshot; the oldest go first beyond it. Default 20 000. */
  maxBuffered?: number;
  /** Called when the chain broke and the book starts over, with the reason. */
  onResync?(reason: string): void;
  /** Called when a snapshot could not be fetched; the next event tries again. */
  onSnapshotError?(error: unknown): void;
}

function isZero(qty: string): boolean {
  return Number(qty) === 0;
}

/** Levels of one side, sorted best first. */
function sorted(side: Map<string, string>, descending: boolean, limit: number): Array<[string, string]> {
  // Each price parsed once, not twice per comparison: books hold a thousand levels and more.
  const keyed = [...side.entries()].map((level) => ({ price: Number(level[0]), level }));
  keyed.sort((x, y) => (descending ? y.price - x.price : x.price - y.price));
  return (keyed.length > limit ? keyed.slice(0, limit) : keyed).map((k) => k.level);
}

export class OrderBookSync {
  readonly market: Market;
  readonly symbol: string;
  readonly stats: OrderBookStats = { applied: 0, ignored: 0, snapshots: 0, resyncs: 0 };
  readonly #options: OrderBookSyncOptions;
  readonly #bids = new Map<string, string>();
  readonly #asks = new Map<string, string>();
  #buffer: DepthEvent[] = [];
  #state: SyncState = 'idle';
  #lastUpdateId = 0;
  #fetching: Promise<void> | undefined;
  /** Bumped on every resync, so a snapshot that arrives for an earlier attempt is dropped. */
  #generation = 0;
  #changed = false;
  /** Whether an event has been applied since the snapshot: the first one is checked by the bridge rule, the next by the chain rule. */
  #bridged = false;

  constructor(options: OrderBookSyncOptions) {
    this.market = options.market;
    this.symbol = options.symbol;
    this.#options = options;
  }

  get state(): SyncState {
    return this.#state;
  }

  get lastUpdateId(): number {
    return this.#lastUpdateId;
  }

  /** Whether the book changed since the last `takeChanged()`. */
  takeChanged(): boolean {
    const changed = this.#changed;
    this.#changed = false;
    return changed && this.#state === 'synced';
  }

  /** Feeds one diff event; while no snapshot is applied the event is buffered and a snapshot fetched. */
  push(event: DepthEvent): void {
    if (this.#state !== 'synced') {
      this.#buffer.push(event);
      const max = this.#options.maxBuffered ?? 20_000;
      if (this.#buffer.length > max) this.#buffer.splice(0, this.#buffer.length - max);
      if (this.#state === 'idle') this.#state = 'buffering';
      this.#fetch();
      return;
    }
    this.#applyLive(event);
  }

  /** Resolves once a snapshot fetch in flight (if any) has been handled. */
  async settled(): Promise<void> {
    while (this.#fetching !== undefined) await this.#fetching;
  }

  /** The book, best `limit` levels per side (all by default). */
  view(limit = Number.POSITIVE_INFINITY): BookView {
    return {
      lastUpdateId: this.#lastUpdateId,
      bids: sorted(this.#bids, true, limit),
      asks: sorted(this.#asks, false, limit),
    };
  }

  /** Drops the book and waits for the next event to start over (e.g. after the stream reconnected). */
  reset(reason: string): void {
    this.#startOver(reason, undefined);
  }

  #startOver(reason: string, event: DepthEvent | undefined): void {
    this.#generation += 1;
    this.#bids.clear();
    this.#asks.clear();
    this.#lastUpdateId = 0;
    this.#buffer = event === undefined ? [] : [event];
    this.#state = event === undefined ? 'idle' : 'buffering';
    this.stats.resyncs += 1;
    this.stats.lastResync = reason;
    this.#options.onResync?.(reason);
    if (event !== undefined) this.#fetch();
  }

  #fetch(): void {
    if (this.#fetching !== undefined) return;
    const generation = this.#generation;
    this.#fetching = this.#options
      .fetchSnapshot()
      .then((snapshot) => {
        this.#fetching = undefined;
        if (generation === this.#generation) this.#applySnapshot(snapshot);
        else if (this.#state === 'buffering') this.#fetch();
      })
      .catch((error: unknown) => {
        this.#fetching = undefined;
        this.#options.onSnapshotError?.(error);
      });
  }

  #applySnapshot(snapshot: DepthSnapshot): void {
    this.stats.snapshots += 1;
    const id = snapshot.lastUpdateId;
    const first = this.#buffer[0];
    // Spot step 4: a snapshot older than the first buffered event cannot be bridged; take another.
    if (this.market === 'spot' && first !== undefined && id < first.U) {
      this.#fetch();
      return;
    }
    // Drop what the snapshot already holds: spot u <= lastUpdateId, USD-M u < lastUpdateId.
    const pending = this.#buffer.filter((e) => (this.market === 'spot' ? e.u > id : e.u >= id));
    const bridge = pending[0];
    if (bridge === undefined) {
      // No event after the snapshot yet: keep waiting with this snapshot in hand.
      this.#install(snapshot);
      this.#buffer = [];
      return;
    }
    const bridges =
      this.market === 'spot' ? bridge.U <= id + 1 && id + 1 <= bridge.u : bridge.U <= id && id <= bridge.u;
    if (!bridges) {
      // Events between the snapshot and the first kept event are missing: a newer snapshot is needed.
      this.#buffer = pending;
      this.#fetch();
      return;
    }
    this.#install(snapshot);
    this.#buffer = [];
    this.#apply(bridge);
    for (const event of pending.slice(1)) {
      if (this.#state !== 'synced') {
        this.#buffer.push(event);
        continue;
      }
      this.#applyLive(event);
    }
  }

  #install(snapshot: DepthSnapshot): void {
    this.#bids.clear();
    this.#asks.clear();
    for (const [p, q] of snapshot.bids) if (!isZero(q)) this.#bids.set(p, q);
    for (const [p, q] of snapshot.asks) if (!isZero(q)) this.#asks.set(p, q);
    this.#lastUpdateId = snapshot.lastUpdateId;
    this.#state = 'synced';
    this.#changed = true;
    this.#bridged = false;
  }

  #applyLive(event: DepthEvent): void {
    const local = this.#lastUpdateId;
    // USD-M's bridging event may end exactly at the snapshot's id (U <= lastUpdateId <= u).
    const stale = this.market === 'usdm' && !this.#bridged ? event.u < local : event.u <= local;
    if (stale) {
      this.stats.ignored += 1; // already in the book (older event, or a duplicate from an overlapping connection)
      return;
    }
    if (!this.#bridged) {
      const ok = this.market === 'spot' ? event.U <= local + 1 : event.U <= local;
      if (!ok) return this.#startOver(`first event after the snapshot starts at ${event.U}, after ${local}`, event);
    } else if (this.market === 'spot' ? event.U !== local + 1 : event.pu !== local) {
      const why = this.market === 'spot' ? `U ${event.U} is not ${local + 1}` : `pu ${event.pu} is not ${local}`;
      return this.#startOver(`update chain broken: ${why}`, event);
    }
    this.#apply(event);
  }

  #apply(event: DepthEvent): void {
    for (const [p, q] of event.b) {
      if (isZero(q)) this.#bids.delete(p);
      else this.#bids.set(p, q);
    }
    for (const [p, q] of event.a) {
      if (isZero(q)) this.#asks.delete(p);
      else this.#asks.set(p, q);
    }
    this.#lastUpdateId = event.u;
    this.#bridged = true;
    this.#changed = true;
    this.stats.applied += 1;
  }
}
