import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { StreamForgeError } from '../../src/errors.ts';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite.ts';
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
