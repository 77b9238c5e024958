/**
 * Polls a condition until it holds or a deadline passes. Tests wait on conditions, never
 * on sleeps, and a timeout says what never happened.
 */
import { sleep } from '@streamforge/core/retry';

export interface WaitForOptions {
  /** How long the condition may stay false; with `progress`, how long nothing may move. */
  timeoutMs?: number;
  intervalMs?: number;
  /**
   * What shows the work is moving (compared as JSON after each probe): each change restarts
   * the timeout, so a slow but moving run on a busy machine is waited for and a stall fails.
   */
  progress?: () => unknown;
}

export async function waitFor<T>(
  description: string,
  probe: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  options: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const intervalMs = options.intervalMs ?? 50;
  let deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let lastProgress: string | undefined;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false && value !== null) return value;
    } catch (error) {
      lastError = error;
    }
    if (options.progress) {
      const progress = JSON.stringify(options.progress());
      if (progress !== lastProgress) deadline = Date.now() + timeoutMs;
      lastProgress = progress;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      const how = options.progress ? `${timeoutMs} ms without progress` : `${timeoutMs} ms`;
      throw new Error(`timed out after ${how} waiting for: ${description}${why}`);
    }
    await sleep(intervalMs);
  }
}
