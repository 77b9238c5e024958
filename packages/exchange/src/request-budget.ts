/**
 * A budget of requests per window for a limit no answer reports on, such as fundingRate's
 * 500 requests per 5 minutes and IP: the client counts what it sent itself, sends one request
 * at a time, and keeps the send times of its last `planned` requests (a sliding log); the next
 * request waits until the oldest of them is more than a window old. Binance does not say
 * whether its window is fixed or sliding; a sliding log holds under both, fixed windows only
 * under fixed ones (475 at the end of one window and 475 at the start of the next would go out
 * within a second). Unlike REQUEST_WEIGHT there is no used-count header, so other clients of
 * the same IP are not seen; the headroom (`safety`) is all they get.
 */
import type { TimeSource } from './time-source.ts';

export interface RequestBudgetStats {
  /** Requests sent in the last window (up to now). */
  used: number;
  /** Requests that waited for the window to slide, and how long in total. */
  waits: number;
  waitedMs: number;
}

export class RequestBudget {
  readonly #planned: number;
  readonly #windowMs: number;
  readonly #time: TimeSource;
  /** Send times of the last (at most `planned`) requests, oldest first. */
  readonly #sent: number[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  readonly #stats = { waits: 0, waitedMs: 0 };

  constructor(options: { limit: number; windowMs: number; time: TimeSource; safety?: number }) {
    this.#planned = Math.max(1, Math.floor(options.limit * (options.safety ?? 0.95)));
    this.#windowMs = options.windowMs;
    this.#time = options.time;
  }

  /**
   * Runs `send` when the budget allows, after every request queued before it has been answered.
   * A request whose `signal` aborts before it is sent is dropped, uncounted.
   */
  run<T>(send: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const turn = async (): Promise<T> => {
      await this.#take(signal);
      return await send();
    };
    const result = this.#queue.then(turn, turn);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  stats(): RequestBudgetStats {
    this.#expire(this.#time.now());
    return { used: this.#sent.length, ...this.#stats };
  }

  async #take(signal?: AbortSignal): Promise<void> {
    // Its turn may come long after its caller gave up (behind others' waits).
    signal?.throwIfAborted();
    let t = this.#time.now();
    this.#expire(t);
    if (this.#sent.length >= this.#planned) {
      // One millisecond past a window: whether Binance's span includes both ends is not documented.
      const wait = this.#sent[0]! + this.#windowMs + 1 - t;
      this.#stats.waits += 1;
      this.#stats.waitedMs += wait;
      await this.#time.sleep(wait, signal);
      t = this.#time.now();
      this.#expire(t);
    }
    this.#sent.push(t);
  }

  /** Forgets sends more than a window before `t`: they no longer share a window with the next. */
  #expire(t: number): void {
    let old = 0;
    while (old < this.#sent.length && t - this.#sent[old]! > this.#windowMs) old += 1;
    if (old > 0) this.#sent.splice(0, old);
  }
}
