/**
 * Archive pages of a large file, one slice each, loaded in process on real components: the
 * exchange simulator's archive site, the real archive client (downloads checked against their
 * CHECKSUM), a real producer to topics of this test on the test broker, SQLite. Each slice
 * publishes exactly its rows, stops reading the file past its end, and counts its share of
 * the file's bytes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTelemetryEmitter, decodeRecord, TOPICS } from '@streamforge/core/bus';
import type { AggTrade, DataBatch, StartCommand, TelemetryEvent } from '@streamforge/core/contracts';
import { openStore } from '@streamforge/core/store';
import { createLogger } from '@streamforge/core/telemetry';
import { BinanceRestClient } from '@streamforge/exchange';
import { ArchiveClient, type ArchiveFileRef, type VerifiedArchive } from '@streamforge/exchange/archive';
import {
  ARCHIVE_TEST_NOW,
  plannedTestTopics,
  readTopic,
  startArchiveSimulator,
  testKafka,
  topicMessageCount,
  uniqueName,
} from '@streamforge/testing';
import { loadArchivePage, READ_PAST_END_MS } from '../src/archive-page.ts';
import { planBulk } from '../src/plan-bulk.ts';

const DAY = 86_400_000;
/** A published day of the simulator's BTCUSDT: an aggregate trade a minute, 1440 rows. */
const DAY_START = Math.floor(ARCHIVE_TEST_NOW / DAY) * DAY - 2 * DAY;
/** Rows the archive client hands over at once: small, so that where a read stops shows. */
const BATCH = 50;

/** The archive client, counting the rows each read of a file hands over. */
class CountingArchive extends ArchiveClient {
  readonly reads: number[] = [];
  override async download(file: ArchiveFileRef): Promise<{ found: false; path: string } | VerifiedArchive> {
    const download = await super.download(file);
    if (!download.found) return download;
    return {
      ...download,
      rows: async (onRows) => {
        const read = this.reads.push(0) - 1;
        return await download.rows((rows) => {
          this.reads[read]! += rows.length;
          return onRows(rows);
        });
      },
    };
  }
}

test("a large aggTrades file's slices publish its rows once between them, each reading only up to its end", async (t) => {
  const sim = await startArchiveSimulator(t);
  const tempDir = await mkdtemp(join(tmpdir(), 'archive-page-test-'));
  t.after(() => rm(tempDir, { recursive: true, force: true }));
  const archive = new CountingArchive({ baseUrl: sim.url, tempDir, batchSize: BATCH, env: {} });
  t.after(() => archive.close());
  const exchange = new BinanceRestClient({ baseUrls: { spot: sim.url }, weightLimits: { spot: Infinity }, env: {} });
  t.after(() => exchange.close());
  const kafka = testKafka('archive-page-test');
  const { prefix, producer } = await plannedTestTopics(t, kafka, 'archive-page', [TOPICS.events, TOPICS.dataAggTrades]);
  const store = await openStore('sqlite::memory:');
  t.after(() => store.close());
  const telemetry = createTelemetryEmitter({ producer, service: 'loader-producer' });
  const logger = createLogger({ service: 'archive-page-test', level: 'silent' });
  const deps = { service: 'loader-producer', exchange, archive, producer, telemetry, store, logger };

  // The plan over the site's listing, with slices of a quarter of the day's file: four pages.
  const series = { market: 'spot', kind: 'aggTrades', symbol: 'BTCUSDT' } as const;
  const listed = await archive.inventory(series, { start: DAY_START, end: DAY_START + DAY }, ['daily']);
  const size = listed.daily.get(DAY_START)!;
  const sliceBytes = Math.ceil(size / 4);
  const command: StartCommand = {
    command: 'start',
    queue_id: uniqueName('wf-btcusdt-bulk_agg_trades'),
    target: 'loader-producer',
    symbol: 'BTCUSDT',
    type: 'bulk_agg_trades',
    time_range: '2025-03-08:2025-03-09',
    market: 'spot',
    collection_name: 'btc_agg_slices',
    timestamp: 1,
  };
  const { pages } = planBulk({
    command,
    kind: 'agg_trades',
    interval: undefined,
    startMs: DAY_START,
    endMs: DAY_START + DAY,
    now: ARCHIVE_TEST_NOW,
    listed,
    sliceBytes,
  });
  assert.equal(pages.length, 4);
  for (const page of pages) assert.equal(await loadArchivePage(deps, page), 'loaded');

  // Between them, the slices published every row of the file once, each only rows of its own range.
  const whole: AggTrade[] = [];
  await archive.read({ ...series, period: 'daily', start: DAY_START }, (rows) => {
    whole.push(...rows);
  });
  assert.equal(whole.length, 1440);
  const published = (await readTopic(kafka, `${prefix}${TOPICS.dataAggTrades}`, pages.length)).map(
    (record) => decodeRecord<DataBatch>(record).data!,
  );
  const rowsOf = (index: number): AggTrade[] =>
    published.filter((b) => b.page?.index === index).flatMap((b) => b.rows as AggTrade[]);
  for (const page of pages)
    assert.ok(
      rowsOf(page.page.index).every((r) => r.T >= page.start_ms && r.T < page.end_ms),
      `page ${page.page.index}`,
    );
  assert.deepEqual(
    pages.flatMap((p) => rowsOf(p.page.index)).map((r) => r.a),
    whole.map((r) => r.a),
  );

  // Each slice read its file once, and stopped within a batch past its end and the margin after
  // it; the last slice read the whole file, as one page per file did for every page.
  const reads = archive.reads.slice(0, pages.length);
  const upTo = pages.map((p) => whole.filter((r) => r.T < p.end_ms + READ_PAST_END_MS).length);
  assert.deepEqual(
    reads,
    upTo.map((n) => Math.min(whole.length, (Math.floor(n / BATCH) + 1) * BATCH)),
  );

  // The slices' shares add up to the file's size: the bytes done end at the plan's total.
  const events = (
    await readTopic(kafka, `${prefix}${TOPICS.events}`, await topicMessageCount(kafka, `${prefix}${TOPICS.events}`))
  ).map((record) => decodeRecord<TelemetryEvent>(record).data!);
  const finished = events.find((e) => e.status === 'finished');
  assert.deepEqual(finished?.progress?.bytes, { done: size, total: size });
  assert.match(events[0]?.message ?? '', /^page 1\/4: BTCUSDT-aggTrades-\d{4}-\d{2}-\d{2} \(part 1\/4\): \d+ records/);
});
