/**
 * Binance kline intervals (case-sensitive, as the REST API and streams name them) and
 * their lengths. `1M` is a calendar month, so its boundaries come from the calendar
 * (UTC), not from a fixed length.
 */
export const INTERVALS = [
  '1s',
  '1m',
  '3m',
  '5m',
  '15m',
  '30m',
  '1h',
  '2h',
  '4h',
  '6h',
  '8h',
  '12h',
  '1d',
  '3d',
  '1w',
  '1M',
] as const;
export type Interval = (typeof INTERVALS)[number];

/** USD-M futures have every spot interval but `1s`. */
export const USDM_INTERVALS: readonly Interval[] = INTERVALS.filter((i) => i !== '1s');

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const FIXED_MS: Record<Exclude<Interval, '1M'>, number> = {
  '1s': SECOND,
  '1m': MINUTE,
  '3m': 3 * MINUTE,
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '30m': 30 * MINUTE,
  '1h': HOUR,
  '2h': 2 * HOUR,
  '4h': 4 * HOUR,
  '6h': 6 * HOUR,
  '8h': 8 * HOUR,
  '12h': 12 * HOUR,
  '1d': DAY,
  '3d': 3 * DAY,
  '1w': 7 * DAY,
};

export function isInterval(value: string): value is Interval {
  return (INTERVALS as readonly string[]).includes(value);
}

/**
 * Open time of the candle that contains `timeMs`. Binance aligns fixed intervals to the
 * Unix epoch, except `1w`, which opens on Mondays (the epoch was a Thursday).
 */
export function candleOpenTime(interval: Interval, timeMs: number): number {
  if (interval === '1M') {
    const d = new Date(timeMs);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
  const length = FIXED_MS[interval];
  const offset = interval === '1w' ? 4 * DAY : 0; // 1970-01-05 was the first Monday
  return Math.floor((timeMs - offset) / length) * length + offset;
}

/** Open time of the candle after the one opening at `openTime`. */
export function nextOpenTime(interval: Interval, openTime: number): number {
  if (interval === '1M') {
    const d = new Date(openTime);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
  return openTime + FIXED_MS[interval];
}

/** Close time as Binance reports it: the next open time minus one millisecond. */
export function closeTime(interval: Interval, openTime: number): number {
  return nextOpenTime(interval, openTime) - 1;
}

/** Length in ms of fixed intervals; for `1M`, the length of the month that opens at `openTime`. */
export function intervalMs(interval: Interval, openTime = 0): number {
  return nextOpenTime(interval, candleOpenTime(interval, openTime)) - candleOpenTime(interval, openTime);
}

/** Open times of every candle with open time in [startMs, endMs). */
export function* openTimesIn(interval: Interval, startMs: number, endMs: number): Generator<number> {
  let t = candleOpenTime(interval, startMs);
  if (t < startMs) t = nextOpenTime(interval, t);
  for (; t < endMs; t = nextOpenTime(interval, t)) yield t;
}

/** Number of candles with open time in [startMs, endMs). */
export function countCandles(interval: Interval, startMs: number, endMs: number): number {
  if (interval !== '1M') {
    const length = FIXED_MS[interval];
    const first =
      candleOpenTime(interval, startMs) < startMs
        ? candleOpenTime(interval, startMs) + length
        : candleOpenTime(interval, startMs);
    return first >= endMs ? 0 : Math.ceil((endMs - first) / length);
  }
  let n = 0;
  for (const _ of openTimesIn(interval, startMs, endMs)) n++;
  return n;
}
