/**
 * Charts of what was stored, inside the API's scope (same token rule):
 * `GET /collections/{name}/candles` answers a kline series of a collection in [from, to) (trade
 * candles, or a futures price series: mark, index, premium, told by the first record's key),
 * grouped in the store into at most max_points buckets (chart-buckets.ts), with the gaps:
 * expected candles that are not stored. The console's chart reads it for the visible range.
 */
import type { FastifyInstance } from 'fastify';
import {
  candleOpenTime,
  countCandles,
  intervalMs,
  isInterval,
  nextOpenTime,
  PRICE_KLINE_SERIES,
  type Interval,
} from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import type { CandleKind, Store } from '@streamforge/core/store';
import { chooseBucket } from './chart-buckets.ts';
import { chartQuerystring, collectionParams, firstRecordOf, type ChartQuery } from './chart-series.ts';
import { errorResponses } from './error-schema.ts';

/** Past this many candles in a range (19 years of 1m) a chart is refused rather than scanned. */
export const MAX_RANGE_CANDLES = 10_000_000;

export const candlesResponseSchema = {
  type: 'object',
  properties: {
    collection: { type: 'string' },
    symbol: { type: 'string' },
    kind: {
      type: 'string',
      enum: ['klines', 'mark_price_klines', 'index_price_klines', 'premium_index_klines'],
      description:
        'Trade candles, or a futures price series (mark, index, premium: prices only, so volume, quote_volume and trades are 0)',
    },
    interval: { type: 'string', description: 'The interval of the stored candles' },
    from: { type: 'integer' },
    to: { type: 'integer' },
    bucket: { type: 'string', description: 'What one answered candle spans: 1m, 4h, 1w, …' },
    bucket_ms: { type: 'integer', description: 'Its length in ms (0 for 1M: one candle each)' },
    first_stored: { type: 'integer', description: 'Open time of the first stored candle of the series, anywhere' },
    last_stored: { type: 'integer', description: 'Open time of the last stored candle of the series, anywhere' },
    candles: {
      type: 'array',
      description: 'Buckets in time order: open of the first candle, highest high, lowest low, close of the last, sums',
      items: {
        type: 'object',
        properties: {
          time: { type: 'integer', description: 'Open time of the bucket (ms)' },
          open: { type: 'number' },
          high: { type: 'number' },
          low: { type: 'number' },
          close: { type: 'number' },
          volume: { type: 'number' },
          quote_volume: { type: 'number' },
          trades: { type: 'integer' },
          candles: { type: 'integer', description: 'Stored candles in the bucket' },
        },
      },
    },
    gaps: {
      type: 'array',
      description: 'Expected candles not stored: open times in [from, to), earliest first, at most max_points',
      items: {
        type: 'object',
        properties: { from: { type: 'integer' }, to: { type: 'integer' }, missing: { type: 'integer' } },
      },
    },
    gaps_truncated: { type: 'boolean', description: 'More gaps exist than are listed' },
    stored: { type: 'integer', description: 'Candles stored in the range' },
    expected: { type: 'integer', description: 'Candles the interval expects in the range, closed by now' },
    missing: { type: 'integer', description: 'expected − stored' },
  },
} as const;

function invalid(message: string): StreamForgeError {
  return new StreamForgeError('SF_CONTRACT_INVALID', message);
}

/** The price series a key names (`BTCUSDT:mark:1m:…`), or trade candles (`BTCUSDT:1m:…`). */
function candleKindOf(key: string): CandleKind {
  const part = key.split(':')[1];
  const price = Object.entries(PRICE_KLINE_SERIES).find(([, series]) => series === part);
  return price ? (price[0] as CandleKind) : 'klines';
}

/** The series a chart shows: the symbol asked for (or the collection's first), its kind and interval. */
async function seriesOf(
  store: Store,
  name: string,
  symbol: string | undefined,
): Promise<{ symbol: string; interval: Interval; kind: CandleKind }> {
  const first = await firstRecordOf(store, name, symbol);
  const interval = first.interval;
  if (typeof interval !== 'string' || !isInterval(interval) || typeof first.open_time !== 'number') {
    const timeSeries = /:(funding|metrics):/.test(first.key);
    throw invalid(
      `name: collection ${name} does not hold klines (its records have no interval and open_time, e.g. ${first.key}): ${timeSeries ? `see /collections/${name}/series` : 'only candles are charted'}`,
    );
  }
  return { symbol: first.symbol, interval, kind: candleKindOf(first.key) };
}

export function candleRoutes(api: FastifyInstance, { store }: { store: Store }): void {
  api.get<{ Params: { name: string }; Querystring: ChartQuery }>(
    '/collections/:name/candles',
    {
      schema: {
        summary:
          'Candles of a klines (or mark/index/premium price klines) collection in [from, to), grouped in the store for a chart, and the gaps',
        description:
          "Buckets are the finest whole multiple of the interval (5m, 1h, 4h, 1d, 1w, …) that keeps the answer within max_points. Gaps are time ranges inside [from, to) where the interval expects candles (closed by now) that are not stored. Aggregated values are numbers (doubles); /records keeps the exchange's decimal strings.",
        params: collectionParams,
        querystring: chartQuerystring({
          from: 'Start (ms, inclusive): candles opening at or after it. Default: the first stored candle',
          to: 'End (ms, exclusive). Default: just after the last stored candle',
          symbol: "The series, when a collection holds several (default: the collection's first)",
        }),
        response: { 200: candlesResponseSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { name } = request.params;
      const { max_points: maxPoints } = request.query;
      const { symbol, interval, kind } = await seriesOf(store, name, request.query.symbol);
      const extent = await store.candleExtent(name, { symbol, interval, kind });
      if (!extent)
        throw new StreamForgeError('SF_NOT_FOUND', `collection ${name} holds no ${interval} candles of ${symbol}`);
      const from = request.query.from ?? extent.first;
      const to = request.query.to ?? nextOpenTime(interval, extent.last);
      if (from >= to) throw invalid(`from: ${from} must be before to: ${to}`);
      const length = intervalMs(interval, from);
      const candles = countCandles(interval, from, to);
      if (candles > MAX_RANGE_CANDLES)
        throw invalid(
          `from, to: the range spans ${candles} candles of ${interval}, more than ${MAX_RANGE_CANDLES}: narrow it`,
        );
      const bucket = chooseBucket(interval, length, from, to, maxPoints);
      const aggregate = await store.aggregateCandles(name, {
        symbol,
        interval,
        kind,
        from,
        to,
        bucketMs: bucket.ms,
        bucketOffsetMs: bucket.offsetMs,
        // The candle open now is not closed yet: it is not missing.
        expectedUntil: candleOpenTime(interval, Date.now()),
        maxGaps: maxPoints,
      });
      return {
        collection: name,
        symbol,
        kind,
        interval,
        from,
        to,
        bucket: bucket.label,
        bucket_ms: bucket.ms,
        first_stored: extent.first,
        last_stored: extent.last,
        ...aggregate,
        missing: aggregate.expected - aggregate.stored,
      };
    },
  );
}
