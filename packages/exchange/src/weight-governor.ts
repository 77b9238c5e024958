/**
 * Keeps one client's requests inside Binance's REQUEST_WEIGHT budget, which the exchange
 * counts per IP in fixed calendar-minute windows (docs/binance.md). Several instances
 * (pods, processes) share that budget and learn about each other only through the
 * `X-MBX-USED-WEIGHT-1M` header, so the governor:
 *
 * - takes the header as the truth for the window it was sent in, and projects the other
 *   instances' use from the moment the header was counted to the moment a request sent now
 *   will be (time since the header plus a smoothed round trip), at the rate they used since
 *   this governor's first header of the window;
 * - sends a single "probe" first in each new window (the header of the previous window says
 *   nothing about the new one);
 * - keeps in flight at most its share of what is left of `limit × safety`, the share being
 *   its part of what the window counted since its first header: alone it may use all of
 *   it; with N busy peers each keeps about 1/N, so together they do not overshoot on stale
 *   views, and concurrency shrinks to one request, then none, as the budget runs out;
 * - then waits for the next window (plus a margin for clock skew and random jitter, so
 *   instances do not stampede at the boundary);
 * - on 429 waits exactly `Retry-After` (plus jitter, never less), on 418 waits the ban out,
 *   and fails with SF_RATE_LIMITED when a wait is longer than `maxWaitMs`;
 * - after a 429 plans with a smaller budget (×0.8, down to half), recovering 5 % of it per
 *   window without one: peers' requests still in flight are counted by the exchange only
 *   when they arrive, so no header shows them, and a setup that overshoots once (many
 *   instances with deep concurrency against a small budget) learns to keep more headroom.
 *
 * Overshoot therefore stays within what peers have in flight at the end of a window; with
 * Binance's 6000/min, the 5 % headroom is 300 weight, i.e. 150 kline requests in flight.
 */
import { StreamForgeError } from '@streamforge/core/errors';
import { WEIGHT_WINDOW_MS } from '@streamforge/core/contracts';
import { systemTime, type TimeSource } from './time-source.ts';

export interface WeightGovernorOptions {
  /** REQUEST_WEIGHT per window; `Infinity` sends without budgeting (429/418 are still obeyed). */
  limit: number;
  /** Fraction of the limit this governor plans to use; the rest absorbs other instances' races. Default 0.95. */
  safety?: number;
  time?: TimeSource;
  /** Length of the fixed weight window; Binance's is one minute. */
  windowMs?: number;
  /** Extra wait after a window boundary, for clock skew against the exchange. Default 250 ms. */
  boundaryMarginMs?: number;
  /** Largest random extra wait after a boundary or Retry-After, so instances spread out. Default 1000 ms. */
  jitterMs?: number;
  /** Longest wait accepted; longer ones fail with SF_RATE_LIMITED (details.retryAfterMs). Default 5 minutes. */
  maxWaitMs?: number;
  random?: () => number;
}

/** A reservation of weight for one request; give it back with `release`. */
export interface WeightPermit {
  readonly weight: number;
  /** Exchange-clock time at which the request was let through. */
  readonly sentAt: number;
  readonly window: number;
}

/** What came back for a request; nothing when the request failed without a response. */
export interface WeightResponse {
  status: number;
  /** `X-MBX-USED-WEIGHT-1M` of the response. */
  usedWeight?: number;
  /** `Retry-After` in ms (429 and 418). */
  retryAfterMs?: number;
}

export interface WeightGovernorStats {
  limit: number;
  /** The last `X-MBX-USED-WEIGHT-1M` seen. */
  usedWeight: number | undefined;
  rateLimited: number;
  banned: number;
  /** Exchange-clock time until which a 418 ban lasts, if one was reported. */
  bannedUntil: number | undefined;
  /** Requests that had to wait for the budget, and the total time they waited. */
  waits: number;
  waitedMs: number;
}

type Decision = 'send' | 'await-response' | 'next-window';

export class WeightGovernor {
  #limit: number;
  readonly #safety: number;
  readonly #time: TimeSource;
  readonly #windowMs: number;
  readonly #marginMs: number;
  readonly #jitterMs: number;
  readonly #maxWaitMs: number;
  readonly #random: () => number;
  #clockOffsetMs = 0;

