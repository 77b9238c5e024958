/**
 * A live order-book view's series (console/client/book-series.ts) against the routes it reads:
 * a stream's records land in batches that cut seconds and buckets apart, the series reads
 * only what follows its last record each time, and what it merged equals the API's answer
 * for its whole range in its buckets, on event time (depth) and on update ids (spot
 * bookTicker); past the cap it keeps the newest points.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bookTickerKey, depthKey, type BookTickerRecord, type DepthRecord } from '@streamforge/core/contracts';
import { serveFunction } from '@streamforge/core/runtime';
import { openSqliteStore, type Store } from '@streamforge/core/store';
import { createLogger } from '@streamforge/core/telemetry';
import { registerApi } from '../src/api.ts';
import { type BookSeries, CAP, liveQuery, mergeLive, recordsOf, seriesOf } from '../src/console/client/book-series.ts';
import type { BookAnswer } from '../src/console/client/wire.ts';
import type { Manager } from '../src/manager.ts';

const START = Date.UTC(2024, 7, 1);

async function serve(t: TestContext): Promise<{ url: string; store: Store }> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-book-series-'));
  const store = await openSqliteStore(join(dir, 'store.sqlite'));
  const running = await serveFunction(
    { handle: () => undefined, routes: (app) => registerApi(app, { manager: {} as Manager, store, token: '' }) },
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

/** Book `i`: every 100 ms, a mid that wanders so bids, asks and spreads differ from book to book. */
function depth(i: number): DepthRecord {
  const id = 1_000 + 3 * i;
  const mid = 60_000 + Math.sin(i / 7) * 40;
  const half = 0.5 + (i % 5) * 0.25;
  return {
    key: depthKey('BTCUSDT', id),
    symbol: 'BTCUSDT',
    last_update_id: id,
    event_time: START + 100 * i,
    levels: 1,
    bids: [[(mid - half).toFixed(2), '0.5']],
    asks: [[(mid + half).toFixed(2), '0.7']],
  };
}

/** Spot bookTicker `i`: update id 5000 + 2i (every other id), no time. */
function ticker(i: number): BookTickerRecord {
  const bid = 3_000 + Math.cos(i / 11) * 5;
  return {
    key: bookTickerKey('ETHUSDT', 5_000 + 2 * i),
    symbol: 'ETHUSDT',
    update_id: 5_000 + 2 * i,
    bid_price: bid.toFixed(2),
    bid_qty: '1.5',
    ask_price: (bid + 0.01 * (1 + (i % 4))).toFixed(2),
    ask_qty: '2.5',
  };
}

async function get(url: string): Promise<BookAnswer> {
  const response = await fetch(url);
  const body = (await response.json()) as BookAnswer;
  assert.equal(response.status, 200, JSON.stringify(body));
  return body;
}

/** Live reads until the series has every stored record, as the view does while its stream runs. */
async function catchUp(base: string, series: BookSeries): Promise<number> {
  let reads = 0;
  for (let more = true; more; reads++) {
    const q = liveQuery(series);
    more = mergeLive(series, await get(`${base}?from=${q.from}&to=${q.to}&max_points=${q.maxPoints}`), q.from);
  }
  return reads;
}

/** The API's answer for the series' range in the series' buckets. */
async function sameRange(base: string, series: BookSeries): Promise<BookAnswer> {
  const buckets =
    series.axis === 'time'
      ? Math.floor((series.to - 1 - series.anchor) / series.size) -
        Math.floor((series.from - series.anchor) / series.size) +
        1
      : Math.ceil((series.to - series.from) / series.size);
  const answer = await get(`${base}?from=${series.from}&to=${series.to}&max_points=${Math.max(10, buckets)}`);
  assert.equal(answer.bucket, series.bucket, 'the API buckets the range as the series does');
  return answer;
}

test('a depth series extended by reads of its new records only equals the API answer for its whole range in 5 s buckets', async (t) => {
  const { url, store } = await serve(t);
  const base = `${url}/collections/btc_depth/depth`;
  let written = 0;
  const write = async (n: number) => {
    await store.writeBatch({
      collection: 'btc_depth',
      records: Array.from({ length: n }, (_, k) => depth(written + k)),
    });
    written += n;
  };
  await write(1_003);
  const series = seriesOf(await get(`${base}?max_points=30`), true);
  assert.equal(series.bucket, '5s');
  // Batches of 137 books (13.7 s) end inside seconds and inside buckets.
  for (let i = 0; i < 6; i++) {
    await write(137);
    assert.equal(await catchUp(base, series), 1);
  }
  const whole = await sameRange(base, series);
  assert.equal(whole.records, written);
  assert.equal(recordsOf(series), written);
  assert.deepEqual(series.points, whole.points);
  assert.equal(series.to, (depth(written - 1).event_time ?? Number.NaN) + 1);
});

test('a spot bookTicker series extended live equals the API answer over update ids, and past the cap keeps the newest points', async (t) => {
  const { url, store } = await serve(t);
  const base = `${url}/collections/eth_book/book-ticker`;
  let written = 0;
  const write = async (n: number) => {
    await store.writeBatch({
      collection: 'eth_book',
      records: Array.from({ length: n }, (_, k) => ticker(written + k)),
    });
    written += n;
  };
  await write(1_000);
  const series = seriesOf(await get(`${base}?max_points=100`), true);
  assert.deepEqual([series.bucket, series.size, series.from], ['20 ids', 20, 5_000]);
  for (let i = 0; i < 5; i++) {
    await write(77);
    await catchUp(base, series);
  }
  const early = await sameRange(base, series);
  assert.equal(early.records, written);
  assert.deepEqual(series.points, early.points);

  // Far more than the cap in one go (10 records a bucket): read 10,000 ids at a time, the oldest dropped.
  await write(10 * CAP + 555);
  assert.ok((await catchUp(base, series)) > 5);
  assert.equal(series.points.length, CAP);
  const late = await sameRange(base, series);
  assert.deepEqual(series.points, late.points);
  assert.equal(series.to, ticker(written - 1).update_id + 1);
  assert.ok(series.from > 5_000 && (series.from - 5_000) % 20 === 0, String(series.from));
});
