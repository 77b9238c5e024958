/**
 * Line charts of the futures series that are not candles, inside the API's scope (same token
 * rule): `GET /collections/{name}/series` answers a funding rate collection (`funding_rate`
 * over funding time) or a metrics collection (open interest and the long/short ratios over
 * create time) in [from, to), at most max_points buckets of time, the last record of each.
 *
 * Keys are `SYMBOL:funding:<time>` and `SYMBOL:metrics:<time>`, 13-digit ms times, so key
 * order is time order: the read starts at `from`'s key and stops at `to`, a page at a time
 * through the store port (the same on SQLite and ArangoDB) with the event loop free in
 * between. Past SERIES_LIMITS.records the range is refused with a `to` that fits, or, without
 * `to`, the answer ends there (`complete: false`, `to` the first record left out).
 */
import type { FastifyInstance } from 'fastify';
import { METRICS_FIELDS, type DataRecord } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import type { Store } from '@streamforge/core/store';
import { chooseBucket } from './chart-buckets.ts';
import { chartQuerystring, collectionParams, firstRecordOf, type ChartQuery } from './chart-series.ts';
import { errorResponses } from './error-schema.ts';

export type SeriesKind = 'funding_rate' | 'metrics';

const SERIES: Record<SeriesKind, { keyPart: string; time: string; fields: readonly string[] }> = {
  funding_rate: { keyPart: 'funding', time: 'funding_time', fields: ['funding_rate'] },
  metrics: { keyPart: 'metrics', time: 'create_time', fields: METRICS_FIELDS },
};

/**
 * Records one answer reads at most (a record is a few numbers: 200,000 are read in about a
 * second), and per page. 200,000 is 180 years of 8-hour funding, or nearly two years of
 * 5-minute metrics. Not frozen: tests lower it to reach it with a small fixture.
 */
export const SERIES_LIMITS = { records: 200_000, page: 1_000 };

/** Times with 13 digits (2001–2286): there, and only there, key order is time order. */
const THIRTEEN_DIGITS_FROM = 1_000_000_000_000;
const THIRTEEN_DIGITS_TO = 10_000_000_000_000;

const numberField = { type: 'number' } as const;

export const seriesResponseSchema = {
  type: 'object',
  properties: {
    collection: { type: 'string' },
    symbol: { type: 'string' },
    kind: { type: 'string', enum: ['funding_rate', 'metrics'] },
    fields: { type: 'array', items: { type: 'string' }, description: 'The values each point carries' },
    from: { type: 'integer' },
    to: { type: 'integer' },
    bucket: { type: 'string', description: 'What one point spans: 1s, 5m, 8h, 1d, …' },
    bucket_ms: { type: 'integer' },
    first_stored: { type: 'integer', description: 'Time of the first stored record of the symbol' },
    records: { type: 'integer', description: 'Records in [from, to)' },
    complete: {
      type: 'boolean',
      description: 'false: without `to`, the limit was reached; `to` is the first record left out',
    },
    points: {
      type: 'array',
      description: 'Buckets with records, in time order: the values of the last record in each',
      items: {
        type: 'object',
        properties: {
          time: { type: 'integer', description: 'Start of the bucket (ms)' },
          records: { type: 'integer', description: 'Records in the bucket' },
          ...Object.fromEntries(
            [...new Set(Object.values(SERIES).flatMap((s) => s.fields))].map((f) => [f, numberField]),
          ),
        },
      },
    },
  },
} as const;

function invalid(message: string): StreamForgeError {
  return new StreamForgeError('SF_CONTRACT_INVALID', message);
}

/** The route that charts a collection whose first key is this one. */
function routeOfKey(key: string): string {
  const part = key.split(':')[1] ?? '';
  if (part === 'depth') return 'depth';
  if (part === 'book') return 'book-ticker';
  if (part === 'agg' || part === 'trade') return 'trades';
  return 'candles';
}

function kindOf(record: DataRecord): SeriesKind | undefined {
  const part = record.key.split(':')[1];
  return (Object.keys(SERIES) as SeriesKind[]).find((kind) => SERIES[kind].keyPart === part);
}

interface Point {
  time: number;
  records: number;
  [field: string]: number;
}

