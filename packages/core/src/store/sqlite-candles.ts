/**
 * aggregateCandles on SQLite, over the series' key range (candle-series.ts: the prefix of its
 * kind, trade or price candles) and the table's candle index (sqlite-schema.ts: the key with a
 * kline's numbers; price candle tables get it too), so no document is parsed:
 *
 * - buckets of several candles: one aggregate statement per bucket, a seek and a short scan of
 *   the index each. A single GROUP BY over the range spent most of its time sorting the rows
 *   for the grouping (measured on a year of 1m into 6h: GROUP BY 0.25–0.3 s, per bucket 0.11 s;
 *   before the index, parsing the documents, 1.0 s);
 * - one candle per bucket (the interval itself, or `1M`): the candles listed from the index.
 *
 * The open and close of a bucket are looked up by key. The jumps are searched with lag() only
 * inside the buckets that have holes (jumpCandidates), over keys alone.
 *
 * node:sqlite runs a statement synchronously: the work is cut into slices of about SLICE_MS,
 * with the event loop free in between (the manager serving the console must not stall).
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Store } from './port.ts';
import { intervalMs } from '../contracts/intervals.ts';
import {
  candleAggregate,
  checkCandleQuery,
  jumpCandidates,
  jumpThreshold,
  mergeJumps,
  seriesKeyRange,
  seriesPrefix,
  type BucketRow,
  type Jump,
} from './candle-series.ts';
import { statementsPerTable, type SqliteRunner } from './sqlite-runner.ts';
import { CANDLE_NUMBERS as N, candleIndexDdl, isKlineDoc, quoteIdentifier } from './sqlite-schema.ts';

/** How long the event loop is held at most between yields (one statement may run past it). */
const SLICE_MS = 15;

/** Open times with 13 digits (2001–2286): there, and only there, key order is time order. */
const THIRTEEN_DIGITS_FROM = 1_000_000_000_000;
const THIRTEEN_DIGITS_TO = 10_000_000_000_000;

interface CandleStatements {
  /** One bucket whose bounds are 13-digit times, by its key range alone. */
  bucket: StatementSync;
  /** Each candle in [from, to) as a row of its own. */
  each: StatementSync;
  jumps: StatementSync;
  extent: StatementSync;
}

type Row = Omit<BucketRow, 'time'>;

function compile(db: DatabaseSync, table: string): CandleStatements {
  const t = quoteIdentifier(table);
  const openTime = 'CAST(substr(key, $skip) AS INTEGER)';
  const inRange = `key >= $low AND key < $high AND ${openTime} >= $from AND ${openTime} < $to`;
  const index = `_${table}_candles`;
  // The open and close read from the candle index too where it exists (the key's own index
  // would be chosen otherwise, and the document parsed): a fifth of the year's time.
  const hasIndex = db.prepare("SELECT 1 AS found FROM sqlite_master WHERE type = 'index' AND name = ?").get(index);
  const lookup = hasIndex ? `${t} INDEXED BY ${quoteIdentifier(index)}` : t;
  // Price candles (mark, index, premium) have no volumes: their sums are 0, not null.
  const aggregates = `count(*) AS candles, max(${N.high}) AS high, min(${N.low}) AS low, coalesce(sum(${N.volume}), 0) AS volume,
    coalesce(sum(${N.quote_volume}), 0) AS quote_volume, coalesce(sum(${N.trades}), 0) AS trades`;
  return {
    // First and last by key (no per-row conversion to a number), then converted once.
    bucket:
      db.prepare(`SELECT CAST(substr(b.fk, $skip) AS INTEGER) AS first, CAST(substr(b.lk, $skip) AS INTEGER) AS last,
  b.candles, b.high, b.low, b.volume, b.quote_volume, b.trades,
  (SELECT ${N.open} FROM ${lookup} WHERE key = b.fk) AS open,
  (SELECT ${N.close} FROM ${lookup} WHERE key = b.lk) AS close
FROM (SELECT min(key) AS fk, max(key) AS lk, ${aggregates} FROM ${t} WHERE key >= $low AND key < $high) AS b
WHERE b.candles > 0`),
    each: db.prepare(`SELECT ${openTime} AS first, ${openTime} AS last, 1 AS candles, ${N.high} AS high, ${N.low} AS low,
  coalesce(${N.volume}, 0) AS volume, coalesce(${N.quote_volume}, 0) AS quote_volume, coalesce(${N.trades}, 0) AS trades,
  ${N.open} AS open, ${N.close} AS close
FROM ${t} WHERE ${inRange} ORDER BY key`),
    // Two seeks in the key index, the series' smallest and largest key (min and max in one
    // SELECT would scan the whole series instead).
    extent: db.prepare(`SELECT
  (SELECT CAST(substr(key, $skip) AS INTEGER) FROM ${t} WHERE key >= $low AND key < $high ORDER BY key LIMIT 1) AS first,
  (SELECT CAST(substr(key, $skip) AS INTEGER) FROM ${t} WHERE key >= $low AND key < $high ORDER BY key DESC LIMIT 1) AS last`),
    jumps: db.prepare(`SELECT prev AS after, t AS before FROM (
  SELECT t, lag(t) OVER (ORDER BY t) AS prev FROM (
    SELECT ${openTime} AS t FROM ${t} WHERE key >= $low AND key < $high
  ) WHERE t >= $from AND t < $to
) WHERE t - prev > $step`),
  };
}

