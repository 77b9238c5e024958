/**
 * Order-book charts, inside the API's scope (same token rule):
 *
 * - `GET /collections/{name}/depth`: a depth collection's latest stored book as a ladder, and
 *   its best bid and ask over event time, at most max_points buckets;
 * - `GET /collections/{name}/book-ticker`: a bookTicker collection's best bid, best ask and
 *   spread, at most max_points buckets, over event time where the records carry it (USD-M)
 *   and over the update id where they do not (spot's stream has no time).
 *
 * A depth record is not a diff: the WebSocket loader keeps the local book (snapshot plus
 * diffs) and stores its best `levels` per side once per published update, so the latest
 * record is the latest book, as deep as the loader kept it.
 *
 * Both read the records in key (update id) order through the store port, a page at a time
 * with the event loop free in between, and keep a few numbers of each. A range is sought
 * (keys sort by update id, and event time never decreases with it), so only its own records
 * are read, and past SCAN_LIMITS of them it is refused; without `from` the answer is the most
 * recent records that fit, so a long stream's default view still opens.
 */
import type { FastifyInstance } from 'fastify';
import type { DataRecord } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import type { Store } from '@streamforge/core/store';
import { chooseBucket } from './chart-buckets.ts';
import { chartQuerystring, collectionParams, firstRecordOf, type ChartQuery } from './chart-series.ts';
import { errorResponses } from './error-schema.ts';

type BookKind = 'depth' | 'book_ticker';

/**
 * Records of [from, to) one answer reads at most (past it the range is refused: narrow it;
 * without `from` the most recent ones that fit are shown), and per page: a depth record holds
 * up to 5000 levels a side, a bookTicker record four numbers, so a page of either is parsed
 * in a few ms and a whole answer in seconds at worst. Not frozen: tests lower `records` to
 * reach it without a huge fixture.
 */
export const SCAN_LIMITS: Record<BookKind, { records: number; page: number }> = {
  depth: { records: 200_000, page: 100 },
  book_ticker: { records: 1_000_000, page: 1_000 },
};
const KEY_PART: Record<BookKind, string> = { depth: 'depth', book_ticker: 'book' };
const ROUTE: Record<BookKind, string> = { depth: 'depth', book_ticker: 'book-ticker' };

const point = {
  type: 'object',
  properties: {
    x: { type: 'integer', description: 'Start of the bucket: ms (axis time) or an update id (axis update_id)' },
    bid: { type: 'number', description: 'Best bid of the last record in the bucket' },
    ask: { type: 'number', description: 'Best ask of the last record in the bucket' },
    bid_qty: { type: 'number' },
    ask_qty: { type: 'number' },
    spread: { type: 'number', description: 'ask − bid of the last record in the bucket' },
    min_spread: { type: 'number', description: 'Narrowest spread in the bucket' },
    max_spread: { type: 'number', description: 'Widest spread in the bucket' },
    records: { type: 'integer', description: 'Records in the bucket' },
  },
} as const;

const seriesProperties = {
  collection: { type: 'string' },
  symbol: { type: 'string' },
  kind: { type: 'string', enum: ['depth', 'book_ticker'] },
  axis: { type: 'string', enum: ['time', 'update_id'], description: 'What x, from and to measure' },
  from: { type: 'integer' },
  to: { type: 'integer' },
  bucket: { type: 'string', description: 'What one point spans: 1s, 1m, … (time), or `N ids` (update_id)' },
  bucket_size: { type: 'integer', description: 'Its length in ms or update ids' },
  first_stored: { type: 'integer', description: 'x of the first stored record of the symbol' },
  last_stored: { type: 'integer', description: 'x of the last stored record before `to` (without `to`: of all)' },
  records: { type: 'integer', description: 'Records in [from, to)' },
  points: { type: 'array', description: 'Buckets with records, in order', items: point },
} as const;

const level = {
  type: 'object',
  properties: {
    price: { type: 'number' },
    quantity: { type: 'number' },
    cumulative: { type: 'number', description: 'Quantity at this price and every better one' },
  },
} as const;

export const depthResponseSchema = {
  type: 'object',
  properties: {
    ...seriesProperties,
    book: {
      type: ['object', 'null'],
      description:
        'The last stored book in [from, to) (null: none): bids best (highest) first, asks best (lowest) first',
      properties: {
        last_update_id: { type: 'integer' },
        event_time: { type: 'integer' },
        levels: { type: 'integer', description: 'Levels per side the loader kept' },
        bids: { type: 'array', items: level },
        asks: { type: 'array', items: level },
      },
    },
  },
} as const;

export const bookTickerResponseSchema = { type: 'object', properties: seriesProperties } as const;

interface Quote {
  x: number;
  bid: number;
  ask: number;
  bidQty: number;
  askQty: number;
}

