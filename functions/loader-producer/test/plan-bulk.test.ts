import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StartCommand } from '@streamforge/core/contracts';
import {
  ARCHIVE_SLICE_BYTES,
  archiveSliceBytesFromEnv,
  MAX_SLICES_PER_FILE,
  planBulk,
  sliceArchivePart,
} from '../src/plan-bulk.ts';

const DAY = 86_400_000;
const at = (iso: string): number => Date.parse(iso);
const command: StartCommand = {
  command: 'start',
  queue_id: 'wf-btcusdt-bulk_candles_1m-20240120-a1b2c3',
  target: 'loader-producer',
  symbol: 'BTCUSDT',
  type: 'bulk_candles_1m',
  time_range: '2024-01-20:2024-04-03',
  market: 'spot',
  collection_name: 'btc_1m',
  timestamp: 1,
};
const start = at('2024-01-20T00:00:00Z');
const end = at('2024-04-03T00:00:00Z');
const allDays = Array.from({ length: 100 }, (_, i) => at('2024-01-01T00:00:00Z') + i * DAY);
/** A listing of files by first millisecond, each zip of `bytes`. */
const listing = (starts: number[], bytes = 1_000): Map<number, number> => new Map(starts.map((s) => [s, bytes]));

test('a range becomes archive pages and REST pages numbered in time order, covering it exactly once', () => {
  const { pages, archives, restPages } = planBulk({
    command,
    kind: 'klines',
    interval: '1m',
    startMs: start,
    endMs: end,
    now: at('2024-04-03T00:30:00Z'),
    // Nothing published for April yet, and no March monthly file.
    listed: {
      monthly: listing([at('2024-01-01T00:00:00Z'), at('2024-02-01T00:00:00Z')], 2_400_000),
      daily: listing(
        allDays.filter((d) => d < at('2024-04-01T00:00:00Z')),
        80_000,
      ),
    },
  });
  // Jan 20–31 (12 days), February (one file), March's 31 days, then April 1–2 over REST (2880 candles: 3 pages).
  assert.deepEqual([archives, restPages], [12 + 1 + 31, 3]);
  // Every page, the REST ones too, carries the size of all the plan's files: 43 days and one month.
  const archive_bytes = 43 * 80_000 + 2_400_000;
  assert.deepEqual(
    pages.map((p) => p.page),
    pages.map((_, index) => ({ index, count: pages.length, archive_bytes })),
  );
  let covered = start;
  for (const page of pages) {
    assert.equal(page.start_ms, covered, `page ${page.page.index} starts where the one before ended`);
    covered = page.end_ms;
  }
  assert.equal(covered, end);
  assert.deepEqual(pages[12]?.archive, { period: 'monthly', start: at('2024-02-01T00:00:00Z') });
  assert.deepEqual(pages[0]?.archive, { period: 'daily', start });
  assert.equal(pages.at(-1)?.archive, undefined);
  assert.ok(pages.every((p) => p.telemetry_id === 'loader-producer' && p.kafka_topic === 'data-klines'));
});

test('a range no file and no candle covers is still one page, so the workflow can finish', () => {
  const { pages } = planBulk({
    command: { ...command, time_range: '2024-04-03:2024-04-04' },
    kind: 'klines',
    interval: '1m',
    startMs: at('2024-04-03T00:00:00Z'),
    endMs: at('2024-04-03T00:00:00Z'),
    now: at('2024-04-03T00:00:00Z'),
    listed: { monthly: new Map(), daily: new Map() },
  });
  assert.equal(pages.length, 1);
  assert.equal(pages[0]?.page.archive_bytes, undefined, 'a plan without files has no bytes to count');
});

