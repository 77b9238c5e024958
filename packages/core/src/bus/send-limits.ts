/**
 * How much one produce request may carry. The records a request holds for one partition
 * travel as one record batch, and the broker refuses a batch above its message.max.bytes;
 * so the producer cuts a larger send into consecutive requests, and loaders cut a large page
 * into data events, by the same budget. No I/O here.
 */

// Kafka's default message.max.bytes, which Strimzi keeps, is 1 MB (1 048 588 bytes): 800 kB leaves room for a batch's framing and CloudEvent headers.
export const MAX_SEND_BYTES = 800_000;

/**
 * `items` in consecutive runs of at most `maxItems` items and at most `maxBytes` by `bytesOf`;
 * an item larger than `maxBytes` on its own is a run of its own. The same items always give
 * the same runs.
 */
export function sliceBySize<T>(
  items: readonly T[],
  bytesOf: (item: T) => number,
  maxBytes: number,
  maxItems = Number.POSITIVE_INFINITY,
): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = bytesOf(item);
    if (run.length > 0 && (bytes + size > maxBytes || run.length >= maxItems)) {
      runs.push(run);
      run = [];
      bytes = 0;
    }
    run.push(item);
    bytes += size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
