/**
 * The order-book charts through the manager's API on a SQLite store:
 * GET /collections/{name}/depth (the latest book as a ladder, best bid/ask over event time)
 * and GET /collections/{name}/book-ticker (best bid/ask and spread over update id or time),
 * their buckets within max_points, the refusals at the door, the token rule and OpenAPI, and
 * the record limit (lowered here): a range is sought, so records before it never count, and
 * the default view of a long series is its most recent records that fit.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bookTickerKey,
  depthKey,
  klineFromRow,
  type BookTickerRecord,
  type DepthRecord,
} from '@streamforge/core/contracts';
import { serveFunction } from '@streamforge/core/runtime';
import { openSqliteStore, type Store } from '@streamforge/core/store';
import { createLogger } from '@streamforge/core/telemetry';
import { registerApi } from '../src/api.ts';
import { SCAN_LIMITS } from '../src/book-routes.ts';
import type { Manager } from '../src/manager.ts';

const START = Date.UTC(2024, 7, 1);
const TOKEN = 'book-charts-test-token';

async function serve(t: TestContext, token = ''): Promise<{ url: string; store: Store }> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-book-'));
  const store = await openSqliteStore(join(dir, 'store.sqlite'));
  const running = await serveFunction(
    { handle: () => undefined, routes: (app) => registerApi(app, { manager: {} as Manager, store, token }) },
    {
      name: 'queue-manager',
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ service: 'queue-manager', level: 'silent' }),
    },
  );
  t.after(async () => {
    await running.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { url: running.url, store };
}

/** Book `i`: update id 1000 + 3i, an event every 100 ms, bids below and asks above a mid that climbs a cent a book. */
function depth(i: number): DepthRecord {
  const id = 1_000 + 3 * i;
  const mid = 60_000 + i / 100;
  const side = (sign: number): Array<[string, string]> =>
    Array.from({ length: 5 }, (_, k) => [(mid + sign * (0.5 + k)).toFixed(2), (0.1 * (k + 1)).toFixed(3)]);
  return {
    key: depthKey('BTCUSDT', id),
    symbol: 'BTCUSDT',
    last_update_id: id,
    event_time: START + 100 * i,
    levels: 5,
    bids: side(-1),
    asks: side(1),
  };
}

/** Spot bookTicker `i`: update id 5000 + i, no time; the spread alternates 0.01 and 0.03. */
function ticker(i: number): BookTickerRecord {
  const bid = 3_000 + i / 10;
  return {
    key: bookTickerKey('ETHUSDT', 5_000 + i),
    symbol: 'ETHUSDT',
    update_id: 5_000 + i,
    bid_price: bid.toFixed(2),
    bid_qty: '1.5',
    ask_price: (bid + (i % 2 === 0 ? 0.01 : 0.03)).toFixed(2),
    ask_qty: '2.5',
  };
}

interface Level {
  price: number;
  quantity: number;
  cumulative: number;
}

/** What the routes answer, and the refusals' message. */
interface Body {
  message: string;
  kind: string;
  axis: string;
  symbol: string;
  from: number;
  to: number;
  first_stored: number;
  last_stored: number;
  bucket: string;
  bucket_size: number;
  records: number;
  points: Array<{
    x: number;
    bid: number;
    ask: number;
    bid_qty: number;
    ask_qty: number;
    spread: number;
    min_spread: number;
    max_spread: number;
    records: number;
  }>;
  book: { last_update_id: number; event_time: number; levels: number; bids: Level[]; asks: Level[] };
}

/** Lowers a kind's record limit for one test, so a small fixture is a "long" series. */
function lowerLimit(t: TestContext, kind: keyof typeof SCAN_LIMITS, records: number): void {
  const was = SCAN_LIMITS[kind].records;
  SCAN_LIMITS[kind].records = records;
  t.after(() => {
    SCAN_LIMITS[kind].records = was;
  });
}

async function get(url: string, init?: RequestInit): Promise<{ status: number; body: Body }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Body };
}

