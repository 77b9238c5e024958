import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { priceKlineFromRow, rowFromKline } from '../../src/contracts/records.ts';
import { StreamForgeError } from '../../src/errors.ts';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.ts';
import { CANDLE_NUMBERS } from '../../src/store/sqlite-schema.ts';
import { waitFor } from '@streamforge/testing';
import { klineSeries, realKlines } from './kline-fixture.ts';
import { describeStoreContract } from './store-contract.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'sf-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function freshStore(
  t: TestContext,
  file = join(tempDir(t), 'store.sqlite'),
  lockTimeoutMs?: number,
): Promise<SqliteStore> {
  const store = await openSqliteStore(file, lockTimeoutMs === undefined ? {} : { lockTimeoutMs });
  t.after(() => store.close());
  return store;
}

/** A raw second connection holding the write lock, as another process's writer would. */
function holdWriteLock(t: TestContext, file: string): { release(): void } {
  const other = new DatabaseSync(file);
  other.exec('BEGIN IMMEDIATE');
  t.after(() => other.isOpen && other.close());
  return {
    release: () => {
      other.exec('COMMIT');
      other.close();
    },
  };
}

describeStoreContract('SQLite store', (t) => freshStore(t));

test('SQLite store: the file is in WAL mode, and a reopened store keeps records, workflows and progress', async (t) => {
  const file = join(tempDir(t), 'nested', 'store.sqlite');
  const first = await openSqliteStore(file);
  await first.writeBatch({
    collection: 'candles',
    records: realKlines().slice(0, 10),
    progress: { queue_id: 'wf-q', page: 0, pages: 1, part: 0, parts: 1, records: 10 },
  });
  await first.createWorkflow({
    queue_id: 'wf-q',
    symbol: 'BTCUSDT',
    type: 'api_candles_1h',
    market: 'spot',
    kafka_topic: 'data.klines',
    collection_name: 'candles',
    status: 'running',
    services: [],
    progress: {},
    created_at: 1,
    updated_at: 1,
    version: 1,
  });
  await first.close();
  const raw = new DatabaseSync(file);
  assert.equal((raw.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
  raw.close();
  const second = await freshStore(t, file);
  assert.equal(second.description, `sqlite:${file}`);
  assert.deepEqual(await second.listRecords('candles', { limit: 100 }), realKlines().slice(0, 10));
  assert.equal((await second.getWorkflow('wf-q'))!.status, 'running');
  assert.deepEqual(await second.workflowProgress('wf-q'), {
    queue_id: 'wf-q',
    pagesDone: 1,
    pagesTotal: 1,
    recordsWritten: 10,
    rejected: 0,
  });
});

test('SQLite store: a first write that fails rolls its new collection back, and the next write creates it again', async (t) => {
  const store = await freshStore(t);
  const records = realKlines().slice(0, 3);
  // A document the table refuses (NOT NULL) fails the transaction after the table was made.
  await assert.rejects(
    store.writeBatch({
      collection: 'fresh',
      records,
      json: [JSON.stringify(records[0]), null as unknown as string, JSON.stringify(records[2])],
    }),
  );
  assert.equal(await store.countRecords('fresh'), 0);
  await store.writeBatch({ collection: 'fresh', records });
  assert.equal(await store.countRecords('fresh'), 3);
});

test('SQLite store: a file of the first layout gains the graph and model tables when opened', async (t) => {
  const file = join(tempDir(t), 'store.sqlite');
  (await openSqliteStore(file)).close();
  const raw = new DatabaseSync(file);
  raw.exec(
    'DROP TABLE graph_sets; DROP TABLE graph_vertices; DROP TABLE graph_edges; DROP TABLE models; PRAGMA user_version = 1',
  );
  raw.close();
  const store = await freshStore(t, file);
  await store.saveGraphSet({
    graph_id: 'g',
    status: 'complete',
    windows: 0,
    feature_names: [],
    symbols: [],
    params: {},
    created_at: 0,
    updated_at: 0,
  });
  assert.equal((await store.listGraphs()).length, 1);
});

test('SQLite store: a write waits for the lock another connection holds, with the event loop free, and then succeeds', async (t) => {
  const file = join(tempDir(t), 'store.sqlite');
  const store = await freshStore(t, file);
  const lock = holdWriteLock(t, file);
  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
  }, 1);
  t.after(() => clearInterval(timer));
  const write = store.writeBatch({ collection: 'candles', records: realKlines().slice(0, 5) });
  await waitFor(
    'the writer to retry and the event loop to keep running',
    () => store.stats.busyRetries > 2 && ticks > 2,
  );
  lock.release();
  assert.equal((await write).written, 5);
  assert.equal(await store.countRecords('candles'), 5);
});

