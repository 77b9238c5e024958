/**
 * Order books of the exchange simulator (a stand-in for Binance): one synthetic book per
 * (market, symbol), moved every 100 ms of exchange time around the symbol's price path,
 * whose updates feed the diff-depth and bookTicker streams and whose state answers the
 * REST depth snapshot. Update ids follow each market's contract (docs/binance.md, local
 * order book): spot events are contiguous (`U` = previous `u` + 1); USD-M ids jump (they are
 * shared with other symbols on the real exchange) and each update names the previous one
 * in `pu`. A recorded snapshot (replay of a capture) is served unchanged instead.
 */
import type { DepthSnapshot, Market } from '@streamforge/core/contracts';
import type { MarketData } from './market-data.ts';
import { hashString, unit } from './random.ts';
import { numberFormat, type NumberFormat } from './synthetic.ts';

/** One book change: the absolute quantities of the levels it touched (qty "0" removes a level). */
export interface DepthUpdate {
  U: number;
  u: number;
  pu: number;
  /** Exchange time of the change. */
  E: number;
  bids: Array<[string, string]>;
  asks: Array<[string, string]>;
  /** Best bid/ask after the change, for bookTicker. */
  best: { b: string; B: string; a: string; A: string };
}

export const BOOK_TICK_MS = 100;
/** Levels kept on each side of the synthetic book (a REST snapshot returns at most this many). */
const LEVELS = 250;
/** Updates kept for streams that are behind (60 s of exchange time). */
const RETAINED = 600;
/** A book nobody read for longer than this is rebuilt instead of replayed tick by tick. */
const MAX_CATCH_UP_TICKS = 3000;

class SyntheticBook {
  readonly updates: DepthUpdate[] = [];
  readonly #market: Market;
  readonly #format: NumberFormat;
  readonly #seed: number;
  readonly #price: (t: number) => number;
  readonly #bids = new Map<number, number>();
  readonly #asks = new Map<number, number>();
  #lastTick = 0;
  #lastId: number;
  #bestBid = 0;

  constructor(market: Market, symbol: string, data: MarketData, now: number) {
    this.#market = market;
    this.#format = numberFormat(data.spec(market, symbol), market);
    this.#seed = hashString(`depth:${market}:${symbol}`);
    const path = data.pricePath(symbol);
    this.#price = (t) => path.at(t);
    // Ids start high, as Binance's do, and differ per symbol.
    this.#lastId = 1_000_000_000 + (this.#seed % 1_000_000) * 1000;
    this.#rebuild(Math.floor(now / BOOK_TICK_MS) * BOOK_TICK_MS);
  }

  get lastUpdateId(): number {
    return this.#lastId;
  }