test('a depth collection: the latest book as a ladder with cumulative quantities, and its best bid and ask in time buckets within max_points', async (t) => {
  const { url, store } = await serve(t);
  const books = Array.from({ length: 3_000 }, (_, i) => depth(i));
  await store.writeBatch({ collection: 'btc_depth', records: books });

  const whole = await get(`${url}/collections/btc_depth/depth?max_points=100`);
  assert.equal(whole.status, 200, JSON.stringify(whole.body));
  const body = whole.body;
  assert.deepEqual([body.kind, body.axis, body.symbol], ['depth', 'time', 'BTCUSDT']);
  assert.deepEqual(
    [body.from, body.to, body.first_stored, body.last_stored],
    [START, START + 299_901, START, START + 299_900],
  );
  // 300 s of books into at most 100 buckets: 5 s each, 50 books a bucket.
  assert.deepEqual([body.bucket, body.bucket_size, body.points.length, body.records], ['5s', 5_000, 60, 3_000]);
  assert.ok(body.points.every((p) => p.records === 50));
  const last = books.at(-1)!;
  assert.deepEqual(body.points.at(-1), {
    x: START + 295_000,
    bid: Number(last.bids[0]![0]),
    ask: Number(last.asks[0]![0]),
    bid_qty: 0.1,
    ask_qty: 0.1,
    spread: Number(last.asks[0]![0]) - Number(last.bids[0]![0]),
    min_spread: body.points.at(-1)!.min_spread,
    max_spread: body.points.at(-1)!.max_spread,
    records: 50,
  });
  // The ladder: the last book, best first on each side, quantities summed outwards.
  assert.equal(body.book.last_update_id, last.last_update_id);
  assert.equal(body.book.levels, 5);
  assert.deepEqual(
    body.book.bids.map((l) => l.price),
    last.bids.map(([p]) => Number(p)),
  );
  assert.ok(body.book.bids[0].price > body.book.bids[4].price && body.book.asks[0].price < body.book.asks[4].price);
  assert.deepEqual(
    body.book.asks.map((l) => Number(l.cumulative.toFixed(3))),
    [0.1, 0.3, 0.6, 1, 1.5],
  );

  // A range: the book is the last one before `to`, the buckets finer.
  const part = await get(`${url}/collections/btc_depth/depth?from=${START + 10_000}&to=${START + 20_000}`);
  assert.equal(part.status, 200);
  assert.deepEqual([part.body.bucket, part.body.records, part.body.points.length], ['1s', 100, 10]);
  assert.equal(part.body.book.event_time, START + 19_900);
});

test('a spot bookTicker collection charts over update ids (its stream has no time), a USD-M one over event time', async (t) => {
  const { url, store } = await serve(t);
  await store.writeBatch({ collection: 'eth_book', records: Array.from({ length: 1_000 }, (_, i) => ticker(i)) });
  const spot = await get(`${url}/collections/eth_book/book-ticker?max_points=100`);
  assert.equal(spot.status, 200, JSON.stringify(spot.body));
  assert.deepEqual(
    [spot.body.kind, spot.body.axis, spot.body.from, spot.body.to, spot.body.bucket, spot.body.points.length],
    ['book_ticker', 'update_id', 5_000, 6_000, '10 ids', 100],
  );
  const first = spot.body.points[0]!;
  assert.deepEqual([first.x, first.records, first.bid, first.ask_qty], [5_000, 10, 3_000.9, 2.5]);
  assert.deepEqual(
    [Number(first.min_spread.toFixed(2)), Number(first.max_spread.toFixed(2)), Number(first.spread.toFixed(2))],
    [0.01, 0.03, 0.03],
  );
  const range = await get(`${url}/collections/eth_book/book-ticker?from=5100&to=5110`);
  assert.deepEqual([range.body.records, range.body.points.length, range.body.bucket], [10, 10, '1 id']);
  assert.deepEqual(
    [range.body.first_stored, range.body.last_stored],
    [5_000, 5_109],
    'the series starts before the range',
  );

  const usdm = Array.from({ length: 600 }, (_, i) => ({
    ...ticker(i),
    event_time: START + 1_000 * i,
    transaction_time: START + 1_000 * i,
  }));
  await store.writeBatch({ collection: 'eth_book_usdm', records: usdm });
  const timed = await get(`${url}/collections/eth_book_usdm/book-ticker?max_points=100`);
  assert.deepEqual([timed.body.axis, timed.body.bucket, timed.body.points.length], ['time', '15s', 40]);
  assert.equal(timed.body.records, 600);
});

