import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StartCommand } from '@streamforge/core/contracts';
import { planBulk } from '../src/plan-bulk.ts';

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
const allDays = new Set(Array.from({ length: 100 }, (_, i) => at('2024-01-01T00:00:00Z') + i * DAY));

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
      monthly: new Set([at('2024-01-01T00:00:00Z'), at('2024-02-01T00:00:00Z')]),
      daily: new Set([...allDays].filter((d) => d < at('2024-04-01T00:00:00Z'))),
    },
  });
  // Jan 20–31 (12 days), February (one file), March's 31 days, then April 1–2 over REST (2880 candles: 3 pages).
  assert.deepEqual([archives, restPages], [12 + 1 + 31, 3]);
  assert.deepEqual(
    pages.map((p) => p.page),
    pages.map((_, index) => ({ index, count: pages.length })),
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
    listed: { monthly: new Set(), daily: new Set() },
  });
  assert.equal(pages.length, 1);
});
