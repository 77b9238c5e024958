/**
 * Polls a condition until it holds or a deadline passes. Tests wait on conditions, never
 * on sleeps, and a timeout says what never happened.
 */
import { sleep } from '@streamforge/core/retry';

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

export async function waitFor<T>(
  description: string,
  probe: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  options: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false && value !== null) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${description}${why}`);
    }
    await sleep(intervalMs);
  }
}
