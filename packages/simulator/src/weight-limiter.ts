/**
 * REQUEST_WEIGHT accounting of the exchange simulator, per market and client IP, as Binance
 * does it (docs/binance.md): fixed calendar-minute windows (the counter resets at every
 * UTC minute boundary, not a sliding minute); a request that would take the window past the
 * limit gets 429 with `Retry-After` = seconds until the window ends and is not counted; an IP
 * that keeps sending while refused (more than `banAfter` refusals in one window) is banned:
 * 418 with `Retry-After` until the ban ends, 2 minutes the first time, doubling for repeat
 * offenders up to 3 days.
 */
import { WEIGHT_WINDOW_MS } from '@streamforge/core/contracts';

export interface WeightLimiterOptions {
  /** REQUEST_WEIGHT per minute; `Infinity` lifts the limit (weight is still counted). */
  limit: number;
  /** Refused requests tolerated in one window before a ban. Default 10. */
  banAfter?: number;
  /** First ban length. Default 2 minutes. */
  banBaseMs?: number;
  /** Longest ban. Default 3 days. */
  banMaxMs?: number;
}

export type WeightVerdict =
  | { status: 200; used: number }
  | { status: 429 | 418; used: number; retryAfterSeconds: number; msg: string };

interface IpState {
  window: number;
  used: number;
  refused: number;
  bannedUntil: number;
  bans: number;
}

/** Windows kept for stats. */
const WINDOW_HISTORY = 1_000;

export class WeightLimiter {
  limit: number;
  readonly #banAfter: number;
  readonly #banBaseMs: number;
  readonly #banMaxMs: number;
  readonly #ips = new Map<string, IpState>();
  /** Total weight used per window start, all IPs. */
  readonly #windows = new Map<number, number>();

  constructor(options: WeightLimiterOptions) {
    this.limit = options.limit;
    this.#banAfter = options.banAfter ?? 10;
    this.#banBaseMs = options.banBaseMs ?? 2 * 60_000;
    this.#banMaxMs = options.banMaxMs ?? 3 * 24 * 3_600_000;
  }

  #state(ip: string, now: number): IpState {
    const window = now - (now % WEIGHT_WINDOW_MS);
    let state = this.#ips.get(ip);
    if (state === undefined) {
      state = { window, used: 0, refused: 0, bannedUntil: 0, bans: 0 };
      this.#ips.set(ip, state);
    } else if (state.window !== window) {
      state.window = window;
      state.used = 0;
      state.refused = 0;
    }
    return state;
  }

  /** The weight `ip` used in the current window (the `X-MBX-USED-WEIGHT-1M` value). */
  used(ip: string, now: number): number {
    return this.#state(ip, now).used;
  }

  /** Counts a request of `weight` from `ip`, or refuses it. */
  charge(ip: string, weight: number, now: number): WeightVerdict {
    const state = this.#state(ip, now);
    if (state.bannedUntil > now) return this.#banned(state, now);
    if (state.used + weight > this.limit) {
      state.refused += 1;
      if (state.refused > this.#banAfter) {
        state.bans += 1;
        state.refused = 0;
        state.bannedUntil = now + Math.min(this.#banMaxMs, this.#banBaseMs * 2 ** (state.bans - 1));
        return this.#banned(state, now);
      }
      return {
        status: 429,
        used: state.used,
        retryAfterSeconds: Math.max(1, Math.ceil((state.window + WEIGHT_WINDOW_MS - now) / 1000)),
        msg: `Too much request weight used; current limit is ${this.limit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`,
      };
    }
    state.used += weight;
    this.#windows.set(state.window, (this.#windows.get(state.window) ?? 0) + weight);
    if (this.#windows.size > WINDOW_HISTORY) this.#windows.delete(this.#windows.keys().next().value!);
    return { status: 200, used: state.used };
  }

  #banned(state: IpState, now: number): WeightVerdict {
    return {
      status: 418,
      used: state.used,
      retryAfterSeconds: Math.max(1, Math.ceil((state.bannedUntil - now) / 1000)),
      msg: `Way too much request weight used; IP banned until ${state.bannedUntil}. Please use WebSocket Streams for live updates to avoid bans.`,
    };
  }

  /** Weight used per window (all IPs), oldest first. */
  windows(): Array<{ windowStart: number; used: number }> {
    return [...this.#windows].map(([windowStart, used]) => ({ windowStart, used }));
  }
}
