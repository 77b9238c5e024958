import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeEvent, MAX_SEND_BYTES, type EventInput, type EventProducer } from '@streamforge/core/bus';
import {
  dataBatchContract,
  expandRows,
  type BinanceAggTrade,
  type DataBatch,
  type WorkPage,
} from '@streamforge/core/contracts';
import type { BinanceRestClient } from '@streamforge/exchange';
import { openStore, type Store } from '@streamforge/core/store';
import { createLogger } from '@streamforge/core/telemetry';
import type { TelemetryEmitter } from '@streamforge/core/bus';
import { loadPage, type BackfillDeps } from '../src/load-page.ts';
import { PartCutter, partsOfRows, partsOfText, RECORDS_PER_PART } from '../src/page-parts.ts';

test('rows are cut in order into parts of at most maxBytes of JSON and maxRows rows', () => {
  const rows = Array.from({ length: 25 }, (_, a) => ({ a, p: '1.00' }));
  const parts = partsOfRows(rows, 100, 10);
  assert.ok(parts.length > 3, 'cut by bytes before the count is reached');
  for (const part of parts) assert.ok(part.rowsJson.length <= 100 && part.count <= 10, part.rowsJson);
  assert.deepEqual(
    parts.flatMap((part) => JSON.parse(part.rowsJson) as unknown[]),
    rows,
  );
  assert.deepEqual(partsOfRows(rows, 100, 10), parts, 'the same rows give the same parts');
  assert.deepEqual(
    partsOfRows(rows, 1_000_000, 10).map((part) => part.count),
    [10, 10, 5],
    'cut by count when bytes allow',
  );
});

test('an empty page is one empty part, so the page is still counted done', () => {
  assert.deepEqual(partsOfRows([], 100), [{ rowsJson: '[]', count: 0 }]);
});

test('exchange text that fits goes on as it came; text above the budget is decoded and cut', () => {
  const text = '[[1,"a"],[2,"b"]]';
  assert.deepEqual(partsOfText(text, 2, 100), [{ rowsJson: text, count: 2 }]);
  assert.deepEqual(partsOfText(text, 2, 10), [
    { rowsJson: '[[1,"a"]]', count: 1 },
    { rowsJson: '[[2,"b"]]', count: 1 },
  ]);
});

const QUEUE = 'wf-btcusdt-api_agg_trades-20240101-a1b2c3';
const HOUR = Date.UTC(2024, 0, 1, 12);
const page: WorkPage = {
  queue_id: QUEUE,
  type: 'api_agg_trades',
  symbol: 'BTCUSDT',
  market: 'spot',
  kind: 'agg_trades',
  start_ms: HOUR,
  end_ms: HOUR + 3_600_000,
  page: { index: 12, count: 24 },
  collection_name: 'trades',
  kafka_topic: 'data-agg-trades',
  telemetry_id: 'loader-api',
};
/** An hour as busy as BTCUSDT's on Binance in 2024: 72 000 aggTrades, about 8 MB of JSON. */
const busyHour: BinanceAggTrade[] = Array.from({ length: 72_000 }, (_, i) => ({
  a: 3_000_000_000 + i,
  p: '42000.01000000',
  q: '0.00123000',
  f: 4_000_000_000 + 2 * i,
  l: 4_000_000_001 + 2 * i,
  T: HOUR + i * 50,
  m: i % 2 === 0,
  M: true,
}));

/** loader-api's dependencies with an exchange that serves `trades` a thousand at a time, and a producer that keeps what it is sent. */
async function loaderWith(
  trades: BinanceAggTrade[],
): Promise<{ deps: BackfillDeps; store: Store; sent: Array<EventInput<DataBatch>> }> {
  const store = await openStore('sqlite::memory:');
  const sent: Array<EventInput<DataBatch>> = [];
  const producer = {
    send: async (_topic: string, events: ReadonlyArray<EventInput<DataBatch>>) => {
      sent.push(...events);
    },
  } as unknown as EventProducer;
  const exchange = {
    async *aggTradePages() {
      for (let i = 0; i < trades.length; i += 1000) yield trades.slice(i, i + 1000);
    },
  } as unknown as BinanceRestClient;
  const telemetry: TelemetryEmitter = { emit: async () => {}, emitMany: async () => {} };
  return {
    deps: {
      service: 'loader-api',
      exchange,
      producer,
      telemetry,
      store,
      logger: createLogger({ service: 'loader-api-test', level: 'silent' }),
    },
    store,
    sent,
  };
}

test('a busy hour of aggTrades, ten times what one record may be, goes out as parts that each fit one record, and is counted once however often they are delivered', async (t) => {
  const { deps, store, sent } = await loaderWith(busyHour);
  t.after(() => store.close());
  await loadPage(deps, page);

  const records = sent.map((event) => encodeEvent(event));
  const bytes = records.reduce((sum, record) => sum + (record.value?.length ?? 0), 0);
  assert.ok(bytes > 10 * MAX_SEND_BYTES, `the hour is ${bytes} bytes`);
  for (const record of records)
    assert.ok(record.value!.length <= MAX_SEND_BYTES, `a record of ${record.value!.length} bytes`);
  const batches = sent.map((event) => dataBatchContract.parse(JSON.parse(event.dataJson!)));
  assert.equal(batches.length, busyHour.length / RECORDS_PER_PART);
  assert.deepEqual(
    batches.map((batch) => batch.page),
    batches.map((_, part) => ({ index: 12, count: 24, part, parts: batches.length })),
  );
  assert.deepEqual(
    batches.flatMap((batch) => batch.rows),
    busyHour,
    'every trade once, in order',
  );

  // The page fetched again (a redelivered work page) gives the same events, byte for byte.
  const again = await loaderWith(busyHour);
  t.after(() => again.store.close());
  await loadPage(again.deps, page);
  assert.deepEqual(
    again.sent.map((event) => [event.id, event.dataJson]),
    sent.map((event) => [event.id, event.dataJson]),
  );

  // Each part stored twice, as at-least-once delivery may: the page is done once, each trade counted once.
  await store.ensureCollection('trades');
  for (const batch of [...batches, ...batches]) {
    const { records: stored } = expandRows(batch);
    const { index, count, part, parts } = batch.page!;
    await store.writeBatch({
      collection: 'trades',
      records: stored,
      progress: { queue_id: QUEUE, page: index, pages: count, part, parts, records: stored.length },
    });
  }
  const progress = await store.workflowProgress(QUEUE);
  assert.deepEqual([progress.pagesDone, progress.recordsWritten], [1, busyHour.length]);
  assert.equal(await store.countRecords('trades'), busyHour.length);
});

test('a cutter that only measures cuts where the one that keeps the text does', () => {
  const texts = Array.from({ length: 2_345 }, (_, i) => JSON.stringify([i, 'x'.repeat(i % 97)]));
  const cut = (measureOnly: boolean) => {
    const cutter = new PartCutter(10_000, 1000, { measureOnly });
    const counts = texts.map((text) => cutter.add(text)?.count).filter((count) => count !== undefined);
    return [...counts, cutter.finish()?.count];
  };
  assert.deepEqual(cut(true), cut(false));
  assert.ok(cut(true).length > 3);
});
