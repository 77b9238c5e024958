/**
 * The message sources of the simulator's WebSocket streams (a stand-in for Binance): one
 * feed per (market, stream), shared by every connection subscribed to it, producing the
 * messages whose event time has come, with Binance's payloads (docs/binance.md).
 * Everything comes from the same MarketData and DepthBooks as the REST routes, so a kline's
 * final `x:true` message equals the REST kline, aggTrade ids are the REST ids, and depth
 * update ids line up with the REST snapshot's `lastUpdateId`.
 */
import { candleOpenTime, closeTime, nextOpenTime, type Interval } from '@streamforge/core/contracts';
import type { Market } from '@streamforge/core/contracts';
import type { DepthBooks, DepthUpdate } from './ws-depth-books.ts';
import type { MarketData } from './market-data.ts';
import { rawTradesOf } from './ws-raw-trades.ts';
import { klineUpdateMs, type StreamSpec } from './ws-streams.ts';

export interface FeedMessage {
  /** Event time (exchange clock). */
  E: number;
  /** The raw payload, as `/ws/<stream>` sends it. */
  raw: string;
}

export interface Feed {
  readonly spec: StreamSpec;
  /** The messages due up to `now`, oldest first. */
  advance(now: number): Promise<FeedMessage[]>;
}

export interface FeedContext {
  market: Market;
  data: MarketData;
  books: DepthBooks;
}

/** What every feed keeps: the stream it serves and the market data it reads. */
abstract class FeedBase implements Feed {
  readonly spec: StreamSpec;
  protected readonly ctx: FeedContext;

  constructor(ctx: FeedContext, spec: StreamSpec) {
    this.spec = spec;
    this.ctx = ctx;
  }

  abstract advance(now: number): Promise<FeedMessage[]>;
}

/** At most this many aggregate trades per feed per pump; the rest follow on the next one. */
const TRADES_PER_ADVANCE = 5_000;

class KlineFeed extends FeedBase {
  readonly #interval: Interval;
  readonly #updateMs: number;
  #openTime: number;
  #nextUpdateAt: number;

  constructor(ctx: FeedContext, spec: StreamSpec, now: number) {
    super(ctx, spec);
    this.#interval = spec.interval!;
    this.#updateMs = klineUpdateMs(ctx.market, this.#interval);
    this.#openTime = candleOpenTime(this.#interval, now);
    // Updates fall on whole update periods from the candle's open (2 s, 4 s, … of a 1m candle).
    this.#nextUpdateAt = this.#openTime + (Math.floor((now - this.#openTime) / this.#updateMs) + 1) * this.#updateMs;
  }

