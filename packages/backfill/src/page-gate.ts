/**
 * Runs at most `limit` pieces of work at once; the rest wait their turn, first come first
 * served. loader-producer gates its archive pages with it: each holds a file on disk and
 * one send of events, and reads its file with most of a core.
 */
export function createGate(limit: number): <T>(work: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (work) => {
    while (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await work();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
