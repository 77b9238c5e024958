/**
 * aggregateCandles on ArangoDB: COLLECT over the `by_open_time` index range (AQL.candleBuckets)
 * of the series whose keys start with its kind's prefix (trade or price candles),
 * then the jumps searched only inside the buckets with holes (AQL.candleJumps, WINDOW).
 * Checked by the store contract against the stand-in and, with ARANGO_URL, a real server.
 */
import { AQL } from './arango-queries.ts';
import { orMissing } from './arango-retry.ts';
import {
  candleAggregate,
  checkCandleQuery,
  jumpCandidates,
  jumpThreshold,
  mergeJumps,
  seriesPrefix,
  type BucketRow,
  type Jump,
} from './candle-series.ts';
import { isRecordCollectionName } from './input-checks.ts';
import type { Store } from './port.ts';

type Query = <T>(what: string, aql: string, bindVars: Record<string, unknown>) => Promise<T[]>;

export function createArangoCandles(query: Query): Pick<Store, 'aggregateCandles' | 'candleExtent'> {
  return {
    async candleExtent(collection, series) {
      if (!isRecordCollectionName(collection)) return undefined;
      const [row] = await orMissing(
        query<{ first: number | null; last: number | null }>(`candleExtent ${collection}`, AQL.candleExtent, {
          '@collection': collection,
          symbol: series.symbol,
          interval: series.interval,
          prefix: seriesPrefix(series.symbol, series.interval, series.kind),
        }),
        [],
      );
      return row?.first == null || row.last == null ? undefined : { first: row.first, last: row.last };
    },

    async aggregateCandles(collection, candles) {
      checkCandleQuery(candles);
      if (!isRecordCollectionName(collection)) return candleAggregate(candles, [], []);
      const series = {
        '@collection': collection,
        symbol: candles.symbol,
        interval: candles.interval,
        // The kind's key prefix keeps a price series apart from the trade candles of the same symbol and interval.
        prefix: seriesPrefix(candles.symbol, candles.interval, candles.kind),
      };
      const buckets = await orMissing(
        query<BucketRow>(`aggregateCandles ${collection}`, AQL.candleBuckets, {
          ...series,
          from: candles.from,
          to: candles.to,
          bucket: candles.bucketMs,
          offset: candles.bucketOffsetMs,
        }),
        [],
      );
      const { between, inside } = jumpCandidates(candles, buckets);
      const found =
        inside.length === 0
          ? []
          : await query<Jump>(`aggregateCandles gaps ${collection}`, AQL.candleJumps, {
              ...series,
              spans: inside,
              step: jumpThreshold(candles.interval),
            });
      return candleAggregate(candles, buckets, mergeJumps(candles, between, found));
    },
  };
}
