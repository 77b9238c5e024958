/**
 * How coarse a chart's candles are: the finest bucket, a whole multiple of the interval,
 * that keeps a range within `maxPoints` buckets. Buckets are the lengths a trader reads
 * (5m, 1h, 4h, 1d, 1w, …) where they fit the interval, so zooming steps through familiar
 * scales; weeks open on Mondays, as Binance's 1w candles do, everything else at the epoch.
 */
import { countCandles, type Interval } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** 1970-01-05, the first Monday: where Binance's weeks start. */
const MONDAY = 4 * DAY;

const LENGTHS: Array<[string, number]> = [
  ['1s', SECOND],
  ['5s', 5 * SECOND],
  ['15s', 15 * SECOND],
  ['30s', 30 * SECOND],
  ['1m', MINUTE],
  ['3m', 3 * MINUTE],
  ['5m', 5 * MINUTE],
  ['15m', 15 * MINUTE],
  ['30m', 30 * MINUTE],
  ['1h', HOUR],
  ['2h', 2 * HOUR],
  ['4h', 4 * HOUR],
  ['6h', 6 * HOUR],
  ['8h', 8 * HOUR],
  ['12h', 12 * HOUR],
  ['1d', DAY],
  ['3d', 3 * DAY],
  ['1w', WEEK],
  ['2w', 2 * WEEK],
  ['4w', 4 * WEEK],
  ['13w', 13 * WEEK],
  ['26w', 26 * WEEK],
  ['52w', 52 * WEEK],
];

export interface ChartBucket {
  /** Its name (`4h`), weeks past a year (`104w`), or `<n>×<interval>` for intervals weeks do not fit (`11×3d`). */
  label: string;
  /** 0: one bucket per candle (the `1M` interval, whose months differ in length). */
  ms: number;
  offsetMs: number;
  /** Buckets the range spans. */
  count: number;
}

function bucketsIn(from: number, to: number, ms: number, offset: number): number {
  return Math.floor((to - 1 - offset) / ms) - Math.floor((from - offset) / ms) + 1;
}

function offsetOf(intervalMs: number, ms: number, interval: Interval): number {
  // Weekly buckets open on Mondays when the candles fit them (1w candles, or a day's divisors).
  return ms % WEEK === 0 && (interval === '1w' || DAY % intervalMs === 0) ? MONDAY : 0;
}

export function chooseBucket(
  interval: Interval,
  intervalMs: number,
  from: number,
  to: number,
  maxPoints: number,
): ChartBucket {
  if (interval === '1M') {
    const count = countCandles(interval, from, to);
    if (count > maxPoints)
      throw new StreamForgeError(
        'SF_CONTRACT_INVALID',
        `from, to: the range holds ${count} monthly candles, more than max_points ${maxPoints} (monthly candles are not grouped): narrow it`,
      );
    return { label: '1M', ms: 0, offsetMs: 0, count };
  }
  for (const [label, ms] of LENGTHS) {
    if (ms < intervalMs || ms % intervalMs !== 0) continue;
    const offsetMs = offsetOf(intervalMs, ms, interval);
    const count = bucketsIn(from, to, ms, offsetMs);
    if (count <= maxPoints) return { label, ms, offsetMs, count };
  }
  // Past a year a bucket: whole years of weeks, or whole intervals where weeks do not fit them.
  const unit = WEEK % intervalMs === 0 ? 52 * WEEK : intervalMs;
  for (let k = Math.max(1, Math.floor((to - from) / maxPoints / unit)); ; k++) {
    const ms = k * unit;
    const offsetMs = offsetOf(intervalMs, ms, interval);
    const count = bucketsIn(from, to, ms, offsetMs);
    const label = ms % WEEK === 0 ? `${ms / WEEK}w` : `${ms / intervalMs}×${interval}`;
    if (count <= maxPoints) return { label, ms, offsetMs, count };
  }
}