test('book charts are refused at the door, saying why, follow the token rule and are in the OpenAPI document', async (t) => {
  const { url, store } = await serve(t, TOKEN);
  const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
  await store.writeBatch({ collection: 'btc_depth', records: [depth(0), depth(1)] });
  await store.writeBatch({ collection: 'eth_book', records: [ticker(0)] });
  await store.writeBatch({
    collection: 'btc_1m',
    records: [klineFromRow('BTCUSDT', '1m', [START, '1', '1', '1', '1', '1', START + 59_999, '1', 1, '1', '1', '0'])],
  });

  const wrongKind = await get(`${url}/collections/eth_book/depth`, auth);
  assert.equal(wrongKind.status, 400);
  assert.match(
    wrongKind.body.message,
    /^name: collection eth_book does not hold depth records .* see \/collections\/eth_book\/book-ticker/,
  );
  const klines = await get(`${url}/collections/btc_1m/book-ticker`, auth);
  assert.equal(klines.status, 400);
  assert.match(klines.body.message, /see \/collections\/btc_1m\/candles/);
  const backwards = await get(`${url}/collections/btc_depth/depth?from=${START + 5}&to=${START}`, auth);
  assert.deepEqual([backwards.status, backwards.body.message], [400, `from: ${START + 5} must be before to: ${START}`]);
  const badPoints = await get(`${url}/collections/btc_depth/depth?max_points=5`, auth);
  assert.equal(badPoints.status, 400);
  assert.match(badPoints.body.message, /max_points/);
  const unknown = await get(`${url}/collections/nothing_here/depth`, auth);
  assert.deepEqual([unknown.status, unknown.body.message], [404, 'no collection nothing_here']);
  const otherSymbol = await get(`${url}/collections/btc_depth/depth?symbol=ETHUSDT`, auth);
  assert.equal(otherSymbol.status, 404);
  const before = await get(`${url}/collections/btc_depth/depth?to=${START - 1}`, auth);
  assert.equal(before.status, 400, 'nothing stored before `to`: an empty range');

  assert.equal((await get(`${url}/collections/btc_depth/depth`)).status, 401);
  assert.equal((await get(`${url}/collections/eth_book/book-ticker`)).status, 401);
  const openapi = (await get(`${url}/openapi.json`, auth)).body as unknown as {
    paths: Record<string, { get?: unknown }>;
  };
  assert.ok(openapi.paths['/collections/{name}/depth']?.get);
  assert.ok(openapi.paths['/collections/{name}/book-ticker']?.get);
});

