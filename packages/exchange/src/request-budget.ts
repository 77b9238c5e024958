/**
 * A budget of requests per fixed window for a limit no answer reports on, such as
 * fundingRate's 500 requests per 5 minutes and IP: the client counts what it sent itself,
 * sends one request at a time, and once its share of the window is spent waits for the next
 * window. Unlike REQUEST_WEIGHT there is no used-count header, so other clients of the same
 * IP are not seen; the headroom (`safety`) is all they get.
 */
import type { TimeSource } from './time-source.ts';

export interface RequestBudgetStats {
  /** Requests sent in the current window. */
  used: number;
  /** Requests that waited for a window, and how long in total. */
  waits: number;
  waitedMs: number;
}

export class RequestBudget {
  readonly #planned: number;
  readonly #windowMs: number;
  readonly #time: TimeSource;
  #windowStart = Number.NEGATIVE_INFINITY;
  #used = 0;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #stats = { waits: 0, waitedMs: 0 };

  constructor(options: { limit: number; windowMs: number; time: TimeSource; safety?: number }) {
    this.#planned = Math.max(1, Math.floor(options.limit * (options.safety ?? 0.95)));
    this.#windowMs = options.windowMs;
    this.#time = options.time;
  }

  /** Runs `send` when the budget allows, after every request queued before it has been answered. */
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
    return { used: this.#used, ...this.#stats };
  }

  async #take(signal?: AbortSignal): Promise<void> {
    let t = this.#time.now();
    this.#roll(t);
    if (this.#used >= this.#planned) {
      const wait = this.#windowStart + this.#windowMs - t;
      this.#stats.waits += 1;
      this.#stats.waitedMs += wait;
      await this.#time.sleep(wait, signal);
      t = this.#time.now();
      this.#roll(t);
    }
    this.#used += 1;
  }

  #roll(t: number): void {
    const start = Math.floor(t / this.#windowMs) * this.#windowMs;
    if (start !== this.#windowStart) {
      this.#windowStart = start;
      this.#used = 0;
    }
  }
}