test('raw trades: daily files, then hour pages over REST up to the plan clock, on the trades topic', () => {
  const now = at('2024-04-03T10:20:00Z');
  const { pages, archives, restPages } = planBulk({
    command: { ...command, type: 'bulk_trades', time_range: '2024-03-30:2024-04-04' },
    kind: 'trades',
    interval: undefined,
    startMs: at('2024-03-30T00:00:00Z'),
    endMs: now,
    now,
    // A monthly trades file is never read; April 2 is not published yet.
    listed: {
      monthly: listing([at('2024-03-01T00:00:00Z')]),
      daily: listing(allDays.filter((d) => d < at('2024-04-02T00:00:00Z'))),
    },
  });
  // March 30, 31 and April 1 from files; April 2 (24 hours) and April 3 up to 10:20 (11 pages) over REST.
  assert.deepEqual([archives, restPages], [3, 24 + 11]);
  assert.ok(pages.every((p) => p.kind === 'trades' && p.kafka_topic === 'data-trades' && p.interval === undefined));
  assert.deepEqual(
    pages.slice(0, 3).map((p) => p.archive),
    [0, 1, 2].map((i) => ({ period: 'daily', start: at('2024-03-30T00:00:00Z') + i * DAY })),
  );
  assert.equal(pages[3]?.start_ms, at('2024-04-02T00:00:00Z'), 'the REST tail starts where the last file ends');
  assert.deepEqual([pages.at(-1)?.start_ms, pages.at(-1)?.end_ms], [at('2024-04-03T10:00:00Z'), now]);
  for (let i = 1; i < pages.length; i++) assert.equal(pages[i]?.start_ms, pages[i - 1]?.end_ms);
});

test('COIN-M: the monthly files a contract has, then REST pages of at most 200 days over the rest', () => {
  const coinm: StartCommand = {
    ...command,
    queue_id: 'wf-btcusd_perp-coinm-bulk_candles_1d-20230101-a1b2c3',
    symbol: 'BTCUSD_PERP',
    type: 'bulk_candles_1d',
    time_range: '2023-01-01:2024-07-01',
    market: 'coinm',
  };
  const from = at('2023-01-01T00:00:00Z');
  const to = at('2024-07-01T00:00:00Z');
  // Monthly files for 2023 only: the first half of 2024 (182 days) goes over REST.
  const months = Array.from({ length: 12 }, (_, m) => Date.UTC(2023, m, 1));
  const { pages, archives, restPages } = planBulk({
    command: coinm,
    kind: 'klines',
    interval: '1d',
    startMs: from,
    endMs: to,
    now: at('2024-07-01T00:30:00Z'),
    listed: { monthly: listing(months), daily: new Map() },
  });
  assert.deepEqual([archives, restPages], [12, 1]);
  assert.ok(pages.every((p) => p.market === 'coinm' && p.symbol === 'BTCUSD_PERP'));
  assert.deepEqual(
    pages.slice(0, 12).map((p) => p.archive),
    months.map((start) => ({ period: 'monthly', start })),
  );
  assert.deepEqual([pages[12]?.start_ms, pages[12]?.end_ms], [at('2024-01-01T00:00:00Z'), to]);

  // Without any file, 547 days of 1d candles take three REST pages: 200 candles (days) each at most.
  const rest = planBulk({
    command: coinm,
    kind: 'klines',
    interval: '1d',
    startMs: from,
    endMs: to,
    now: at('2024-07-01T00:30:00Z'),
    listed: { monthly: new Map(), daily: new Map() },
  });
  assert.deepEqual(
    rest.pages.map((p) => (p.end_ms - p.start_ms) / DAY),
    [200, 200, 147],
  );
});

test('funding rates: whole and partial months from monthly files, the rest in REST pages of 1000 hours, on the klines topic', () => {
  const funding = { ...command, type: 'bulk_funding_rate', market: 'usdm' } as const;
  const { pages, archives, restPages } = planBulk({
    command: funding,
    kind: 'funding_rate',
    interval: undefined,
    startMs: start,
    endMs: end,
    now: at('2024-04-03T00:30:00Z'),
    // Monthly files only: March's is not published yet.
    listed: { monthly: listing([at('2024-01-01T00:00:00Z'), at('2024-02-01T00:00:00Z')]), daily: new Map() },
  });
  // January from the 20th (its file, read for its part), February whole, March 1 – April 3 over REST (33 days: one page).
  assert.deepEqual([archives, restPages], [2, 1]);
  assert.deepEqual(pages[0]?.archive, { period: 'monthly', start: at('2024-01-01T00:00:00Z') });
  assert.deepEqual([pages[0]?.start_ms, pages[0]?.end_ms], [start, at('2024-02-01T00:00:00Z')]);
  assert.deepEqual([pages[2]?.start_ms, pages[2]?.end_ms], [at('2024-03-01T00:00:00Z'), end]);
  assert.ok(
    pages.every((p) => p.kind === 'funding_rate' && p.kafka_topic === 'data-klines' && p.interval === undefined),
  );
});

