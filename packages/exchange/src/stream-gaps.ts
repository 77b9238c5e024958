/**
 * Gap detection on live streams. Binance does not replay what a client missed while it was
 * disconnected (docs/binance.md, market streams), and a message can be lost without a
 * disconnection, so every record kind with a sequence is watched: trade and aggTrade ids
 * have no holes on the exchange, kline open times follow the interval, and a candle is
 * complete only with its final `x:true` message. What is missing is reported as a range to
 * fetch from the REST API. Depth update ids are watched by the order book itself
 * (order-book.ts), which resynchronises.
 */
import { nextOpenTime, type Interval } from '@streamforge/core/contracts';

export type SequenceStatus = 'first' | 'next' | 'duplicate' | 'gap';

export interface IdObservation {
  status: SequenceStatus;
  /** Missing ids, inclusive, when status is `gap`. */
  missing?: { from: number; to: number };
}

/** Trade ids (`t`) or aggregate trade ids (`a`): consecutive, without holes. */
export class IdSequence {
  #last: number | undefined;

  get last(): number | undefined {
    return this.#last;
  }

  /** One message covering ids `first`…`last` (a single id for trades and aggTrades). */
  observe(first: number, last: number = first): IdObservation {
    const previous = this.#last;
    if (previous === undefined) {
      this.#last = last;
      return { status: 'first' };
    }
    // Older or repeated ids come from a redelivery or an overlapping connection: not new data.
    if (last <= previous) return { status: 'duplicate' };
    this.#last = last;
    if (first > previous + 1) return { status: 'gap', missing: { from: previous + 1, to: first - 1 } };
    return { status: 'next' };
  }
}

export type KlineStatus = 'first' | 'update' | 'final' | 'stale' | 'gap';

export interface KlineObservation {
  status: KlineStatus;
  /** Open times of the candles that must come from REST, [from, to), when status is `gap`. */
  missing?: { from: number; to: number };
}

/**
 * Kline open times of one symbol and interval. A candle is complete with its final message;
 * when a later candle shows up first, every candle from the last complete one on is missing
 * (including a candle whose final message was lost), and a message about a candle older than
 * the newest one, or an open update after the final one, is stale.
 */
export class KlineSequence {
  readonly interval: Interval;
  #openTime: number | undefined;
  #closed = false;

  constructor(interval: Interval) {
    this.interval = interval;
  }

  observe(openTime: number, closed: boolean): KlineObservation {
    const current = this.#openTime;
    if (current === undefined) {
      this.#openTime = openTime;
      this.#closed = closed;
      return { status: 'first' };
    }
    if (openTime < current || (openTime === current && this.#closed)) return { status: 'stale' };
    if (openTime === current) {
      this.#closed = closed;
      return { status: closed ? 'final' : 'update' };
    }
    const from = this.#closed ? nextOpenTime(this.interval, current) : current;
    this.#openTime = openTime;
    this.#closed = closed;
    if (from < openTime) return { status: 'gap', missing: { from, to: openTime } };
    return { status: closed ? 'final' : 'update' };
  }
}