test('SQLite store: a write that cannot get the lock within lockTimeoutMs fails with SF_DEPENDENCY_UNAVAILABLE, not SQLITE_BUSY', async (t) => {
  const file = join(tempDir(t), 'store.sqlite');
  const store = await freshStore(t, file, 200);
  holdWriteLock(t, file);
  await assert.rejects(
    store.writeBatch({ collection: 'candles', records: realKlines().slice(0, 5) }),
    (e: unknown) => StreamForgeError.is(e) && e.code === 'SF_DEPENDENCY_UNAVAILABLE' && e.status === 503,
  );
  assert.equal(await store.countRecords('candles'), 0);
});

test('SQLite store: a store file that cannot be created fails with SF_DEPENDENCY_UNAVAILABLE', async (t) => {
  const notADir = join(tempDir(t), 'file');
  writeFileSync(notADir, 'x');
  await assert.rejects(
    openSqliteStore(join(notADir, 'store.sqlite')),
    (e: unknown) => StreamForgeError.is(e) && e.code === 'SF_DEPENDENCY_UNAVAILABLE',
  );
});

test('SQLite store: two processes writing the same file at once both wait their turn and store everything once', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'store.sqlite');
  const batches = 20;
  const parent = await freshStore(t, file);
  await parent.ensureCollection('concurrent_candles');
  // Hold the write lock until both writers have found it taken, so they truly contend.
  const lock = holdWriteLock(t, file);
  const script = fileURLToPath(new URL('./sqlite-writer.ts', import.meta.url));
  const writers = [0, 1].map((writer) => {
    const child = spawn(process.execPath, [script, file, 'concurrent_candles', String(writer), String(batches)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const said: Array<Record<string, unknown>> = [];
    let output = '';
    createInterface({ input: child.stdout }).on('line', (line) => {
      output += `${line}\n`;
      said.push(JSON.parse(line) as Record<string, unknown>);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { said, exited, output: () => output };
  });
  await waitFor('both writers to wait for the lock', () => writers.every((w) => w.said.some((m) => m.waiting)));
  lock.release();
  for (const w of writers) assert.equal(await w.exited, 0, w.output());
  for (const w of writers)
    assert.ok(
      w.said.some((m) => m.done),
      w.output(),
    );
  assert.equal(await parent.countRecords('concurrent_candles'), batches * 1000);
  const stored = await parent.listRecords('concurrent_candles', { limit: batches * 1000 });
  assert.deepEqual(stored, klineSeries(batches * 1000));
  assert.deepEqual(await parent.workflowProgress('wf-concurrent-writers'), {
    queue_id: 'wf-concurrent-writers',
    pagesDone: batches,
    pagesTotal: batches,
    recordsWritten: 2 * batches * 1000,
    rejected: 0,
  });
});

test('SQLite store: a klines table gets its candle index with its first batch and a chart reads the index alone; other tables do not; a version-3 file gains it when opened', async (t) => {
  const file = join(tempDir(t), 'store.sqlite');
  const store = await openSqliteStore(file);
  await store.writeBatch({ collection: 'klines', records: klineSeries(100) });
  await store.writeBatch({
    collection: 'trades',
    records: [
      {
        key: 'BTCUSDT:trade:000000000000001',
        symbol: 'BTCUSDT',
        trade_id: 1,
        price: '1',
        quantity: '1',
        timestamp: 1,
        is_buyer_maker: false,
      },
    ],
  });
  store.close();
  const raw = new DatabaseSync(file);
  const indexes = () =>
    (
      raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%_candles'").all() as Array<{
        name: string;
      }>
    ).map((r) => r.name);
  assert.deepEqual(indexes(), ['_c_klines_candles']);
  // The chart's expressions, spelled as the index spells them, come from the index without the table.
  const plan = raw
    .prepare(
      `EXPLAIN QUERY PLAN SELECT max(${CANDLE_NUMBERS.high}), sum(${CANDLE_NUMBERS.volume}) FROM c_klines WHERE key >= ? AND key < ?`,
    )
    .all('BTCUSDT:1m:', 'BTCUSDT:1m;') as Array<{ detail: string }>;
  assert.match(plan.map((p) => p.detail).join('\n'), /COVERING INDEX _c_klines_candles/);
  raw.exec('DROP INDEX _c_klines_candles; PRAGMA user_version = 3');
  raw.close();
  const reopened = await freshStore(t, file);
  const again = new DatabaseSync(file);
  t.after(() => again.close());
  assert.deepEqual(
    (
      again.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%_candles'").all() as Array<{
        name: string;
      }>
    ).map((r) => r.name),
    ['_c_klines_candles'],
  );
  assert.equal(
    (
      await reopened.aggregateCandles('klines', {
        symbol: 'BTCUSDT',
        interval: '1m',
        from: klineSeries(1)[0]!.open_time,
        to: klineSeries(1)[0]!.open_time + 100 * 60_000,
        bucketMs: 3_600_000,
        bucketOffsetMs: 0,
        maxGaps: 10,
      })
    ).stored,
    100,
  );
});

