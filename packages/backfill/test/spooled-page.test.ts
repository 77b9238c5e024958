/**
 * A page published through its spool: the rows written to a file as they come, then sent in
 * parts from it. The parts are those of the page as a whole, and whatever way the page ends,
 * its spool is gone — the file and its open descriptor.
 */
import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { EventInput } from '@streamforge/core/bus';
import type { DataBatch, WorkPage } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import { partsOfRows } from '../src/page-parts.ts';
import { rowBytesOf, type PageOrigin } from '../src/data-events.ts';
import { publishSpooledRows, readBatches } from '../src/spooled-page.ts';

const HOUR = Date.UTC(2024, 2, 12, 14);
const page: WorkPage = {
  queue_id: 'wf-btcusdt-api_agg_trades-20240312-a1b2c3',
  type: 'api_agg_trades',
  symbol: 'BTCUSDT',
  market: 'spot',
  kind: 'agg_trades',
  start_ms: HOUR,
  end_ms: HOUR + 3_600_000,
  page: { index: 3, count: 24 },
  collection_name: 'trades_btcusdt',
  kafka_topic: 'data-agg-trades',
  telemetry_id: 'loader-api',
};
const origin: PageOrigin = { service: 'loader-api', source: 'api' };
const trades = Array.from({ length: 4_321 }, (_, i) => ({
  a: i,
  p: '42000.01',
  q: '0.5',
  T: HOUR + i,
  m: i % 3 === 0,
}));
/** The trades in answers of 1000, as the exchange sends them. */
async function* answers(): AsyncGenerator<unknown[]> {
  for (let i = 0; i < trades.length; i += 1000) yield trades.slice(i, i + 1000);
}

async function spoolDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spooled-page-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** This process's open descriptors into `dir` (Linux's /proc; none where it cannot be read). */
async function openIn(dir: string): Promise<string[]> {
  const fds = await readdir('/proc/self/fd').catch(() => []);
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((target) => target.startsWith(dir));
}

test('the rows go out as the parts of the whole page, four parts a send, each naming how many there are', async (t) => {
  const tempDir = await spoolDir(t);
  const sends: Array<Array<EventInput<DataBatch>>> = [];

  const rows = await publishSpooledRows(
    page,
    origin,
    'binance_agg_trade',
    readBatches(answers()),
    async (events) => {
      sends.push(events);
    },
    { tempDir },
  );

  assert.equal(rows, trades.length);
  assert.deepEqual(
    sends.map((events) => events.length),
    [4, 1],
  );
  const events = sends.flat();
  const expected = partsOfRows(trades, rowBytesOf(page, origin, 'binance_agg_trade'));
  assert.deepEqual(
    events.map((event) => JSON.parse(event.dataJson!).rows),
    expected.map((part) => JSON.parse(part.rowsJson)),
  );
  assert.deepEqual(
    events.map((event) => [event.id, event.data.page]),
    events.map((_, part) => [`${page.queue_id}:page:3:${part}`, { index: 3, count: 24, part, parts: 5 }]),
  );
  assert.deepEqual(await readdir(tempDir), []);
});

test('a send that fails ends the page with its error, and leaves neither the spool nor a descriptor open on it', async (t) => {
  const tempDir = await spoolDir(t);
  const refused = new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', 'broker gone');
  let sends = 0;

  await assert.rejects(
    publishSpooledRows(
      page,
      origin,
      'binance_agg_trade',
      readBatches(answers()),
      async () => {
        sends++;
        throw refused;
      },
      { tempDir },
    ),
    (error) => error === refused,
  );

  assert.equal(sends, 1);
  assert.deepEqual(await readdir(tempDir), []);
  assert.deepEqual(await openIn(tempDir), []);
});

test('a read that fails after some rows sends nothing', async (t) => {
  const tempDir = await spoolDir(t);
  let sends = 0;
  async function* cutShort(): AsyncGenerator<unknown[]> {
    yield trades.slice(0, 1000);
    throw new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', 'exchange gone');
  }

  await assert.rejects(
    publishSpooledRows(
      page,
      origin,
      'binance_agg_trade',
      readBatches(cutShort()),
      async () => {
        sends++;
      },
      { tempDir },
    ),
    /exchange gone/,
  );

  assert.equal(sends, 0);
  assert.deepEqual(await readdir(tempDir), []);
});

test('a temporary folder that is full is a retryable coded error naming it', async (t) => {
  const tempDir = await spoolDir(t);
  const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

  await assert.rejects(
    publishSpooledRows(
      page,
      origin,
      'binance_agg_trade',
      async () => {
        throw full;
      },
      async () => {},
      { tempDir },
    ),
    (error: unknown) =>
      StreamForgeError.is(error) &&
      error.code === 'SF_DEPENDENCY_UNAVAILABLE' &&
      error.message.includes(tempDir) &&
      error.message.includes('ENOSPC'),
  );
});
