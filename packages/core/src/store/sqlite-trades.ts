/**
 * aggregateTrades on SQLite: the time range becomes a key range by binary search over trade
 * ids (each step one seek in the key index, trade-series.ts), then one GROUP BY over it, the
 * first and last trade of each bucket looked up by key. As for candles, the CTE is
 * MATERIALIZED so the sorter gets numbers, not documents, and a long range is grouped in
 * pieces cut on the bucket grid with the event loop free in between.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Store, TradeBucket, TradeQuery } from './port.ts';
import { statementsPerTable, type SqliteRunner } from './sqlite-runner.ts';
import { quoteIdentifier } from './sqlite-schema.ts';
import { bucketAlignedChunks } from './candle-series.ts';
import { checkTradeQuery, padTradeId, tradeKeyRange } from './trade-series.ts';

/** Trades grouped in one statement at most (as CHUNK_CANDLES in sqlite-candles.ts, ~40 ms). */
const CHUNK_TRADES = 20_000;

interface TradeStatements {
  first: StatementSync;
  last: StatementSync;
  buckets: StatementSync;
}

function compile(db: DatabaseSync, table: string): TradeStatements {
  const t = quoteIdentifier(table);
  const time = "CAST(doc ->> 'timestamp' AS INTEGER)";
  const price = "CAST(doc ->> 'price' AS REAL)";
  return {
    first: db.prepare(`SELECT key, ${time} AS t FROM ${t} WHERE key >= $low AND key < $high ORDER BY key LIMIT 1`),
    last: db.prepare(`SELECT key, ${time} AS t FROM ${t} WHERE key >= $low AND key < $high ORDER BY key DESC LIMIT 1`),
    buckets: db.prepare(`WITH r AS MATERIALIZED (
  SELECT key, ${time} AS t, ${price} AS p, CAST(doc ->> 'quantity' AS REAL) AS q
  FROM ${t} WHERE key >= $low AND key < $high
)
SELECT b.bucket AS time, b.high, b.low, b.volume, b.quote_volume, b.trades,
  (SELECT ${price} FROM ${t} WHERE key = b.first) AS open,
  (SELECT ${price} FROM ${t} WHERE key = b.last) AS close
FROM (
  SELECT t - ((t - $offset) % $bucket) AS bucket, min(key) AS first, max(key) AS last, max(p) AS high, min(p) AS low,
    sum(q) AS volume, sum(p * q) AS quote_volume, count(*) AS trades
  FROM r WHERE t >= $from AND t < $to
  GROUP BY bucket
) AS b
ORDER BY b.bucket`),
  };
}

type Row = { key: string; t: number } | undefined;

export function createSqliteTrades(
  db: DatabaseSync,
  runner: Pick<SqliteRunner, 'reading'>,
  tableOf: (collection: string) => string | undefined,
): Pick<Store, 'aggregateTrades' | 'tradeExtent'> {
  const statementsOf = statementsPerTable(tableOf, (table) => compile(db, table));

  /**
   * The key of the first trade at or after `time`, or `high` when none is. With f(m) the first
   * stored id ≥ m, "f(m)'s trade is at or after time" is false, then true, as m grows (times
   * never decrease with ids): bisect for the smallest such m, one seek a step.
   */
  function keyAtOrAfter(s: TradeStatements, range: ReturnType<typeof tradeKeyRange>, time: number): string {
    const first = s.first.get({ low: range.low, high: range.high }) as Row;
    const last = s.last.get({ low: range.low, high: range.high }) as Row;
    if (!first || !last || last.t < time) return range.high;
    const idOf = (key: string): number => Number(key.slice(range.prefix.length));
    const firstFrom = (m: number): Row => s.first.get({ low: range.prefix + padTradeId(m), high: range.high }) as Row;
    let low = idOf(first.key);
    let high = idOf(last.key);
    while (low < high) {
      const mid = Math.floor((low + high) / 2);
      if ((firstFrom(mid)?.t ?? Number.POSITIVE_INFINITY) >= time) high = mid;
      else low = mid + 1;
    }
    return firstFrom(low)?.key ?? range.high;
  }

  return {
    tradeExtent: (collection, series) =>
      runner.reading(`tradeExtent ${collection}`, () => {
        const s = statementsOf(collection);
        const range = tradeKeyRange(series.symbol, series.kind);
        const first = s?.first.get({ low: range.low, high: range.high }) as Row;
        const last = s?.last.get({ low: range.low, high: range.high }) as Row;
        return first && last ? { first: first.t, last: last.t } : undefined;
      }),

    async aggregateTrades(collection, query: TradeQuery) {
      checkTradeQuery(query);
      const range = tradeKeyRange(query.symbol, query.kind);
      // How many ids the range spans tells how long a piece of about CHUNK_TRADES trades is.
      const span = await runner.reading(`aggregateTrades ${collection}`, () => {
        const s = statementsOf(collection);
        if (!s) return undefined;
        const low = keyAtOrAfter(s, range, query.from);
        const high = keyAtOrAfter(s, range, query.to);
        if (low >= high) return undefined;
        // Past the last trade, the bound is the last id + 1.
        const end = high === range.high ? (s.last.get({ low, high }) as Row)?.key : high;
        const idOf = (key: string): number => Number(key.slice(range.prefix.length));
        return { count: (end ? idOf(end) + (high === range.high ? 1 : 0) : idOf(low) + 1) - idOf(low) };
      });
      if (!span) return [];
      const count = span.count;
      const chunkMs = Math.max(
        query.bucketMs,
        Math.floor(((query.to - query.from) * CHUNK_TRADES) / Math.max(count, 1)),
      );
      const buckets: TradeBucket[] = [];
      for (const [i, chunk] of bucketAlignedChunks(
        query.from,
        query.to,
        query.bucketMs,
        query.bucketOffsetMs,
        chunkMs,
      ).entries()) {
        if (i > 0) await new Promise((resolve) => setImmediate(resolve));
        const rows = await runner.reading(`aggregateTrades ${collection}`, () => {
          const s = statementsOf(collection);
          if (!s) return [];
          const low = keyAtOrAfter(s, range, chunk.from);
          const high = keyAtOrAfter(s, range, chunk.to);
          if (low >= high) return [];
          return s.buckets.all({
            low,
            high,
            ...chunk,
            bucket: query.bucketMs,
            offset: query.bucketOffsetMs,
          }) as unknown as TradeBucket[];
        });
        buckets.push(...rows);
      }
      return buckets;
    },
  };
}
