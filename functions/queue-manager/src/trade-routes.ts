/**
 * Price and volume of a trades collection (aggTrades or trades), inside the API's scope (same
 * token rule): `GET /collections/{name}/trades` groups a symbol's trades in [from, to) in the
 * store into at most max_points price candles, the console's chart of a trades collection.
 */
import type { FastifyInstance } from 'fastify';
import { StreamForgeError } from '@streamforge/core/errors';
import type { Store } from '@streamforge/core/store';
import { chooseBucket } from './chart-buckets.ts';
import { chartQuerystring, collectionParams, firstRecordOf, type ChartQuery } from './chart-series.ts';
import { errorResponses } from './error-schema.ts';

export const tradesResponseSchema = {
  type: 'object',
  properties: {
    collection: { type: 'string' },
    symbol: { type: 'string' },
    kind: { type: 'string', enum: ['agg_trades', 'trades'] },
    from: { type: 'integer' },
    to: { type: 'integer' },
    bucket: { type: 'string', description: 'What one answered candle spans: 1s, 1m, 1h, …' },
    bucket_ms: { type: 'integer' },
    first_trade: { type: 'integer', description: 'Time of the first stored trade of the symbol, anywhere' },
    last_trade: { type: 'integer', description: 'Time of the last stored trade of the symbol, anywhere' },
    candles: {
      type: 'array',
      description:
        'Buckets with trades, in time order: first, highest, lowest and last price; summed quantity, price × quantity, trades',
      items: {
        type: 'object',
        properties: {
          time: { type: 'integer' },
          open: { type: 'number' },
          high: { type: 'number' },
          low: { type: 'number' },
          close: { type: 'number' },
          volume: { type: 'number' },
          quote_volume: { type: 'number' },
          trades: { type: 'integer' },
        },
      },
    },
  },
} as const;

/** The symbol and kind of trades a chart shows: the one asked for, or the collection's first record's. */
async function tradesOf(
  store: Store,
  name: string,
  symbol: string | undefined,
): Promise<{ symbol: string; kind: 'agg' | 'trade' }> {
  const first = await firstRecordOf(store, name, symbol);
  const kind = first.key.split(':')[1];
  if ((kind !== 'agg' && kind !== 'trade') || typeof first.timestamp !== 'number' || typeof first.price !== 'string')
    throw new StreamForgeError(
      'SF_CONTRACT_INVALID',
      `name: collection ${name} does not hold trades (its records have no trade id, timestamp and price, e.g. ${first.key}): see /collections/${name}/candles for klines`,
    );
  return { symbol: first.symbol, kind };
}

export function tradeRoutes(api: FastifyInstance, { store }: { store: Store }): void {
  api.get<{ Params: { name: string }; Querystring: ChartQuery }>(
    '/collections/:name/trades',
    {
      schema: {
        summary:
          'Price and volume of a trades collection (aggTrades or trades) in [from, to), grouped in the store for a chart',
        description:
          'Buckets are the finest length (1s, 5s, 15s, 30s, 1m, …) that keeps the answer within max_points; a bucket without a trade is left out. Values are numbers (doubles).',
        params: collectionParams,
        querystring: chartQuerystring({
          from: 'Start (ms, inclusive). Default: the first stored trade',
          to: 'End (ms, exclusive). Default: just after the last stored trade',
          symbol: "Default: the collection's first",
        }),
        response: { 200: tradesResponseSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { name } = request.params;
      const { symbol, kind } = await tradesOf(store, name, request.query.symbol);
      const extent = await store.tradeExtent(name, { symbol, kind });
      if (!extent) throw new StreamForgeError('SF_NOT_FOUND', `collection ${name} holds no trades of ${symbol}`);
      const from = request.query.from ?? extent.first;
      const to = request.query.to ?? extent.last + 1;
      if (from >= to) throw new StreamForgeError('SF_CONTRACT_INVALID', `from: ${from} must be before to: ${to}`);
      const bucket = chooseBucket('1s', 1_000, from, to, request.query.max_points);
      const candles = await store.aggregateTrades(name, {
        symbol,
        kind,
        from,
        to,
        bucketMs: bucket.ms,
        bucketOffsetMs: bucket.offsetMs,
      });
      return {
        collection: name,
        symbol,
        kind: kind === 'agg' ? 'agg_trades' : 'trades',
        from,
        to,
        bucket: bucket.label,
        bucket_ms: bucket.ms,
        first_trade: extent.first,
        last_trade: extent.last,
        candles,
      };
    },
  );
}