  async advance(now: number): Promise<FeedMessage[]> {
    const out: FeedMessage[] = [];
    for (;;) {
      const closeAt = nextOpenTime(this.#interval, this.#openTime);
      if (this.#nextUpdateAt < closeAt) {
        if (this.#nextUpdateAt > now) break;
        const message = await this.#message(this.#openTime, this.#nextUpdateAt, false);
        if (message) out.push(message);
        this.#nextUpdateAt += this.#updateMs;
        continue;
      }
      if (closeAt > now) break;
      // The candle's final message, at its close, with the values REST serves for it from then on.
      const message = await this.#message(this.#openTime, closeAt, true);
      if (message) out.push(message);
      this.#openTime = closeAt;
      this.#nextUpdateAt = closeAt + this.#updateMs;
    }
    return out;
  }

  async #message(openTime: number, at: number, closed: boolean): Promise<FeedMessage | undefined> {
    const { market, data } = this.ctx;
    const symbol = this.spec.symbol;
    const row = (
      await data.klines(market, symbol, this.#interval, { startTime: openTime, endTime: openTime, limit: 1 }, at)
    )[0];
    if (row === undefined) return undefined;
    const last = Math.min(at, closeTime(this.#interval, openTime));
    const first = data.aggTrades(market, symbol, { startTime: openTime, endTime: last, limit: 1 }, at)[0];
    const newest = first === undefined ? undefined : data.aggTrades(market, symbol, { endTime: last, limit: 1 }, at)[0];
    const k = `{"t":${row[0]},"T":${row[6]},"s":"${symbol}","i":"${this.#interval}","f":${first?.f ?? -1},"L":${newest?.l ?? -1},"o":"${row[1]}","c":"${row[4]}","h":"${row[2]}","l":"${row[3]}","v":"${row[5]}","n":${row[8]},"x":${closed},"q":"${row[7]}","V":"${row[9]}","Q":"${row[10]}","B":"0"}`;
    return { E: at, raw: `{"e":"kline","E":${at},"s":"${symbol}","k":${k}}` };
  }
}

/** aggTrade (one message per aggregate trade) or trade (one per raw trade inside it), spot and USD-M. */
class TradeFeed extends FeedBase {
  #lastAgg: number;

  constructor(ctx: FeedContext, spec: StreamSpec, now: number) {
    super(ctx, spec);
    this.#lastAgg = ctx.data.aggTrades(ctx.market, spec.symbol, { limit: 1 }, now)[0]?.a ?? -1;
  }

  async advance(now: number): Promise<FeedMessage[]> {
    const { market, data } = this.ctx;
    const symbol = this.spec.symbol;
    const spot = market === 'spot';
    const out: FeedMessage[] = [];
    let taken = 0;
    while (taken < TRADES_PER_ADVANCE) {
      const aggs = data.aggTrades(market, symbol, { fromId: this.#lastAgg + 1, limit: 1000 }, now);
      for (const a of aggs) {
        if (this.spec.kind === 'aggTrade') {
          out.push({
            E: a.T,
            raw: `{"e":"aggTrade","E":${a.T},"s":"${symbol}","a":${a.a},"p":"${a.p}","q":"${a.q}","f":${a.f},"l":${a.l},"T":${a.T},"m":${a.m}${spot ? ',"M":true' : ''}}`,
          });
        } else {
          for (const t of rawTradesOf(a, market)) {
            out.push({
              E: t.time,
              raw: `{"e":"trade","E":${t.time},"s":"${symbol}","t":${t.id},"p":"${t.price}","q":"${t.qty}","T":${t.time},"m":${t.isBuyerMaker},"M":true}`,
            });
          }
        }
        this.#lastAgg = a.a;
      }
      taken += aggs.length;
      if (aggs.length < 1000) break;
    }
    return out;
  }
}

/** Diff depth: the book's updates merged per `speedMs` period, with U/u (and pu on USD-M). */
class DepthFeed extends FeedBase {
  readonly #speed: number;
  #lastU: number;
  #nextAt: number;

  constructor(ctx: FeedContext, spec: StreamSpec, now: number) {
    super(ctx, spec);
    this.#speed = spec.speedMs!;
    this.#lastU = ctx.books.lastUpdateId(ctx.market, spec.symbol, now);
    this.#nextAt = (Math.floor(now / this.#speed) + 1) * this.#speed;
  }

  async advance(now: number): Promise<FeedMessage[]> {
    const { market, books } = this.ctx;
    const out: FeedMessage[] = [];
    if (this.#nextAt > now) return out;
    const updates = books.updatesAfter(market, this.spec.symbol, this.#lastU, now);
    let i = 0;
    for (; this.#nextAt <= now; this.#nextAt += this.#speed) {
      const period: DepthUpdate[] = [];
      while (i < updates.length && updates[i]!.E <= this.#nextAt) period.push(updates[i++]!);
      if (period.length > 0) out.push(this.#message(period, this.#nextAt));
    }
    return out;
  }

  #message(period: DepthUpdate[], at: number): FeedMessage {
    const bids = new Map<string, string>();
    const asks = new Map<string, string>();
    for (const update of period) {
      for (const [p, q] of update.bids) bids.set(p, q);
      for (const [p, q] of update.asks) asks.set(p, q);
    }
    const first = period[0]!;
    const last = period[period.length - 1]!;
    const levels = (side: Map<string, string>) => JSON.stringify([...side]);
    const symbol = this.spec.symbol;
    const raw =
      this.ctx.market === 'spot'
        ? `{"e":"depthUpdate","E":${at},"s":"${symbol}","U":${first.U},"u":${last.u},"b":${levels(bids)},"a":${levels(asks)}}`
        : `{"e":"depthUpdate","E":${at},"T":${last.E},"s":"${symbol}","U":${first.U},"u":${last.u},"pu":${this.#lastU},"b":${levels(bids)},"a":${levels(asks)}}`;
    this.#lastU = last.u;
    return { E: at, raw };
  }
}

/** Best bid/ask whenever it changes (spot without `e`/`E`, USD-M with them). */
class BookTickerFeed extends FeedBase {
  #lastU: number;
  #last = '';

  constructor(ctx: FeedContext, spec: StreamSpec, now: number) {
    super(ctx, spec);
    this.#lastU = ctx.books.lastUpdateId(ctx.market, spec.symbol, now);
  }

  async advance(now: number): Promise<FeedMessage[]> {
    const { market, books } = this.ctx;
    const symbol = this.spec.symbol;
    const out: FeedMessage[] = [];
    for (const update of books.updatesAfter(market, symbol, this.#lastU, now)) {
      this.#lastU = update.u;
      const { b, B, a, A } = update.best;
      const top = `"b":"${b}","B":"${B}","a":"${a}","A":"${A}"`;
      if (top === this.#last) continue;
      this.#last = top;
      const raw =
        market === 'spot'
          ? `{"u":${update.u},"s":"${symbol}",${top}}`
          : `{"e":"bookTicker","u":${update.u},"E":${update.E},"T":${update.E},"s":"${symbol}",${top}}`;
      out.push({ E: update.E, raw });
    }
    return out;
  }
}

/** A feed for a stream whose symbol the market lists; undefined otherwise (the stream stays silent). */
export function createFeed(ctx: FeedContext, spec: StreamSpec, now: number): Feed | undefined {
  if (!ctx.data.isListed(ctx.market, spec.symbol)) return undefined;
  switch (spec.kind) {
    case 'kline':
      return new KlineFeed(ctx, spec, now);
    case 'trade':
    case 'aggTrade':
      return new TradeFeed(ctx, spec, now);
    case 'depth':
      return new DepthFeed(ctx, spec, now);
    case 'bookTicker':
      return new BookTickerFeed(ctx, spec, now);
  }
}