test('past the record limit: a late narrow range is read from its start, a wide one refused naming a `to` that fits, the default view is the latest records that fit', async (t) => {
  const { url, store } = await serve(t);
  lowerLimit(t, 'depth', 500);
  await store.writeBatch({ collection: 'btc_depth', records: Array.from({ length: 3_000 }, (_, i) => depth(i)) });

  // 2,500 books lie before `from`: they are never read, so never counted.
  const late = await get(`${url}/collections/btc_depth/depth?from=${START + 250_000}&to=${START + 260_000}`);
  assert.equal(late.status, 200, JSON.stringify(late.body));
  assert.deepEqual([late.body.from, late.body.records, late.body.first_stored], [START + 250_000, 100, START]);
  assert.equal(late.body.book.event_time, START + 259_900);
  const tail = await get(`${url}/collections/btc_depth/depth?from=${START + 290_000}`);
  assert.deepEqual([tail.status, tail.body.records, tail.body.last_stored], [200, 100, START + 299_900]);

  // 2,000 books from here on: the first 500 end before book 1500's time.
  const wide = await get(`${url}/collections/btc_depth/depth?from=${START + 100_000}`);
  assert.equal(wide.status, 400);
  assert.equal(
    wide.body.message,
    `from, to: the range holds more than 500 depth records: narrow it (its first 500 end before ${START + 150_000}: e.g. to=${START + 150_000})`,
  );
  const narrowed = await get(`${url}/collections/btc_depth/depth?from=${START + 100_000}&to=${START + 150_000}`);
  assert.deepEqual([narrowed.status, narrowed.body.records], [200, 500]);

  // No range: the latest books, as many as fit, ending with the last one.
  const latest = await get(`${url}/collections/btc_depth/depth`);
  assert.equal(latest.status, 200, JSON.stringify(latest.body));
  const body = latest.body;
  assert.ok(body.records > 250 && body.records <= 500, `${body.records} records`);
  assert.deepEqual(
    [body.to, body.last_stored, body.book.event_time, body.first_stored],
    [START + 299_901, START + 299_900, START + 299_900, START],
  );
  assert.equal(body.from, START + 100 * (3_000 - body.records), 'the most recent books, none left out');
  const again = await get(`${url}/collections/btc_depth/depth?from=${body.from}&to=${body.to}`);
  assert.deepEqual([again.status, again.body.records], [200, body.records], 'its range asked again');
  // With `to`: the latest before it.
  const before = await get(`${url}/collections/btc_depth/depth?to=${START + 100_000}`);
  assert.equal(before.status, 200);
  assert.equal(before.body.last_stored, START + 99_900);
  assert.ok(before.body.records > 250 && before.body.records <= 500);
});

test('past the record limit on the update-id axis (spot bookTicker) and on event time shared by several records (USD-M)', async (t) => {
  const { url, store } = await serve(t);
  lowerLimit(t, 'book_ticker', 100);
  await store.writeBatch({ collection: 'eth_book', records: Array.from({ length: 1_000 }, (_, i) => ticker(i)) });
  const late = await get(`${url}/collections/eth_book/book-ticker?from=5900&to=5950`);
  assert.deepEqual([late.status, late.body.records, late.body.first_stored], [200, 50, 5_000]);
  const wide = await get(`${url}/collections/eth_book/book-ticker?from=5100`);
  assert.equal(wide.status, 400);
  assert.match(wide.body.message, /more than 100 book_ticker records: narrow it .* e\.g\. to=5200\)$/);
  const latest = await get(`${url}/collections/eth_book/book-ticker`);
  assert.equal(latest.status, 200, JSON.stringify(latest.body));
  assert.deepEqual([latest.body.axis, latest.body.to, latest.body.last_stored], ['update_id', 6_000, 5_999]);
  assert.ok(latest.body.records > 50 && latest.body.records <= 100);
  assert.equal(latest.body.from, 6_000 - latest.body.records);
  // Ids of all 15 digits the keys pad to are read too.
  const big = 300_000_000_000_000;
  await store.writeBatch({
    collection: 'big_book',
    records: Array.from({ length: 20 }, (_, i) => ({
      ...ticker(i),
      key: bookTickerKey('ETHUSDT', big + i),
      update_id: big + i,
    })),
  });
  const bigIds = await get(`${url}/collections/big_book/book-ticker`);
  assert.deepEqual([bigIds.status, bigIds.body.records, bigIds.body.from, bigIds.body.to], [200, 20, big, big + 20]);

  // Three quotes a second: the window starts at a whole second, so [from, to) asked again holds the same quotes.
  const usdm = Array.from({ length: 1_000 }, (_, i) => ({
    ...ticker(i),
    event_time: START + 1_000 * Math.floor(i / 3),
    transaction_time: START + 1_000 * Math.floor(i / 3),
  }));
  await store.writeBatch({ collection: 'eth_book_usdm', records: usdm });
  const timed = await get(`${url}/collections/eth_book_usdm/book-ticker`);
  assert.equal(timed.status, 200, JSON.stringify(timed.body));
  assert.equal(timed.body.axis, 'time');
  assert.ok(timed.body.records > 50 && timed.body.records <= 100, `${timed.body.records} records`);
  const again = await get(`${url}/collections/eth_book_usdm/book-ticker?from=${timed.body.from}&to=${timed.body.to}`);
  assert.deepEqual([again.status, again.body.records], [200, timed.body.records]);
});