async function answer(store: Store, name: string, query: ChartQuery) {
  const first = await firstRecordOf(store, name, query.symbol);
  const kind = kindOf(first);
  if (!kind)
    throw invalid(
      `name: collection ${name} does not hold funding rate or metrics records (e.g. ${first.key}): see /collections/${name}/${routeOfKey(first.key)}`,
    );
  if (query.from !== undefined && query.to !== undefined && query.from >= query.to)
    throw invalid(`from: ${query.from} must be before to: ${query.to}`);
  const { keyPart, time, fields } = SERIES[kind];
  const symbol = first.symbol;
  const prefix = `${symbol}:${keyPart}:`;
  const firstStored = Number(first[time]);
  const from = query.from ?? firstStored;
  const limit = SERIES_LIMITS.records;
  const bucketOf = (at: number, ms: number, offset: number) => at - ((((at - offset) % ms) + ms) % ms);

  const times: number[] = [];
  const values: number[][] = fields.map(() => []);
  /** Without `to`: the time of the first record the limit left out. */
  let cut: number | undefined;
  // The read starts at from's key where times have 13 digits; before that, at the series' start.
  let after = from > THIRTEEN_DIGITS_FROM && from < THIRTEEN_DIGITS_TO ? `${prefix}${from - 1}` : prefix;
  read: for (;;) {
    const page = await store.listRecords(name, { after, limit: SERIES_LIMITS.page });
    for (const record of page) {
      if (!record.key.startsWith(prefix)) break read;
      const at = record[time];
      if (typeof at !== 'number' || at < from) continue;
      if (query.to !== undefined && at >= query.to) break read;
      if (times.length === limit) {
        if (query.to !== undefined)
          throw invalid(
            `from, to: the range holds more than ${limit} ${kind} records: narrow it (its first ${limit} end before ${at}: e.g. to=${at})`,
          );
        cut = at;
        break read;
      }
      times.push(at);
      for (const [i, field] of fields.entries()) values[i]!.push(Number(record[field]));
    }
    if (page.length < SERIES_LIMITS.page) break;
    after = page.at(-1)!.key;
    await new Promise((resolve) => setImmediate(resolve));
  }
  const to = query.to ?? cut ?? (times.at(-1) ?? from) + 1;
  if (from >= to) throw invalid(`from: ${from} must be before to: ${to}`);
  const bucket = chooseBucket('1s', 1_000, from, to, query.max_points);
  const points: Point[] = [];
  for (const [i, at] of times.entries()) {
    const start = bucketOf(at, bucket.ms, bucket.offsetMs);
    let point = points.at(-1);
    if (point?.time !== start) {
      point = { time: start, records: 0 };
      points.push(point);
    }
    point.records++;
    // The last record of the bucket: a level (open interest, a ratio, the rate) as it stood.
    for (const [f, field] of fields.entries()) point[field] = values[f]![i]!;
  }
  return {
    collection: name,
    symbol,
    kind,
    fields: [...fields],
    from,
    to,
    bucket: bucket.label,
    bucket_ms: bucket.ms,
    first_stored: firstStored,
    records: times.length,
    complete: cut === undefined,
    points,
  };
}

export function seriesRoutes(api: FastifyInstance, { store }: { store: Store }): void {
  api.get<{ Params: { name: string }; Querystring: ChartQuery }>(
    '/collections/:name/series',
    {
      schema: {
        summary: 'A funding rate or metrics collection over time, at most max_points buckets, for a line chart',
        description: `Funding rates over funding time (\`funding_rate\`), or metrics over create time (open interest, its value, and the long/short ratios). Each point is a bucket of time (1s, 5s, … 8h, 1d, …: the finest that keeps max_points), with the values of its last record. Values are doubles; /records keeps the exchange's decimal strings. A range holding more than ${SERIES_LIMITS.records.toLocaleString('en')} records is refused (400, naming a \`to\` that fits); without \`to\` the answer ends at the limit (\`complete\` false).`,
        params: collectionParams,
        querystring: chartQuerystring({
          from: 'Start (ms, inclusive). Default: the first stored record',
          to: `Default: just after the last stored record, or the first one past the limit (${SERIES_LIMITS.records.toLocaleString('en')} records)`,
          symbol: "Default: the collection's first",
        }),
        response: { 200: seriesResponseSchema, ...errorResponses },
      },
    },
    async (request) => answer(store, request.params.name, request.query),
  );
}