/** The candle index on every klines table of a file made before it existed (the schema migration). */
export function indexKlineTables(db: DatabaseSync): void {
  const tables = db.prepare('SELECT table_name FROM collections').all() as Array<{ table_name: string }>;
  for (const { table_name: table } of tables) {
    const first = db.prepare(`SELECT doc FROM ${quoteIdentifier(table)} ORDER BY key LIMIT 1`).get() as
      | { doc: string }
      | undefined;
    if (first && isKlineDoc(JSON.parse(first.doc) as Record<string, unknown>)) db.exec(candleIndexDdl(table));
  }
}

/**
 * Rows (a candle each, or a bucket's part) in time order, merged into their buckets: exact also
 * for candles off the grid, and for a bucket read in two parts.
 */
function groupCandles(rows: Row[], bucketMs: number, offsetMs: number): BucketRow[] {
  rows.sort((a, b) => a.first - b.first);
  const buckets: BucketRow[] = [];
  for (const row of rows) {
    const time = bucketMs === 0 ? row.first : row.first - ((((row.first - offsetMs) % bucketMs) + bucketMs) % bucketMs);
    const into = buckets.at(-1);
    if (into?.time !== time) {
      buckets.push({ time, ...row });
      continue;
    }
    into.last = row.last;
    into.close = row.close;
    into.candles += row.candles;
    into.high = Math.max(into.high, row.high);
    into.low = Math.min(into.low, row.low);
    into.volume += row.volume;
    into.quote_volume += row.quote_volume;
    into.trades += row.trades;
  }
  return buckets;
}

const yieldToEventLoop = () => new Promise((resolve) => setImmediate(resolve));

export function createSqliteCandles(
  db: DatabaseSync,
  runner: Pick<SqliteRunner, 'reading'>,
  tableOf: (collection: string) => string | undefined,
): Pick<Store, 'aggregateCandles' | 'candleExtent'> {
  const statementsOf = statementsPerTable(tableOf, (table) => compile(db, table));
  return {
    candleExtent: (collection, series) =>
      runner.reading(`candleExtent ${collection}`, () => {
        const prefix = seriesPrefix(series.symbol, series.interval, series.kind);
        const row = statementsOf(collection)?.extent.get({
          skip: prefix.length + 1,
          low: prefix,
          high: `${prefix.slice(0, -1)};`,
        }) as { first: number | null; last: number | null } | undefined;
        return row?.first == null || row.last == null ? undefined : { first: row.first, last: row.last };
      }),

    async aggregateCandles(collection, query) {
      checkCandleQuery(query);
      const prefix = seriesPrefix(query.symbol, query.interval, query.kind);
      const skip = prefix.length + 1;
      const { bucketMs, bucketOffsetMs: offsetMs } = query;
      const range = (from: number, to: number) => ({ ...seriesKeyRange({ ...query, from, to }), from, to, skip });
      const rows: Row[] = [];
      const each = (from: number, to: number) =>
        runner.reading(`aggregateCandles ${collection}`, () => {
          const found = from < to ? statementsOf(collection)?.each.all(range(from, to)) : [];
          rows.push(...((found ?? []) as unknown as Row[]));
        });
      if (bucketMs === 0 || bucketMs <= intervalMs(query.interval, query.from)) {
        // One candle a bucket: at most max_points of them, listed in one statement.
        await each(query.from, query.to);
      } else {
        // Open times outside 13 digits do not sort by key: such candles (none in Binance's data)
        // are listed one by one; the rest bucket by bucket, clipped to the range.
        await each(query.from, Math.min(query.to, THIRTEEN_DIGITS_FROM));
        await each(Math.max(query.from, THIRTEEN_DIGITS_TO), query.to);
        const from = Math.max(query.from, THIRTEEN_DIGITS_FROM);
        const to = Math.min(query.to, THIRTEEN_DIGITS_TO);
        // Nothing in 13 digits when the range lies wholly outside them.
        let start = from < to ? from - ((((from - offsetMs) % bucketMs) + bucketMs) % bucketMs) : to;
        while (start < to) {
          // A slice of buckets at a time, the event loop free in between.
          await yieldToEventLoop();
          const done = await runner.reading(`aggregateCandles ${collection}`, () => {
            const statements = statementsOf(collection);
            if (statements === undefined) return to;
            const sliceEnd = performance.now() + SLICE_MS;
            let at = start;
            for (; at < to && performance.now() < sliceEnd; at += bucketMs) {
              const row = statements.bucket.get({
                low: `${prefix}${Math.max(at, from)}`,
                high: `${prefix}${Math.min(at + bucketMs, to)}`,
                skip,
              }) as Row | undefined;
              if (row) rows.push(row);
            }
            return at;
          });
          start = done;
        }
      }
      const buckets = groupCandles(rows, bucketMs, offsetMs);
      await yieldToEventLoop();
      return runner.reading(`aggregateCandles gaps ${collection}`, () => {
        const statements = statementsOf(collection);
        if (statements === undefined) return candleAggregate(query, [], []);
        const { between, inside } = jumpCandidates(query, buckets);
        const step = jumpThreshold(query.interval);
        const found = inside.flatMap(
          (span) => statements.jumps.all({ ...range(span.from, span.to), step }) as unknown as Jump[],
        );
        return candleAggregate(query, buckets, mergeJumps(query, between, found));
      });
    },
  };
}