test('metrics: daily files only, and days without one are returned as uncovered instead of REST pages', () => {
  const metrics = { ...command, type: 'bulk_metrics', market: 'usdm' } as const;
  const plan = planBulk({
    command: metrics,
    kind: 'metrics',
    interval: undefined,
    startMs: at('2024-01-30T00:00:00Z'),
    endMs: at('2024-02-03T00:00:00Z'),
    now: at('2024-02-05T00:00:00Z'),
    // A monthly listing is never asked for metrics; February 2 has no file.
    listed: { monthly: new Map(), daily: listing(allDays.filter((d) => d !== at('2024-02-02T00:00:00Z'))) },
  });
  assert.deepEqual([plan.archives, plan.restPages], [3, 0]);
  assert.deepEqual(plan.uncovered, [[at('2024-02-02T00:00:00Z'), at('2024-02-03T00:00:00Z')]]);
  assert.ok(plan.pages.every((p) => p.archive?.period === 'daily' && p.kind === 'metrics'));
});

test('mark price candles plan like candles: monthly and daily files, then REST pages of 1500', () => {
  const mark = { ...command, type: 'bulk_mark_price_candles_1m', market: 'usdm' } as const;
  const { pages, archives, restPages } = planBulk({
    command: mark,
    kind: 'mark_price_klines',
    interval: '1m',
    startMs: start,
    endMs: end,
    now: at('2024-04-03T00:30:00Z'),
    listed: {
      monthly: listing([at('2024-02-01T00:00:00Z')]),
      daily: listing(allDays.filter((d) => d < at('2024-04-01T00:00:00Z'))),
    },
  });
  // 12 January days, February's file, 31 March days; April 1–2 (2880 candles) in two pages of at most 1500.
  assert.deepEqual([archives, restPages], [12 + 1 + 31, 2]);
  assert.ok(
    pages.every((p) => p.kind === 'mark_price_klines' && p.interval === '1m' && p.kafka_topic === 'data-klines'),
  );
});

test('a large aggTrades file is read as slices of its day: contiguous, each a page, their bytes adding up to the file', () => {
  const day = at('2024-03-12T00:00:00Z');
  const aggTrades = { ...command, type: 'bulk_agg_trades', time_range: '2024-03-11:2024-03-13' } as const;
  const plan = planBulk({
    command: aggTrades,
    kind: 'agg_trades',
    interval: undefined,
    startMs: day - DAY,
    endMs: day + DAY,
    now: at('2024-03-14T00:00:00Z'),
    // March 11 is small; March 12 is 100 MB: over 32 MB slices, ceil(100 / 32) = 4 of them.
    listed: {
      monthly: new Map(),
      daily: new Map([
        [day - DAY, 5_000_000],
        [day, 100_000_003],
      ]),
    },
    sliceBytes: 32_000_000,
  });
  assert.deepEqual([plan.archives, plan.archivePages, plan.restPages], [2, 1 + 4, 0]);
  assert.equal(plan.archiveBytes, 5_000_000 + 100_000_003, 'each file counted once');
  const slices = plan.pages.slice(1);
  assert.ok(slices.every((p) => p.archive?.start === day && p.archive.period === 'daily'));
  // Six hours each, in time order, page indexes of their own.
  assert.deepEqual(
    slices.map((p) => [p.page.index, p.start_ms, p.end_ms]),
    [0, 1, 2, 3].map((k) => [1 + k, day + k * 6 * 3_600_000, day + (k + 1) * 6 * 3_600_000]),
  );
  // What each page reports done: its share of the file, the file's size in all.
  assert.deepEqual(
    slices.map((p) => [p.archive?.slice?.index, p.archive?.slice?.count]),
    [0, 1, 2, 3].map((k) => [k, 4]),
  );
  assert.equal(
    slices.reduce((sum, p) => sum + (p.archive?.slice?.bytes ?? 0), 0),
    100_000_003,
  );
  // The small file's page is the whole file: no slice.
  assert.equal(plan.pages[0]?.archive?.slice, undefined);
});

