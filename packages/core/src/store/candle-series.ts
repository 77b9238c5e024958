/**
 * What both adapters share for aggregateCandles: the checks of a query, the key range of a
 * series, and how the jumps between stored candles become gaps.
 *
 * A kline's key is `SYMBOL:interval:open_time` (klineKey), a price candle's
 * `SYMBOL:mark:interval:open_time` (priceKlineKey), and every open time since 2001 has
 * 13 digits, so within one series key order is open-time order: the key index the record
 * tables already have finds a range of candles without another index (SQLite), and ArangoDB
 * uses its `by_open_time` index.
 */
import { candleOpenTime, countCandles, isInterval, nextOpenTime, type Interval } from '../contracts/intervals.ts';
import { SYMBOL_PATTERN } from '../contracts/ids.ts';
import { PRICE_KLINE_SERIES } from '../contracts/records.ts';
import { StreamForgeError } from '../errors.ts';
import type { CandleAggregate, CandleBucket, CandleGap, CandleKind, CandleQuery } from './port.ts';

const SYMBOL = new RegExp(SYMBOL_PATTERN);
const THIRTEEN_DIGITS_FROM = 1_000_000_000_000;
const THIRTEEN_DIGITS_TO = 10_000_000_000_000;
/** The longest interval (a 31-day month): consecutive stored candles are never further apart. */
const LONGEST_STEP_MS = 31 * 86_400_000;

function invalid(message: string): StreamForgeError {
  return new StreamForgeError('SF_CONTRACT_INVALID', message);
}

const isTime = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

export function checkCandleQuery(query: CandleQuery): void {
  if (typeof query.symbol !== 'string' || !SYMBOL.test(query.symbol))
    throw invalid(`symbol: ${JSON.stringify(query.symbol)} must match ${SYMBOL_PATTERN}`);
  if (typeof query.interval !== 'string' || !isInterval(query.interval))
    throw invalid(`interval: ${JSON.stringify(query.interval)} is not a Binance interval`);
  if (!isTime(query.from) || !isTime(query.to) || query.from >= query.to)
    throw invalid(`from, to: must be times in ms with from < to, got ${query.from}, ${query.to}`);
  if (!isTime(query.bucketMs) || !isTime(query.bucketOffsetMs))
    throw invalid('bucketMs, bucketOffsetMs: must be non-negative integers');
  if (query.expectedUntil !== undefined && !isTime(query.expectedUntil))
    throw invalid('expectedUntil: must be a time in ms');
  if (!isTime(query.maxGaps)) throw invalid('maxGaps: must be a non-negative integer');
  if (query.kind !== undefined && query.kind !== 'klines' && !Object.hasOwn(PRICE_KLINE_SERIES, query.kind))
    throw invalid(`kind: ${JSON.stringify(query.kind)} is not a candle kind`);
}

/** The key prefix of a series, e.g. `BTCUSDT:1m:`, or `BTCUSDT:mark:1m:` for mark price candles. */
export function seriesPrefix(symbol: string, interval: Interval, kind: CandleKind = 'klines'): string {
  return kind === 'klines' ? `${symbol}:${interval}:` : `${symbol}:${PRICE_KLINE_SERIES[kind]}:${interval}:`;
}

/**
 * Keys in [low, high) hold every candle of the series with open time in [from, to): exact
 * bounds where both are 13-digit times, the whole series otherwise (the caller filters by time).
 */
export function seriesKeyRange(query: CandleQuery): { low: string; high: string } {
  const prefix = seriesPrefix(query.symbol, query.interval, query.kind);
  const exact = query.from >= THIRTEEN_DIGITS_FROM && query.to <= THIRTEEN_DIGITS_TO;
  // ';' is the character after ':', so `prefix;` sorts after every key of the series.
  return exact
    ? { low: `${prefix}${query.from}`, high: `${prefix}${query.to}` }
    : { low: prefix, high: `${prefix.slice(0, -1)};` };
}

/**
 * [from, to) cut into pieces of about `chunkMs` whose inner bounds fall on the bucket grid, so
 * no bucket straddles two pieces: an adapter that blocks while it reads (SQLite) groups a long
 * range piece by piece and lets other work run in between.
 */
