/**
 * The clock the exchange client waits on. Production uses the wall clock; tests and demos
 * can run "exchange time" faster than the wall clock (a Binance minute in half a second),
 * sharing one source between the simulator (`clock: time.now`) and the clients, so the
 * rate-limit windows, Retry-After and bans keep their real semantics without real waits.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface TimeSource {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves once `now()` has advanced by at least `ms` (never earlier); rejects when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

async function sleepReal(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return;
  await delay(Math.ceil(ms), undefined, signal === undefined ? undefined : { signal });
}

export const systemTime: TimeSource = {
  now: () => Date.now(),
  async sleep(ms, signal) {
    const until = Date.now() + ms;
    // Timers may fire up to a millisecond early; loop so callers never act before `until`.
    for (let left = ms; left > 0; left = until - Date.now()) await sleepReal(left, signal);
  },
};

/**
 * A clock that starts at `originMs` and runs `factor` times faster than the wall clock;
 * its `sleep` waits the corresponding (shorter) real time.
 */
export function scaledTime(factor: number, originMs: number = Date.now()): TimeSource {
  if (!(factor > 0)) throw new RangeError(`scaledTime: factor must be positive, got ${factor}`);
  const realStart = performance.now();
  const now = (): number => Math.floor(originMs + (performance.now() - realStart) * factor);
  return {
    now,
    async sleep(ms, signal) {
      const until = now() + ms;
      for (let left = ms; left > 0; left = until - now()) await sleepReal(Math.max(1, left / factor), signal);
    },
  };
}
