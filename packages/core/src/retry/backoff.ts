/**
 * The one backoff of the project, for every wait before another attempt: the wait doubles
 * from `baseMs` with each failure up to `maxMs`, and a random share of it (`jitter`) is taken
 * off, so clients that failed together do not all come back at the same moment. A wait is
 * never longer than its cap, and never shorter than (1 − jitter) of what doubling gives.
 */

export interface Backoff {
  /** The wait after the first failure. */
  baseMs: number;
  /** The longest wait; none when absent (the timer's own limit still holds). */
  maxMs?: number;
  /** Attempts in all, the first included; unlimited when absent. */
  attempts?: number;
  /** The share of each wait drawn at random: it lies in [(1 − jitter) × w, w]. Default 0.5; 0 for none. */
  jitter?: number;
  /** `linear`: base × n instead of doubling (Knative's linear delivery policy). */
  growth?: 'exponential' | 'linear';
  /** Random numbers in [0, 1): tests make the jitter repeatable. */
  random?: () => number;
}

/** Node fires a timer longer than this at once; no wait may be longer. */
export const MAX_WAIT_MS = 2 ** 31 - 1;

/** The wait after the `failures`-th failed attempt (1 for the first). */
export function backoffDelay(backoff: Backoff, failures: number): number {
  const n = Math.max(1, Math.floor(failures));
  // The exponent is bounded so a long-failing caller gets the cap, not Infinity or NaN.
  const grown = backoff.growth === 'linear' ? backoff.baseMs * n : backoff.baseMs * 2 ** Math.min(n - 1, 60);
  const capped = Math.min(grown, backoff.maxMs ?? MAX_WAIT_MS, MAX_WAIT_MS);
  if (!(capped > 0)) return 0;
  const jitter = Math.min(1, Math.max(0, backoff.jitter ?? 0.5));
  return Math.round(capped * (1 - jitter * (backoff.random ?? Math.random)()));
}

/** Whether the policy allows another attempt after `failures` failed ones. */
export function mayRetry(backoff: Backoff, failures: number): boolean {
  return failures < (backoff.attempts ?? Number.POSITIVE_INFINITY);
}

/** Waits `ms`; ends early, without throwing, when `signal` aborts (the caller looks at it). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.min(Math.max(0, ms), MAX_WAIT_MS));
    signal?.addEventListener('abort', done, { once: true });
  });
}
