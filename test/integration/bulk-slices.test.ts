/**
 * A large archive file read as several pages, end to end on real components: `streamforge up`
 * with the exchange simulator serving the archive site, loader-producer with a slice threshold
 * (ARCHIVE_SLICE_BYTES) far below a day's aggTrades file, so that the day is read in slices by
 * whichever instances take its pages, beside a REST backfill of the same range.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AggTradeRecord } from '@streamforge/core/contracts';
import { stackApi, startTestStack, type TestStack } from '@streamforge/testing';

const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;
const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
/** One published day, so every page of the bulk plan is one slice of its file. */
const DAY_START = today - 4 * DAY;
const RANGE = `${dayOf(DAY_START)}:${dayOf(DAY_START + DAY)}`;

let stack: TestStack;
before(async () => {
  stack = await startTestStack({
    EXCHANGE: 'simulator',
    SIM_WEIGHT_LIMIT: 'Infinity',
    // An aggregate trade a minute: a day's aggTrades file is about 1440 rows, tens of kB zipped.
    SIM_TRADE_GAP_MS: '60000',
    // Slices of 4 kB: the day's file is read as several pages.
    ARCHIVE_SLICE_BYTES: '4096',
  });
});
after(() => stack?.down());

const api = stackApi(() => stack.state.api_url);

test("a day's aggTrades file read in slices stores each of the REST path's trades once, and its bytes once", async () => {
  const [bulk, rest] = await api.completeAll(
    [
      { symbol: 'BTCUSDT', type: 'bulk_agg_trades', time_range: RANGE },
      { symbol: 'BTCUSDT', type: 'api_agg_trades', time_range: RANGE },
    ],
    180_000,
  );

  // Every trade of the day, none missing (a gap between slices) and none written twice (an overlap).
  const [fromArchive, fromRest] = await Promise.all([
    api.allRecords<AggTradeRecord>(bulk.collection_name),
    api.allRecords<AggTradeRecord>(rest.collection_name),
  ]);
  assert.ok(fromRest.length > 1000, `${fromRest.length} trades`);
  // allRecords answers in key order.
  assert.deepEqual(fromArchive, fromRest);
  assert.equal(bulk.stored?.records_written, fromRest.length, 'each trade written once');

  // One file, read as three pages or more, and nothing over REST.
  const trail = (await api.trail(bulk.queue_id)).map((e) => e.message ?? '');
  const planned = trail.find((m) => /pages planned/.test(m)) ?? '';
  const [, pages, files, restPages] = /^(\d+) pages planned: (\d+) archive files, (\d+) REST pages/.exec(planned) ?? [];
  assert.deepEqual([Number(files), Number(restPages)], [1, 0], planned);
  assert.ok(Number(pages) >= 3, planned);
  assert.match(planned, new RegExp(`; ${pages} archive pages: files over 4096 bytes read in slices`));
  // A page's report names its slice of the file.
  assert.ok(
    trail.some((m) =>
      new RegExp(`BTCUSDT-aggTrades-${dayOf(DAY_START)} \\(part \\d+/${pages}\\): \\d+ records`).test(m),
    ),
    JSON.stringify(trail),
  );

  // The slices' shares of the file's bytes add up to its size: the progress ends at the total.
  const progress = bulk.progress['loader-producer']?.progress;
  assert.deepEqual([progress?.done, progress?.total], [Number(pages), Number(pages)]);
  const bytes = progress?.bytes;
  assert.ok(bytes?.total !== undefined && bytes.total > 4096, JSON.stringify(bytes));
  assert.equal(bytes.done, bytes.total);
});
