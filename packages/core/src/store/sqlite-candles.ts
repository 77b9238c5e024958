/**
 * aggregateCandles on SQLite: one GROUP BY over the series' key range (the table's key index,
 * candle-series.ts), with open times read from the keys; the open and close of each bucket
 * are then looked up by key, and the jumps are searched with lag() only inside the buckets
 * that have holes (jumpCandidates), over keys alone (the index covers them).
 *
 * The CTE is MATERIALIZED so the sorter of the GROUP BY gets the extracted numbers, not the
 * documents (measured on a year of 1m candles: 1.9 s with the documents, 0.95 s without). A long
 * range is grouped in pieces cut on the bucket grid, yielding between them: node:sqlite runs a
 * statement synchronously, and the manager serving the console must not stall for a second.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Store } from './port.ts';
import { intervalMs } from '../contracts/intervals.ts';
import {
  bucketAlignedChunks,
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
import { quoteIdentifier } from './sqlite-schema.ts';

/** Candles grouped in one statement at most: about 40 ms of SQLite's time on these 2 cores. */
const CHUNK_CANDLES = 20_000;

interface CandleStatements {
  buckets: StatementSync;
  jumps: StatementSync;
  extent: StatementSync;
}

function compile(db: DatabaseSync, table: string): CandleStatements {
  const t = quoteIdentifier(table);
  const number = (name: string) => `CAST(doc ->> '${name}' AS REAL)`;
  const openTime = 'CAST(substr(key, $skip) AS INTEGER)';
  return {
    buckets: db.prepare(`WITH r AS MATERIALIZED (
  SELECT ${openTime} AS t, ${number('high')} AS h, ${number('low')} AS l, ${number('volume')} AS v,
    ${number('quote_asset_volume')} AS q, doc ->> 'number_of_trades' AS n
  FROM ${t} WHERE key >= $low AND key < $high
)
SELECT b.bucket AS time, b.first, b.last, b.candles, b.high, b.low, b.volume, b.quote_volume, b.trades,
  (SELECT ${number('open')} FROM ${t} WHERE key = $prefix || b.first) AS open,
  (SELECT ${number('close')} FROM ${t} WHERE key = $prefix || b.last) AS close
FROM (
  SELECT CASE WHEN $bucket = 0 THEN t ELSE t - ((t - $offset) % $bucket) END AS bucket,
    min(t) AS first, max(t) AS last, count(*) AS candles, max(h) AS high, min(l) AS low,
    sum(v) AS volume, sum(q) AS quote_volume, sum(n) AS trades
  FROM r WHERE t >= $from AND t < $to
  GROUP BY bucket
) AS b
ORDER BY b.bucket`),
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

export function createSqliteCandles(
  db: DatabaseSync,
  runner: Pick<SqliteRunner, 'reading'>,
  tableOf: (collection: string) => string | undefined,
): Pick<Store, 'aggregateCandles' | 'candleExtent'> {
  const statementsOf = statementsPerTable(tableOf, (table) => compile(db, table));
  return {
    candleExtent: (collection, series) =>
      runner.reading(`candleExtent ${collection}`, () => {
        const prefix = seriesPrefix(series.symbol, series.interval);
        const row = statementsOf(collection)?.extent.get({
          skip: prefix.length + 1,
          low: prefix,
          high: `${prefix.slice(0, -1)};`,
        }) as { first: number | null; last: number | null } | undefined;
        return row?.first == null || row.last == null ? undefined : { first: row.first, last: row.last };
      }),

    async aggregateCandles(collection, query) {
      checkCandleQuery(query);
      const prefix = seriesPrefix(query.symbol, query.interval);
      const skip = prefix.length + 1;
      // A statement blocks the process while it runs: a long range is grouped in pieces of about
      // CHUNK_CANDLES candles (~40 ms each), with the event loop free in between.
      const chunks = bucketAlignedChunks(
        query.from,
        query.to,
        query.bucketMs,
        query.bucketOffsetMs,
        CHUNK_CANDLES * intervalMs(query.interval, query.from),
      );
      const buckets: BucketRow[] = [];
      for (const [i, chunk] of chunks.entries()) {
        if (i > 0) await new Promise((resolve) => setImmediate(resolve));
        const rows = await runner.reading(`aggregateCandles ${collection}`, () =>
          statementsOf(collection)?.buckets.all({
            ...seriesKeyRange({ ...query, ...chunk }),
            ...chunk,
            prefix,
            skip,
            bucket: query.bucketMs,
            offset: query.bucketOffsetMs,
          }),
        );
        if (rows === undefined) return candleAggregate(query, [], []);
        buckets.push(...(rows as unknown as BucketRow[]));
      }
      return runner.reading(`aggregateCandles gaps ${collection}`, () => {
        const statements = statementsOf(collection);
        if (statements === undefined) return candleAggregate(query, [], []);
        const { between, inside } = jumpCandidates(query, buckets);
        const step = jumpThreshold(query.interval);
        const found = inside.flatMap(
          (span) =>
            statements.jumps.all({
              ...seriesKeyRange({ ...query, ...span }),
              ...span,
              skip,
              step,
            }) as unknown as Jump[],
        );
        return candleAggregate(query, buckets, mergeJumps(query, between, found));
      });
    },
  };
}
