/**
 * aggregateTrades on ArangoDB: COLLECT over the `by_timestamp` index range (AQL.tradeBuckets),
 * the first and last trade of each bucket read by `_key`. Checked by the store contract against
 * the stand-in and, with ARANGO_URL, a real server.
 */
import { AQL } from './arango-queries.ts';
import { orMissing } from './arango-retry.ts';
import { isRecordCollectionName } from './input-checks.ts';
import type { Store, TradeBucket } from './port.ts';
import { checkTradeQuery, tradeKeyRange } from './trade-series.ts';

type Query = <T>(what: string, aql: string, bindVars: Record<string, unknown>) => Promise<T[]>;

export function createArangoTrades(query: Query): Pick<Store, 'aggregateTrades' | 'tradeExtent'> {
  return {
    async tradeExtent(collection, series) {
      if (!isRecordCollectionName(collection)) return undefined;
      const { low, high } = tradeKeyRange(series.symbol, series.kind);
      const [row] = await orMissing(
        query<{ first: number | null; last: number | null }>(`tradeExtent ${collection}`, AQL.tradeExtent, {
          '@collection': collection,
          low,
          high,
        }),
        [],
      );
      return row?.first == null || row.last == null ? undefined : { first: row.first, last: row.last };
    },

    async aggregateTrades(collection, trades) {
      checkTradeQuery(trades);
      if (!isRecordCollectionName(collection)) return [];
      return orMissing(
        query<TradeBucket>(`aggregateTrades ${collection}`, AQL.tradeBuckets, {
          '@collection': collection,
          name: collection,
          symbol: trades.symbol,
          prefix: tradeKeyRange(trades.symbol, trades.kind).prefix,
          from: trades.from,
          to: trades.to,
          bucket: trades.bucketMs,
          offset: trades.bucketOffsetMs,
        }),
        [],
      );
    },
  };
}
