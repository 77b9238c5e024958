/**
 * The points an order-book view keeps, and how a live stream's new records join them without
 * reading the range again: a live read asks for what follows the last record read in the
 * finest buckets (1 s, or 1 update id), and each of those is merged into the bucket of the
 * series it falls in (the last quote wins, the spreads' extremes and the counts add up), so
 * the series stays what the server answers for the whole range in the same buckets. Finer
 * buckets nest in coarser ones: the server's time buckets are whole seconds from the epoch
 * (weeks from a Monday), its id buckets whole runs from the range's start.
 *
 * At most CAP points are kept: beyond, the oldest are dropped, so a view left open on a
 * stream for hours stays small.
 */
import type { BookAnswer, QuotePoint } from './wire.ts';

/** Points kept at most; a live view drops the oldest beyond it. */
export const CAP = 5_000;
/** Finest buckets a live read asks for at most (the API's max_points limit). */
const LIVE_BUCKETS = 10_000;

export interface BookSeries {
  axis: BookAnswer['axis'];
  bucket: string;
  /** ms or update ids. */
  size: number;
  /** A bucket start: buckets start whole sizes from it. */
  anchor: number;
  /** The range the points cover: the first bucket kept (or where the first read began), just after the last record read. */
  from: number;
  to: number;
  firstStored: number;
  points: QuotePoint[];
  /** Read up to the newest record: new records extend it. */
  live: boolean;
  /** Where the next live read starts. */
  cursor: number;
  /**
   * The last fine bucket merged and its series bucket as it was before: the next live read
   * starts inside that fine bucket again (records of its second may still land), and its
   * first bucket replaces it.
   */
  last: { x: number; before: QuotePoint | undefined } | undefined;
}

/** A series from a read; `live` when the read went up to the newest record (no `to`). */
export function seriesOf(answer: BookAnswer, live: boolean): BookSeries {
  return {
    axis: answer.axis,
    bucket: answer.bucket,
    size: answer.bucket_size,
    // Any bucket's start is on the grid; without one, the server's own origin of that axis.
    anchor: answer.points[0]?.x ?? (answer.axis === 'time' ? 0 : answer.from),
    from: answer.from,
    to: answer.to,
    firstStored: answer.first_stored,
    points: answer.points.map((p) => ({ ...p })),
    live,
    cursor: answer.to,
    last: undefined,
  };
}

/** The query of the next live read: the finest buckets from the cursor on, as many as the API allows. */
export function liveQuery(series: BookSeries): { from: number; to: number; maxPoints: number } {
  if (series.axis === 'update_id')
    return { from: series.cursor, to: series.cursor + LIVE_BUCKETS, maxPoints: LIVE_BUCKETS };
  // Whole seconds from the cursor's second: exactly LIVE_BUCKETS of them, so the server picks 1 s.
  const second = Math.floor(series.cursor / 1000) * 1000;
  return { from: series.cursor, to: second + LIVE_BUCKETS * 1000, maxPoints: LIVE_BUCKETS };
}

/**
 * Merges a live read (of liveQuery's range) into the series. Answers whether the read may
 * have stopped short of the newest record (its range nearly full), so another should follow
 * at once.
 */
export function mergeLive(series: BookSeries, answer: BookAnswer, readFrom: number): boolean {
  const fine = answer.points;
  if (fine.length === 0) return false;
  const points = series.points;
  // The fine bucket read last time is read again whole: it replaces what it added.
  if (series.last && fine[0]!.x === series.last.x) {
    if (series.last.before) points[points.length - 1] = series.last.before;
    else points.pop();
  }
  const start = (x: number): number => series.anchor + Math.floor((x - series.anchor) / series.size) * series.size;
  for (const p of fine) {
    const x = start(p.x);
    const into = points[points.length - 1];
    if (into?.x === x) {
      points[points.length - 1] = {
        ...into,
        bid: p.bid,
        ask: p.ask,
        bid_qty: p.bid_qty,
        ask_qty: p.ask_qty,
        spread: p.spread,
        min_spread: Math.min(into.min_spread, p.min_spread),
        max_spread: Math.max(into.max_spread, p.max_spread),
        records: into.records + p.records,
      };
      series.last = { x: p.x, before: into };
    } else {
      points.push({ ...p, x });
      series.last = { x: p.x, before: undefined };
    }
  }
  const lastFine = fine[fine.length - 1]!.x;
  series.cursor = Math.max(lastFine, readFrom);
  series.to = Math.max(series.to, answer.last_stored + 1);
  if (points.length > CAP) {
    points.splice(0, points.length - CAP);
    // Every record of a bucket after the first read one was read: the range starts there.
    series.from = points[0]!.x;
  }
  return answer.last_stored >= answer.to - (answer.to - readFrom) / 2;
}

/** Records in the points kept. */
export function recordsOf(series: BookSeries): number {
  return series.points.reduce((n, p) => n + p.records, 0);
}