interface Level {
  price: number;
  quantity: number;
  cumulative: number;
}

function invalid(message: string): StreamForgeError {
  return new StreamForgeError('SF_CONTRACT_INVALID', message);
}

/** The first record of the chart's symbol, once its key says the collection holds this kind. */
async function seriesOf(store: Store, name: string, symbol: string | undefined, kind: BookKind): Promise<DataRecord> {
  const first = await firstRecordOf(store, name, symbol);
  if (first.key.split(':')[1] !== KEY_PART[kind])
    throw invalid(
      `name: collection ${name} does not hold ${kind} records (e.g. ${first.key}): see /collections/${name}/${first.key.includes(':depth:') ? 'depth' : first.key.includes(':book:') ? 'book-ticker' : 'candles'}`,
    );
  return first;
}

const pad = (n: number): string => String(n).padStart(15, '0');
/** Keys pad ids to 15 digits, so no stored id is above this. */
const MAX_ID = 999_999_999_999_999;

/**
 * A series' records by key, which sorts by update id (depth's last_update_id, bookTicker's
 * update_id) within a symbol. The port pages forward only, so a seek is a binary search over
 * ids with one-record reads (about 50 indexed lookups), never a read of what lies before.
 */
function seriesKeys(store: Store, name: string, prefix: string) {
  const keyOf = (id: number): string => `${prefix}${pad(id)}`;
  const idOf = (record: DataRecord): number => Number(record.key.slice(prefix.length));
  /** The first record with id ≥ `id`. */
  const at = async (id: number): Promise<DataRecord | undefined> => {
    const [record] = await store.listRecords(name, { after: id > 0 ? keyOf(id - 1) : prefix, limit: 1 });
    return record?.key.startsWith(prefix) ? record : undefined;
  };
  /** The least id in [lo, hi] where `past` holds, given it holds at hi and, once it holds, for every id above. */
  const search = async (lo: number, hi: number, past: (id: number) => Promise<boolean>): Promise<number> => {
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (await past(mid)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  return { prefix, keyOf, idOf, at, search };
}

type Keys = ReturnType<typeof seriesKeys>;

/**
 * Records with id in [fromId, toId) in key order, a page at a time, yielding to the event
 * loop between pages; `visit` answers false to stop.
 */
async function scan(
  store: Store,
  name: string,
  keys: Keys,
  { kind, fromId, toId }: { kind: BookKind; fromId: number; toId: number },
  visit: (record: DataRecord) => boolean,
): Promise<void> {
  const page = SCAN_LIMITS[kind].page;
  let after = fromId > 0 ? keys.keyOf(fromId - 1) : keys.prefix;
  for (;;) {
    const records = await store.listRecords(name, { after, limit: page });
    for (const record of records) {
      if (!record.key.startsWith(keys.prefix) || keys.idOf(record) >= toId || !visit(record)) return;
    }
    if (records.length < page) return;
    after = records.at(-1)!.key;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Quotes into at most maxPoints buckets: the last quote of each, and the narrowest and widest spread. */
function downsample(quotes: Quote[], bucketOf: (x: number) => number) {
  const points: Array<{
    x: number;
    bid: number;
    ask: number;
    bid_qty: number;
    ask_qty: number;
    spread: number;
    min_spread: number;
    max_spread: number;
    records: number;
  }> = [];
  for (const q of quotes) {
    const x = bucketOf(q.x);
    const spread = q.ask - q.bid;
    const into = points.at(-1);
    if (into?.x === x) {
      Object.assign(into, { bid: q.bid, ask: q.ask, bid_qty: q.bidQty, ask_qty: q.askQty, spread });
      into.min_spread = Math.min(into.min_spread, spread);
      into.max_spread = Math.max(into.max_spread, spread);
      into.records++;
    } else {
      points.push({
        x,
        bid: q.bid,
        ask: q.ask,
        bid_qty: q.bidQty,
        ask_qty: q.askQty,
        spread,
        min_spread: spread,
        max_spread: spread,
        records: 1,
      });
    }
  }
  return points;
}

/** The buckets of [from, to) on the axis: time as the other charts (1s, 5s, … 1m …), ids in equal runs. */
function bucketing(axis: 'time' | 'update_id', from: number, to: number, maxPoints: number) {
  if (axis === 'time') {
    const bucket = chooseBucket('1s', 1_000, from, to, maxPoints);
    return {
      label: bucket.label,
      size: bucket.ms,
      of: (x: number) => x - ((((x - bucket.offsetMs) % bucket.ms) + bucket.ms) % bucket.ms),
    };
  }
  const size = Math.max(1, Math.ceil((to - from) / maxPoints));
  return {
    label: `${size} id${size === 1 ? '' : 's'}`,
    size,
    of: (x: number) => from + Math.floor((x - from) / size) * size,
  };
}

function ladder(side: unknown): Level[] {
  let cumulative = 0;
  return (Array.isArray(side) ? (side as Array<[string, string]>) : []).map(([price, quantity]) => {
    cumulative += Number(quantity);
    return { price: Number(price), quantity: Number(quantity), cumulative };
  });
}

/** Best bid and ask of a record of either kind; undefined when a side is empty. */
function quoteOf(kind: BookKind, r: DataRecord, x: number): Quote | undefined {
  if (kind === 'book_ticker')
    return {
      x,
      bid: Number(r.bid_price),
      ask: Number(r.ask_price),
      bidQty: Number(r.bid_qty),
      askQty: Number(r.ask_qty),
    };
  const bid = (r.bids as Array<[string, string]>)[0];
  const ask = (r.asks as Array<[string, string]>)[0];
  if (!bid || !ask) return undefined;
  return { x, bid: Number(bid[0]), ask: Number(ask[0]), bidQty: Number(bid[1]), askQty: Number(ask[1]) };
}

/** A record read for the chart: its id and x, and its quote when it has one. */
interface Read {
  id: number;
  x: number;
  quote: Quote | undefined;
}

async function answer(store: Store, name: string, query: ChartQuery, kind: BookKind) {
  const first = await seriesOf(store, name, query.symbol, kind);
  const symbol = first.symbol;
  const keys = seriesKeys(store, name, `${symbol}:${KEY_PART[kind]}:`);
  // Depth records carry the event time of their last diff; spot bookTicker records carry no time.
  const axis: 'time' | 'update_id' = kind === 'depth' || typeof first.event_time === 'number' ? 'time' : 'update_id';
  const xOf = (r: DataRecord): number | undefined => {
    const x = axis === 'time' ? r.event_time : kind === 'depth' ? r.last_update_id : r.update_id;
    return typeof x === 'number' ? x : undefined;
  };
  if (query.from !== undefined && query.to !== undefined && query.from >= query.to)
    throw invalid(`from: ${query.from} must be before to: ${query.to}`);
  const limit = SCAN_LIMITS[kind].records;
  const firstId = keys.idOf(first);
  /**
   * The id from which records have x ≥ `x`. On the update-id axis x is the id; on the time
   * axis event time never decreases with the id, so a binary search finds it (a record
   * without a time counts as past it: the scan then starts early and skips, never late).
   */
  const seek = async (x: number): Promise<number> =>
    axis === 'update_id'
      ? Math.min(Math.max(x, firstId), MAX_ID + 1)
      : keys.search(firstId, MAX_ID + 1, async (id) => {
          const r = await keys.at(id);
          const rx = r && xOf(r);
          return rx === undefined || rx >= x;
        });
  /** The last record with id < endId: one past it, nothing is stored up to endId. */
  const lastBefore = async (endId: number): Promise<DataRecord | undefined> => {
    if (endId <= firstId) return undefined;
    const past = await keys.search(firstId, endId, async (id) => {
      const r = await keys.at(id);
      return r === undefined || keys.idOf(r) >= endId;
    });
    return keys.at(past - 1);
  };
  // On the update-id axis `to` is a key bound; on the time axis the scan stops at the first record at or past it.
  const toId = axis === 'update_id' && query.to !== undefined ? query.to : MAX_ID + 1;
  const beforeTo = (x: number): boolean => query.to === undefined || x < query.to;

  let firstStored = xOf(first);
  let lastStored: number | undefined;
  let book: DataRecord | undefined;
  let reads: Read[];
  if (query.from !== undefined) {
    // A range: read from its start, so only its own records count towards the limit.
    const from = query.from;
    reads = [];
    await scan(store, name, keys, { kind, fromId: await seek(from), toId }, (r) => {
      const x = xOf(r);
      if (x === undefined) return true;
      firstStored ??= x;
      if (!beforeTo(x)) return false;
      if (x < from) return true;
      if (reads.length === limit)
        throw invalid(
          `from, to: the range holds more than ${limit} ${kind} records: narrow it (its first ${limit} end before ${x}: e.g. to=${x})`,
        );
      reads.push({ id: keys.idOf(r), x, quote: quoteOf(kind, r, x) });
      lastStored = x;
      book = r;
      return true;
    });
    if (lastStored === undefined) {
      // An empty range: last_stored is still the last record before `to`.
      const last = await lastBefore(query.to === undefined ? MAX_ID + 1 : await seek(query.to));
      lastStored = last && xOf(last);
    }
  } else {
    /*
     * No start: the most recent records before `to` (or the end) that fit the limit. The port
     * reads forward only, so the window grows backwards in id runs that double (1, 2, 4, …
     * ids), each read forward, until the next would pass the limit: at most the limit plus a
     * page is read, whatever the series' length, and the window holds between about half the
     * limit and the limit when records are spread evenly over ids.
     */
    const endId =
      query.to === undefined
        ? keys.idOf((await lastBefore(MAX_ID + 1)) ?? first) + 1
        : Math.min(toId, await seek(query.to));
    const runs: Read[][] = [];
    let count = 0;
    let full = false;
    for (let hi = endId, span = 1; hi > firstId; hi -= span, span *= 2) {
      const run: Read[] = [];
      let last: DataRecord | undefined;
      await scan(store, name, keys, { kind, fromId: Math.max(firstId, hi - span), toId: hi }, (r) => {
        const x = xOf(r);
        if (x === undefined) return true;
        if (!beforeTo(x)) return false;
        if (count + run.length === limit) {
          full = true;
          return false;
        }
        run.push({ id: keys.idOf(r), x, quote: quoteOf(kind, r, x) });
        last = r;
        return true;
      });
      if (full) break;
      count += run.length;
      runs.push(run);
      if (last && lastStored === undefined) {
        lastStored = xOf(last);
        book = last;
      }
    }
    reads = runs.reverse().flat();
    // Cut short on the time axis, the record just before the window may share its first
    // time: then start after that time, so asking for [from, to) again gives these records.
    const start = reads[0];
    if (full && axis === 'time' && start && reads.some((r) => r.x !== start.x)) {
      const before = await lastBefore(start.id);
      if (before && xOf(before) === start.x) {
        reads = reads.filter((r) => r.x !== start.x);
      }
    }
    firstStored ??= reads[0]?.x;
  }
  if (firstStored === undefined)
    throw new StreamForgeError(
      'SF_NOT_FOUND',
      `collection ${name} holds no ${kind} records of ${symbol} with ${axis === 'time' ? 'an event time' : 'an update id'}`,
    );
  const from = query.from ?? reads[0]?.x ?? firstStored;
  const to = query.to ?? (lastStored ?? firstStored) + 1;
  if (from >= to) throw invalid(`from: ${from} must be before to: ${to}`);
  const bucket = bucketing(axis, from, to, query.max_points);
  const quotes = reads.flatMap((r) => (r.quote ? [r.quote] : []));
  const series = {
    collection: name,
    symbol,
    kind,
    axis,
    from,
    to,
    bucket: bucket.label,
    bucket_size: bucket.size,
    first_stored: firstStored,
    // The last stored one before `to` (without `to`: of all).
    last_stored: lastStored ?? firstStored,
    records: quotes.length,
    points: downsample(quotes, bucket.of),
  };
  if (kind === 'book_ticker') return series;
  return {
    ...series,
    book: book
      ? {
          last_update_id: book.last_update_id,
          event_time: book.event_time,
          levels: book.levels,
          bids: ladder(book.bids),
          asks: ladder(book.asks),
        }
      : null,
  };
}

const limitText = (kind: BookKind): string => `${SCAN_LIMITS[kind].records.toLocaleString('en')} records`;

export function bookRoutes(api: FastifyInstance, { store }: { store: Store }): void {
  for (const kind of ['depth', 'book_ticker'] as const) {
    api.get<{ Params: { name: string }; Querystring: ChartQuery }>(
      `/collections/:name/${ROUTE[kind]}`,
      {
        schema: {
          summary:
            kind === 'depth'
              ? 'The latest stored order book of a depth collection as a ladder, and its best bid and ask over time'
              : 'Best bid, best ask and spread of a bookTicker collection, over time (or update id, for spot)',
          description:
            kind === 'depth'
              ? `A depth record is the local book (snapshot plus diffs) as the WebSocket loader published it, its best \`levels\` per side: the ladder is the last such record before \`to\`, with cumulative quantities. The series is the best bid and ask of the records, at most max_points buckets of event time (1s, 5s, …), the last record of each and the narrowest and widest spread in it. Values are doubles. A range holding more than ${limitText(kind)} is refused (400, naming a \`to\` that fits).`
              : `At most max_points buckets, the last quote of each and the narrowest and widest spread in it. Spot's bookTicker stream carries no time: its records are charted over the update id (axis update_id, and from/to are update ids); USD-M's over event time (ms). Values are doubles. A range holding more than ${limitText(kind)} is refused (400, naming a \`to\` that fits).`,
          params: collectionParams,
          querystring: chartQuerystring({
            from: `Start (inclusive), on the series axis: event time in ms, or update id. Default: the start of the most recent records before \`to\` that fit the limit (${limitText(kind)}), the first stored one when all fit`,
            to: 'End (exclusive), on the series axis. Default: just after the last stored record',
            symbol: "Default: the collection's first",
          }),
          response: {
            200: kind === 'depth' ? depthResponseSchema : bookTickerResponseSchema,
            ...errorResponses,
          },
        },
      },
      async (request) => answer(store, request.params.name, request.query, kind),
    );
  }
}