export function bucketAlignedChunks(
  from: number,
  to: number,
  bucketMs: number,
  offsetMs: number,
  chunkMs: number,
): Array<{ from: number; to: number }> {
  if (bucketMs === 0 || to - from <= chunkMs) return [{ from, to }];
  const step = Math.max(bucketMs, Math.floor(chunkMs / bucketMs) * bucketMs);
  const chunks: Array<{ from: number; to: number }> = [];
  let start = from;
  // The first inner bound: the bucket grid's first line at least a step after from.
  let bound = from - ((((from - offsetMs) % bucketMs) + bucketMs) % bucketMs) + step;
  for (; bound < to; bound += step) {
    chunks.push({ from: start, to: bound });
    start = bound;
  }
  chunks.push({ from: start, to });
  return chunks;
}

/** Stored candles further apart than this have missing candles between them. */
export function jumpThreshold(interval: Interval): number {
  return interval === '1M' ? LONGEST_STEP_MS : nextOpenTime(interval, 0);
}

/** The first open time of the series inside [from, …). */
function firstExpected(interval: Interval, from: number): number {
  const open = candleOpenTime(interval, from);
  return open < from ? nextOpenTime(interval, open) : open;
}

/** A bucket as an adapter reads it: with the open times of its first and last candle. */
export type BucketRow = CandleBucket & { first: number; last: number };

/** Two stored candles with missing ones between them. */
export interface Jump {
  after: number;
  before: number;
}

/**
 * Where the jumps can be, from the buckets alone: between two buckets (the last candle of
 * one and the first of the next, known already), and inside a bucket that holds fewer
 * candles than its first-to-last span (`inside`: those spans, for the database to search).
 * Only the spans that can hold one of the first maxGaps + 1 jumps are listed: each holds one
 * at least, so a search costs as much as the holes, not the range.
 */
export function jumpCandidates(
  query: CandleQuery,
  buckets: BucketRow[],
): { between: Jump[]; inside: Array<{ from: number; to: number }> } {
  const step = jumpThreshold(query.interval);
  const between: Jump[] = [];
  const inside: Array<{ from: number; to: number }> = [];
  for (let i = 0; i < buckets.length && inside.length <= query.maxGaps; i++) {
    const bucket = buckets[i]!;
    const previous = buckets[i - 1];
    if (previous && bucket.first - previous.last > step) between.push({ after: previous.last, before: bucket.first });
    if (bucket.candles < countCandles(query.interval, bucket.first, bucket.last + 1))
      inside.push({ from: bucket.first, to: bucket.last + 1 });
  }
  return { between, inside };
}

/** Jumps of both kinds in time order, at most maxGaps + 1 (one more than listed: truncation shows). */
export function mergeJumps(query: CandleQuery, between: Jump[], inside: Jump[]): Jump[] {
  return [...between, ...inside].sort((a, b) => a.after - b.after).slice(0, query.maxGaps + 1);
}

/**
 * The aggregate from the buckets and the jumps (mergeJumps): gaps before the first stored
 * candle, between stored ones, and after the last, up to expectedUntil.
 */
export function candleAggregate(query: CandleQuery, buckets: BucketRow[], jumps: Jump[]): CandleAggregate {
  const { interval, from } = query;
  const end = Math.min(query.to, query.expectedUntil ?? query.to);
  const expected = end > from ? countCandles(interval, from, end) : 0;
  const stored = buckets.reduce((n, b) => n + b.candles, 0);
  const first = buckets[0]?.first;
  const last = buckets.at(-1)?.last;
  const all: Array<{ from: number; to: number }> = [];
  const start = firstExpected(interval, from);
  if (first === undefined || last === undefined) {
    all.push({ from: start, to: end });
  } else {
    all.push({ from: start, to: Math.min(first, end) });
    for (const jump of jumps) all.push({ from: nextOpenTime(interval, jump.after), to: Math.min(jump.before, end) });
    all.push({ from: nextOpenTime(interval, last), to: end });
  }
  const gaps: CandleGap[] = [];
  let truncated = jumps.length > query.maxGaps;
  for (const range of all) {
    const missing = range.to > range.from ? countCandles(interval, range.from, range.to) : 0;
    if (missing === 0) continue;
    if (gaps.length === query.maxGaps) {
      truncated = true;
      break;
    }
    gaps.push({ from: range.from, to: range.to, missing });
  }
  return {
    candles: buckets.map(({ first: _f, last: _l, ...bucket }) => bucket),
    gaps,
    gaps_truncated: truncated,
    stored,
    expected,
  };
}
