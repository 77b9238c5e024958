/**
 * A separate writer process for sqlite.test.ts: opens the store file, says `{"ready":true}`,
 * starts writing, says `{"waiting":true}` once it has found the write lock taken, and
 * `{"done":true,...}` when all its batches are stored. Each batch is one page part
 * (page b of `batches`, part `writer` of 2), so the pages are only done when both writers
 * wrote their part.
 *
 *   node packages/core/test/store/sqlite-writer.ts <file> <collection> <writer 0|1> <batches>
 */
import { openSqliteStore } from '../../src/store/sqlite.ts';
import { waitFor } from '@streamforge/testing';
import { klineSeries } from './kline-fixture.ts';

const [file, collection, writerArg, batchesArg] = process.argv.slice(2);
const writer = Number(writerArg);
const batches = Number(batchesArg);
const say = (message: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(message)}\n`);
};

const store = await openSqliteStore(file, { lockTimeoutMs: 60_000 });
const records = klineSeries(batches * 1000);
say({ ready: true, writer });
const writing = (async () => {
  for (let b = 0; b < batches; b++) {
    // Both writers store the same records: the keys collide on purpose.
    await store.writeBatch({
      collection,
      records: records.slice(b * 1000, (b + 1) * 1000),
      progress: { queue_id: 'wf-concurrent-writers', page: b, pages: batches, part: writer, parts: 2, records: 1000 },
    });
  }
})();
await waitFor('the write lock to be found taken', () => store.stats.busyRetries > 0, { intervalMs: 5 });
say({ waiting: true, writer });
await writing;
say({ done: true, writer, busyRetries: store.stats.busyRetries });
await store.close();