  #window = Number.NaN;
  #observed = false;
  #seenUsed = 0;
  #seenAt = 0;
  /** First header of the window and own weight counted by then: the base of the others' rate. */
  #firstSeen = 0;
  #firstSeenAt = 0;
  #ownAtFirst = 0;
  #ownCounted = 0;
  #foreignRate = 0;
  /** Smoothed round trip: the age of a header when read, plus the trip of the next request. */
  #rttMs = 0;
  /** Fraction of the planned budget in use: lowered by 429s, recovered by clean windows. */
  #caution = 1;
  #refusedInWindow = false;
  #pending = 0;
  #inFlight = 0;
  #blockedUntil = 0;
  readonly #listeners = new Set<() => void>();
  readonly #stats: WeightGovernorStats;

  constructor(options: WeightGovernorOptions) {
    this.#limit = options.limit;
    this.#safety = options.safety ?? 0.95;
    this.#time = options.time ?? systemTime;
    this.#windowMs = options.windowMs ?? WEIGHT_WINDOW_MS;
    this.#marginMs = options.boundaryMarginMs ?? 250;
    this.#jitterMs = options.jitterMs ?? 1000;
    this.#maxWaitMs = options.maxWaitMs ?? 300_000;
    this.#random = options.random ?? Math.random;
    this.#stats = {
      limit: options.limit,
      usedWeight: undefined,
      rateLimited: 0,
      banned: 0,
      bannedUntil: undefined,
      waits: 0,
      waitedMs: 0,
    };
  }

  /** Lowers or raises the budget, e.g. from exchangeInfo's REQUEST_WEIGHT or a 429 message. */
  setLimit(limit: number): void {
    this.#limit = limit;
    this.#stats.limit = limit;
    this.#notify();
  }

  /** Exchange clock minus local clock, so windows line up with the exchange's minutes. */
  setClockOffset(offsetMs: number): void {
    this.#clockOffsetMs = offsetMs;
  }

  stats(): WeightGovernorStats {
    return { ...this.#stats };
  }

  /** Waits until a request of `weight` fits the budget, then reserves it. */
  async acquire(weight: number, signal?: AbortSignal): Promise<WeightPermit> {
    const started = this.#now();
    let waited = false;
    for (;;) {
      signal?.throwIfAborted();
      const t = this.#now();
      this.#roll(t);
      if (t < this.#blockedUntil) {
        waited = true;
        await this.#wait(this.#blockedUntil - t, signal);
        continue;
      }
      const decision = this.#decide(weight, t);
      if (decision === 'send') {
        this.#pending += weight;
        this.#inFlight += 1;
        if (waited) {
          this.#stats.waits += 1;
          this.#stats.waitedMs += t - started;
        }
        return { weight, sentAt: t, window: this.#window };
      }
      waited = true;
      const nextWindow = this.#window + this.#windowMs;
      if (decision === 'await-response') await this.#waitForChange(nextWindow - t, signal);
      else
        this.#blockedUntil = Math.max(
          this.#blockedUntil,
          nextWindow + this.#marginMs + this.#random() * this.#jitterMs,
        );
    }
  }

  /** Gives a permit back with what the response said (nothing for a failure without response). */
  release(permit: WeightPermit, response?: WeightResponse): void {
    this.#pending -= permit.weight;
    this.#inFlight -= 1;
    const t = this.#now();
    this.#roll(t);
    if (response !== undefined) this.#learn(permit, response, t);
    this.#notify();
  }

  #learn(permit: WeightPermit, response: WeightResponse, t: number): void {
    const refused = response.status === 429 || response.status === 418;
    const rtt = Math.max(0, t - permit.sentAt);
    this.#rttMs = this.#rttMs === 0 ? rtt : 0.8 * this.#rttMs + 0.2 * rtt;
    if (response.usedWeight !== undefined) {
      this.#stats.usedWeight = response.usedWeight;
      // A request sent in an earlier window may have been counted in either window: ignore it.
      if (permit.window === this.#window) {
        if (!refused) this.#ownCounted += permit.weight;
        if (!this.#observed) {
          this.#firstSeen = response.usedWeight;
          this.#firstSeenAt = t;
          this.#ownAtFirst = this.#ownCounted;
        }
        this.#seenUsed = this.#observed ? Math.max(this.#seenUsed, response.usedWeight) : response.usedWeight;
        this.#observed = true;
        this.#seenAt = t;
        // What the others used since this governor's first header of the window, per ms
        // (before that they may have been idle: the window start is no base for a rate).
        const foreign = this.#seenUsed - this.#firstSeen - (this.#ownCounted - this.#ownAtFirst);
        this.#foreignRate = Math.max(0, foreign) / Math.max(t - this.#firstSeenAt, 1000);
      }
    }
    if (response.status === 429) {
      this.#stats.rateLimited += 1;
      if (!this.#refusedInWindow) this.#caution = Math.max(0.5, this.#caution * 0.8);
      this.#refusedInWindow = true;
      const retryAfter = response.retryAfterMs ?? this.#window + this.#windowMs - t;
      // Never before Retry-After has passed; jitter only adds, so instances spread out.
      this.#blockedUntil = Math.max(this.#blockedUntil, t + retryAfter + this.#random() * this.#jitterMs);
    } else if (response.status === 418) {
      this.#stats.banned += 1;
      const until = t + (response.retryAfterMs ?? 2 * this.#windowMs);
      this.#stats.bannedUntil = until;
      this.#blockedUntil = Math.max(this.#blockedUntil, until);
    }
  }

  #decide(weight: number, t: number): Decision {
    if (!Number.isFinite(this.#limit)) return 'send';
    if (!this.#observed) return this.#inFlight > 0 ? 'await-response' : 'send'; // one probe per new window
    // The others' use since the header was counted, until a request sent now is counted.
    const others = this.#foreignRate * (t - this.#seenAt + this.#rttMs);
    const used = this.#seenUsed + others;
    // This governor's part of what the window counted since its first header (earlier
    // counts say more about who started first than about who is busy now).
    const own = this.#ownCounted - this.#ownAtFirst;
    const counted = this.#seenUsed - this.#firstSeen + others;
    const share = counted > 0 ? Math.min(1, own / counted) : used > 0 ? Math.min(1, this.#ownCounted / used) : 1;
    if (this.#pending + weight <= (this.#limit * this.#safety * this.#caution - used) * share) return 'send';
    return this.#inFlight > 0 ? 'await-response' : 'next-window';
  }

  #roll(t: number): void {
    const window = Math.floor(t / this.#windowMs) * this.#windowMs;
    if (window === this.#window) return;
    if (!this.#refusedInWindow && this.#observed) this.#caution = Math.min(1, this.#caution + 0.05);
    this.#refusedInWindow = false;
    this.#window = window;
    this.#observed = false;
    this.#seenUsed = 0;
    this.#ownCounted = 0;
  }

  #now(): number {
    return this.#time.now() + this.#clockOffsetMs;
  }

  async #wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms > this.#maxWaitMs) {
      const banned = this.#stats.bannedUntil !== undefined && this.#stats.bannedUntil >= this.#blockedUntil;
      throw new StreamForgeError(
        'SF_RATE_LIMITED',
        `exchange weight budget: must wait ${Math.ceil(ms / 1000)} s${banned ? ' (IP banned by the exchange)' : ''}, longer than maxWaitMs ${this.#maxWaitMs}`,
        { details: { retryAfterMs: ms, banned, bannedUntil: banned ? this.#stats.bannedUntil : undefined } },
      );
    }
    await this.#time.sleep(ms, signal);
  }

  /** Resolves on the next release (or limit change), or after `maxMs`. */
  #waitForChange(maxMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = new AbortController();
      let settled = false;
      const finish = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        this.#listeners.delete(onChange);
        signal?.removeEventListener('abort', onAbort);
        timer.abort();
        if (error === undefined) resolve();
        else reject(error);
      };
      const onChange = (): void => finish();
      const onAbort = (): void => finish(signal?.reason);
      this.#listeners.add(onChange);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#time.sleep(Math.max(1, maxMs), timer.signal).then(onChange, () => {});
    });
  }

  #notify(): void {
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) listener();
  }
}
