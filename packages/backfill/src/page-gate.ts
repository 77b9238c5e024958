/**
 * Runs at most `limit` pieces of work at once; the rest wait their turn, first come first
 * served. loader-api holds a whole page of aggTrades in memory until it is sent (a busy hour
 * is about 70 k trades, some 30 MB decoded), and an instance takes up to 20 pages at once
 * (its containerConcurrency): ungated, an aggTrades day peaked near 1 GB, twice the 512 Mi
 * an instance may use.
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