test('SQLite store: a mark price table gets the candle index too, and a price series is read from the index alone, volumes summed to 0 without the documents', async (t) => {
  const file = join(tempDir(t), 'store.sqlite');
  const store = await freshStore(t, file);
  const marks = klineSeries(100).map((c) =>
    priceKlineFromRow('mark_price_klines', c.symbol, c.interval, rowFromKline(c)),
  );
  await store.writeBatch({ collection: 'marks', records: marks });
  const raw = new DatabaseSync(file);
  t.after(() => raw.close());
  assert.ok(raw.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = '_c_marks_candles'").get());
  // The bucket statement's aggregates (sqlite-candles.ts), over the mark series' key range.
  const plan = raw
    .prepare(
      `EXPLAIN QUERY PLAN SELECT min(key), max(key), count(*), max(${CANDLE_NUMBERS.high}), min(${CANDLE_NUMBERS.low}),
        coalesce(sum(${CANDLE_NUMBERS.volume}), 0), coalesce(sum(${CANDLE_NUMBERS.trades}), 0) FROM c_marks WHERE key >= ? AND key < ?`,
    )
    .all('BTCUSDT:mark:1m:', 'BTCUSDT:mark:1m;') as Array<{ detail: string }>;
  assert.match(plan.map((p) => p.detail).join('\n'), /COVERING INDEX _c_marks_candles/);
  const answer = await store.aggregateCandles('marks', {
    symbol: 'BTCUSDT',
    interval: '1m',
    kind: 'mark_price_klines',
    from: marks[0]!.open_time,
    to: marks[0]!.open_time + 100 * 60_000,
    bucketMs: 3_600_000,
    bucketOffsetMs: 0,
    maxGaps: 10,
  });
  assert.equal(answer.stored, 100);
  assert.ok(answer.candles.every((c) => c.volume === 0 && c.quote_volume === 0 && c.trades === 0));
});

test('SQLite store: aggregateCandles answers exactly what the candles themselves add up to, for any holes, bucket and range', async (t) => {
  const MINUTE = 60_000;
  // 2024, and a series across 2001-09-09 01:46:40, where open times go from 12 to 13 digits
  // (key order stops being time order there).
  const starts = [Date.UTC(2024, 0, 1), Math.floor(1e12 / MINUTE) * MINUTE - 300 * MINUTE];
  const seriesOf = new Map(starts.map((start) => [start, klineSeries(600, start)]));
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...starts),
      fc.uniqueArray(fc.integer({ min: 0, max: 599 }), { maxLength: 200 }),
      fc.constantFrom(1, 3, 5, 15, 60, 240),
      fc.integer({ min: -30, max: 620 }),
      fc.integer({ min: 1, max: 700 }),
      fc.integer({ min: 1, max: 5 }),
      async (start, holes, bucketMinutes, fromMinute, span, maxGaps) => {
        const store = await openSqliteStore(':memory:');
        const series = seriesOf.get(start)!;
        try {
          const cut = new Set(holes);
          const stored = series.filter((_, i) => !cut.has(i));
          await store.writeBatch({ collection: 'k', records: stored });
          const from = start + fromMinute * MINUTE;
          const to = from + span * MINUTE;
          const bucketMs = bucketMinutes * MINUTE;
          const answer = await store.aggregateCandles('k', {
            symbol: 'BTCUSDT',
            interval: '1m',
            from,
            to,
            bucketMs,
            bucketOffsetMs: 0,
            maxGaps,
          });
          // The same by hand: every candle in [from, to), into its bucket.
          const inRange = stored.filter((c) => c.open_time >= from && c.open_time < to);
          const byBucket = new Map<number, typeof inRange>();
          for (const c of inRange) {
            const time = c.open_time - (c.open_time % bucketMs);
            byBucket.set(time, [...(byBucket.get(time) ?? []), c]);
          }
          const sum = (cs: typeof inRange, f: (c: (typeof inRange)[number]) => number) =>
            cs.reduce((n, c) => n + f(c), 0);
          const expected = [...byBucket].map(([time, cs]) => ({
            time,
            open: Number(cs[0]!.open),
            high: Math.max(...cs.map((c) => Number(c.high))),
            low: Math.min(...cs.map((c) => Number(c.low))),
            close: Number(cs.at(-1)!.close),
            volume: sum(cs, (c) => Number(c.volume)),
            quote_volume: sum(cs, (c) => Number(c.quote_asset_volume)),
            trades: sum(cs, (c) => c.number_of_trades),
            candles: cs.length,
          }));
          assert.equal(answer.candles.length, expected.length);
          answer.candles.forEach((b, i) => {
            const e = expected[i]!;
            assert.deepEqual({ ...b, volume: 0, quote_volume: 0 }, { ...e, volume: 0, quote_volume: 0 });
            assert.ok(Math.abs(b.volume - e.volume) <= 1e-9 * Math.max(1, e.volume));
            assert.ok(Math.abs(b.quote_volume - e.quote_volume) <= 1e-9 * Math.max(1, e.quote_volume));
          });
          // Gaps: every minute of [from, to) not stored, as runs, the earliest maxGaps.
          const runs: Array<{ from: number; to: number; missing: number }> = [];
          const have = new Set(stored.map((c) => c.open_time));
          for (let m = from; m < to; m += MINUTE) {
            if (have.has(m)) continue;
            const last = runs.at(-1);
            if (last && last.to === m) {
              last.to += MINUTE;
              last.missing++;
            } else runs.push({ from: m, to: m + MINUTE, missing: 1 });
          }
          assert.deepEqual(answer.gaps, runs.slice(0, maxGaps));
          assert.equal(answer.gaps_truncated, runs.length > maxGaps);
          assert.equal(answer.stored, inRange.length);
          assert.equal(answer.expected, span);
        } finally {
          store.close();
        }
      },
    ),
    // Seen failing once: a range wholly before the 13 digits, its bucket reaching past them.
    { numRuns: 80, examples: [[starts[1]!, [], 240, 0, 195, 1]] },
  );
  t.diagnostic('80 random series, buckets and ranges');
});