test('a range that starts inside a large file takes the slices it meets, the first from the range start', () => {
  const day = at('2024-03-12T00:00:00Z');
  const file = { kind: 'trades', period: 'daily', periodStart: day, bytes: 90 } as const;
  // Three slices of 8 hours; from 10:00, the second is cut to start there.
  const slices = sliceArchivePart(file, day + 10 * 3_600_000, day + DAY, 30);
  assert.deepEqual(
    slices.map((s) => [s.index, s.count, (s.start - day) / 3_600_000, (s.end - day) / 3_600_000, s.bytes]),
    [
      [1, 3, 10, 16, 30],
      [2, 3, 16, 24, 30],
    ],
  );
  // Under the threshold, or of unknown size, a file is one page; at exactly the threshold too.
  assert.equal(sliceArchivePart({ ...file, bytes: 30 }, day, day + DAY, 30).length, 1);
  assert.equal(sliceArchivePart({ ...file, bytes: undefined }, day, day + DAY, 30).length, 1);
  // A slice is whole milliseconds, however the day divides.
  const sevenths = sliceArchivePart({ ...file, bytes: 7 }, day, day + DAY, 1);
  assert.ok(sevenths.every((s) => Number.isInteger(s.start) && Number.isInteger(s.end)));
  assert.deepEqual([sevenths[0]?.start, sevenths.at(-1)?.end, sevenths.length], [day, day + DAY, 7]);
  // A threshold in the wrong unit (32 bytes for 32 MiB) plans at most 64 slices of a file.
  assert.equal(sliceArchivePart({ ...file, bytes: 100_000_000 }, day, day + DAY, 32).length, MAX_SLICES_PER_FILE);
});

test('large candle files are cut on candle open times, so no candle is split; funding rate files are read whole', () => {
  const month = at('2024-02-01T00:00:00Z');
  // 29 days of 1s candles in 7 slices: every cut a whole second, and the slices cover the month.
  const seconds = sliceArchivePart(
    { kind: 'klines', interval: '1s', period: 'monthly', periodStart: month, bytes: 700 },
    month,
    at('2024-03-01T00:00:00Z'),
    100,
  );
  assert.equal(seconds.length, 7);
  assert.ok(seconds.every((s) => s.start % 1000 === 0 && s.end % 1000 === 0));
  for (let i = 1; i < seconds.length; i++) assert.equal(seconds[i]?.start, seconds[i - 1]?.end);
  assert.equal(seconds.at(-1)?.end, at('2024-03-01T00:00:00Z'));
  // A day of 4h candles holds six: at most six slices, one candle each, however large the file.
  const hours = sliceArchivePart(
    { kind: 'klines', interval: '4h', period: 'daily', periodStart: month, bytes: 1_000 },
    month,
    month + DAY,
    1,
  );
  assert.deepEqual(
    hours.map((s) => (s.start - month) / 3_600_000),
    [0, 4, 8, 12, 16, 20],
  );
  assert.equal(
    hours.reduce((sum, s) => sum + s.bytes, 0),
    1_000,
  );
  const funding = { kind: 'fundingRate', period: 'monthly', periodStart: month, bytes: 1_000 } as const;
  assert.equal(sliceArchivePart(funding, month, at('2024-03-01T00:00:00Z'), 1).length, 1);
});

test("ARCHIVE_SLICE_BYTES sets the plan's threshold; a value that is not a byte count is refused", () => {
  assert.equal(archiveSliceBytesFromEnv({}), ARCHIVE_SLICE_BYTES);
  assert.equal(archiveSliceBytesFromEnv({ ARCHIVE_SLICE_BYTES: '4096' }), 4096);
  assert.throws(
    () => archiveSliceBytesFromEnv({ ARCHIVE_SLICE_BYTES: '32MB' }),
    /ARCHIVE_SLICE_BYTES must be an integer, got "32MB"/,
  );
  assert.throws(() => archiveSliceBytesFromEnv({ ARCHIVE_SLICE_BYTES: '0' }), /ARCHIVE_SLICE_BYTES must be at least 1/);
});