  snapshot(limit: number, now: number): DepthSnapshot {
    const side = (levels: Map<number, number>, descending: boolean): Array<[string, string]> =>
      [...levels.entries()]
        .sort((x, y) => (descending ? y[0] - x[0] : x[0] - y[0]))
        .slice(0, limit)
        .map(([p, q]) => [this.#px(p), this.#qty(q)]);
    const body: DepthSnapshot = {
      lastUpdateId: this.#lastId,
      bids: side(this.#bids, true),
      asks: side(this.#asks, false),
    };
    return this.#market === 'usdm'
      ? { lastUpdateId: body.lastUpdateId, E: now, T: this.#lastTick, bids: body.bids, asks: body.asks }
      : body;
  }

  /** Moves the book to `now`, one tick at a time. */
  advance(now: number): void {
    const target = Math.floor(now / BOOK_TICK_MS) * BOOK_TICK_MS;
    if (target - this.#lastTick > MAX_CATCH_UP_TICKS * BOOK_TICK_MS) {
      this.#rebuild(target);
      return;
    }
    for (let t = this.#lastTick + BOOK_TICK_MS; t <= target; t += BOOK_TICK_MS) this.#tick(t);
  }

  #px(p: number): string {
    return this.#format.price(p * this.#format.tick);
  }

  #qty(q: number): string {
    return this.#format.qty(q * this.#format.step);
  }

  #randomQty(t: number, level: number): number {
    // Mostly small levels, a few large walls; in steps of the quantity precision.
    const u = unit(this.#seed, t / BOOK_TICK_MS, level);
    return 1 + Math.floor(-Math.log(1 - u) * 400);
  }

  #target(t: number): number {
    return Math.max(2, Math.floor(this.#price(t) / this.#format.tick));
  }

  #rebuild(t: number): void {
    this.#bids.clear();
    this.#asks.clear();
    const best = this.#target(t);
    for (let i = 0; i < LEVELS; i++) {
      if (best - i > 0) this.#bids.set(best - i, this.#randomQty(t, 2 * i));
      this.#asks.set(best + 1 + i, this.#randomQty(t, 2 * i + 1));
    }
    this.#bestBid = best;
    this.#lastTick = t;
    this.#lastId += 10_000; // unseen changes happened in between
    this.updates.length = 0;
  }

  #tick(t: number): void {
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    const set = (side: 'bid' | 'ask', p: number, q: number): void => {
      const book = side === 'bid' ? this.#bids : this.#asks;
      if (q === 0) {
        if (!book.has(p)) return;
        book.delete(p);
      } else {
        book.set(p, q);
      }
      (side === 'bid' ? bids : asks).set(p, q);
    };
    const best = this.#target(t);
    if (best !== this.#bestBid) {
      // Levels that would cross the new mid leave the book; the side it moved away from refills.
      for (const p of [...this.#bids.keys()]) if (p > best || p <= best - LEVELS) set('bid', p, 0);
      for (const p of [...this.#asks.keys()]) if (p <= best || p > best + LEVELS) set('ask', p, 0);
      for (let i = 0; i < LEVELS; i++) {
        if (best - i > 0 && !this.#bids.has(best - i)) set('bid', best - i, this.#randomQty(t, 2 * i));
        if (!this.#asks.has(best + 1 + i)) set('ask', best + 1 + i, this.#randomQty(t, 2 * i + 1));
      }
      this.#bestBid = best;
    }
    // A few quantity changes near the top of the book every tick.
    const changes = 1 + Math.floor(unit(this.#seed, t, 7) * 6);
    for (let k = 0; k < changes; k++) {
      const depth = Math.floor(unit(this.#seed, t, 8 + k) ** 2 * 20);
      const side = unit(this.#seed, t, 30 + k) < 0.5 ? 'bid' : 'ask';
      const p = side === 'bid' ? best - depth : best + 1 + depth;
      if (p > 0) set(side, p, unit(this.#seed, t, 50 + k) < 0.1 && depth > 0 ? 0 : this.#randomQty(t, 100 + k));
    }
    this.#lastTick = t;
    const count = bids.size + asks.size;
    if (count === 0) return;
    const jump = this.#market === 'usdm' ? Math.floor(unit(this.#seed, t, 90) * 40) : 0;
    const U = this.#lastId + 1 + jump;
    const u = U + count - 1 + (this.#market === 'usdm' ? Math.floor(unit(this.#seed, t, 91) * 10) : 0);
    const bestBid = Math.max(...this.#bids.keys());
    const bestAsk = Math.min(...this.#asks.keys());
    this.updates.push({
      U,
      u,
      pu: this.#lastId,
      E: t,
      bids: [...bids].map(([p, q]) => [this.#px(p), this.#qty(q)]),
      asks: [...asks].map(([p, q]) => [this.#px(p), this.#qty(q)]),
      best: {
        b: this.#px(bestBid),
        B: this.#qty(this.#bids.get(bestBid)!),
        a: this.#px(bestAsk),
        A: this.#qty(this.#asks.get(bestAsk)!),
      },
    });
    if (this.updates.length > RETAINED) this.updates.splice(0, this.updates.length - RETAINED);
    this.#lastId = u;
  }
}

/** Every book of the simulator, created on first use. */
export class DepthBooks {
  readonly #data: MarketData;
  readonly #books = new Map<string, SyntheticBook>();
  readonly #recorded = new Map<string, DepthSnapshot>();

  constructor(data: MarketData) {
    this.#data = data;
  }

  /** Serves this snapshot for the symbol's REST depth instead of a synthetic book (replay of a capture). */
  record(market: Market, symbol: string, snapshot: DepthSnapshot): void {
    this.#recorded.set(`${market}:${symbol}`, snapshot);
  }

  hasRecorded(market: Market, symbol: string): boolean {
    return this.#recorded.has(`${market}:${symbol}`);
  }

  #book(market: Market, symbol: string, now: number): SyntheticBook {
    const key = `${market}:${symbol}`;
    let book = this.#books.get(key);
    if (book === undefined) {
      book = new SyntheticBook(market, symbol, this.#data, now);
      this.#books.set(key, book);
    }
    book.advance(now);
    return book;
  }

  /** The REST depth body: the book as of `now`, best `limit` levels per side. */
  snapshot(market: Market, symbol: string, limit: number, now: number): DepthSnapshot {
    const recorded = this.#recorded.get(`${market}:${symbol}`);
    if (recorded !== undefined)
      return { ...recorded, bids: recorded.bids.slice(0, limit), asks: recorded.asks.slice(0, limit) };
    return this.#book(market, symbol, now).snapshot(limit, now);
  }

  /** Updates with `u` above `afterId` up to `now`, oldest first (fewer when the stream fell behind what is kept). */
  updatesAfter(market: Market, symbol: string, afterId: number, now: number): DepthUpdate[] {
    const updates = this.#book(market, symbol, now).updates;
    let i = updates.length;
    while (i > 0 && updates[i - 1]!.u > afterId) i--;
    return updates.slice(i);
  }

  /** The id of the newest update as of `now` (a stream subscribed now starts after it). */
  lastUpdateId(market: Market, symbol: string, now: number): number {
    return this.#book(market, symbol, now).lastUpdateId;
  }
}
