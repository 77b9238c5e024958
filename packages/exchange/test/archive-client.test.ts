import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { zipSync } from 'fflate';
import type { AggTrade, Interval, KlineRow, Market, RawTrade } from '@streamforge/core/contracts';
import type { StreamForgeError } from '@streamforge/core/errors';
import {
  archivePath as simulatorArchivePath,
  parseArchivePath as simulatorParseArchivePath,
  type ExchangeSimulator,
} from '@streamforge/simulator';
import {
  ArchiveClient,
  archiveSeriesFolder,
  archiveZipPath,
  type AggTradeArchiveFile,
  type ArchiveClientOptions,
  type ArchiveFileRef,
  type KlineArchiveFile,
  type TradeArchiveFile,
} from '../src/archive.ts';
import { BinanceRestClient } from '../src/index.ts';
import { rejectionOf, startArchiveSimulator } from '@streamforge/testing';

const DAY = 86_400_000;
const HOUR = 3_600_000;

const simulator = startArchiveSimulator;

/** A client whose temporary files go to a folder of the test's, so the test can see that none is left. */
async function archive(
  t: TestContext,
  url: string,
  options: ArchiveClientOptions = {},
): Promise<{ client: ArchiveClient; tempDir: string }> {
  const tempDir = await mkdtemp(join(tmpdir(), 'archive-client-test-'));
  const client = new ArchiveClient({ baseUrl: url, tempDir, ...options });
  t.after(async () => {
    await client.close();
    await rm(tempDir, { recursive: true, force: true });
  });
  return { client, tempDir };
}

function rest(t: TestContext, sim: ExchangeSimulator): BinanceRestClient {
  const client = new BinanceRestClient({
    baseUrls: { spot: sim.url, usdm: sim.url, coinm: sim.url },
    backoff: { baseMs: 1, maxMs: 5 },
  });
  t.after(() => client.close());
  return client;
}

async function restKlines(
  client: BinanceRestClient,
  market: Market,
  interval: Interval,
  start: number,
  end: number,
): Promise<KlineRow[]> {
  const rows: KlineRow[] = [];
  for await (const page of client.klinePages({
    market,
    symbol: 'BTCUSDT',
    interval,
    startTime: start,
    endTime: end - 1,
  }))
    rows.push(...page);
  return rows;
}

/** Every REST aggregate trade of [start, end): the first by an hour's window (USD-M's limit), then by fromId. */
async function restAggTrades(client: BinanceRestClient, market: Market, start: number, end: number) {
  const first = await client.aggTrades({
    market,
    symbol: 'BTCUSDT',
    startTime: start,
    endTime: start + HOUR - 1,
    limit: 1,
  });
  const trades: AggTrade[] = [];
  for (let fromId = first[0]!.a; ; ) {
    const page = (await client.aggTrades({ market, symbol: 'BTCUSDT', fromId, limit: 1000 })).filter((x) => x.T < end);
    trades.push(...page);
    if (page.length < 1000) return trades;
    fromId = page.at(-1)!.a + 1;
  }
}

/** Every REST raw trade of [start, end): the first trade id from the first aggregate trade at the start, then historicalTrades by id. */
async function restRawTrades(client: BinanceRestClient, market: Market, start: number, end: number) {
  const [first] = await client.aggTrades({
    market,
    symbol: 'BTCUSDT',
    startTime: start,
    endTime: start + HOUR - 1,
    limit: 1,
  });
  const trades: RawTrade[] = [];
  for (let fromId = first!.f; ; ) {
    const page = await client.historicalTrades({ market, symbol: 'BTCUSDT', fromId });
    trades.push(...page.filter((x) => x.time < end));
    if (page.length === 0 || page.at(-1)!.time >= end) return trades;
    fromId = page.at(-1)!.id + 1;
  }
}

/** Reads a file, checking that batches respect the size and are awaited one at a time. */
async function readAll<R>(client: ArchiveClient, file: ArchiveFileRef, batchSize = 1000) {
  const rows: R[] = [];
  const sizes: number[] = [];
  let inFlight = false;
  const result = await client.read(file, async (batch: unknown[]) => {
    assert.equal(inFlight, false, 'the next batch waits for the previous onRows');
    inFlight = true;
    sizes.push(batch.length);
    assert.ok(batch.length <= batchSize);
    rows.push(...(batch as R[]));
    await new Promise((resolve) => setImmediate(resolve));
    inFlight = false;
  });
  return { result, rows, sizes };
}

const failure = rejectionOf;

const klines = (
  market: Market,
  period: 'daily' | 'monthly',
  interval: Interval,
  start: number,
  symbol = 'BTCUSDT',
): KlineArchiveFile => ({ market, period, kind: 'klines', symbol, interval, start });
const aggTrades = (market: Market, period: 'daily' | 'monthly', start: number): AggTradeArchiveFile => ({
  market,
  period,
  kind: 'aggTrades',
  symbol: 'BTCUSDT',
  start,
});

const rawTrades = (market: Market, start: number): TradeArchiveFile => ({
  market,
  period: 'daily',
  kind: 'trades',
  symbol: 'BTCUSDT',
  start,
});

const DAY_FILE = klines('spot', 'daily', '1m', Date.UTC(2023, 2, 5));

test("archive paths are the simulator's, for both markets, periods and kinds", () => {
  const files: ArchiveFileRef[] = [
    klines('spot', 'daily', '1m', Date.UTC(2023, 2, 5)),
    klines('spot', 'daily', '1s', Date.UTC(2025, 0, 1)),
    klines('spot', 'monthly', '1M', Date.UTC(2024, 5, 1)),
    klines('usdm', 'monthly', '1w', Date.UTC(2020, 11, 1)),
    klines('usdm', 'daily', '1d', Date.UTC(2024, 1, 29)),
    aggTrades('spot', 'daily', Date.UTC(2023, 2, 5)),
    aggTrades('usdm', 'monthly', Date.UTC(2023, 1, 1)),
    klines('coinm', 'monthly', '1h', Date.UTC(2023, 2, 1), 'BTCUSD_PERP'),
    { ...aggTrades('coinm', 'daily', Date.UTC(2023, 2, 5)), symbol: 'BTCUSD_PERP' },
  ];
  for (const file of files) {
    const path = archiveZipPath(file);
    assert.equal(path, simulatorArchivePath(file), path);
    assert.deepEqual(simulatorParseArchivePath(path), { file, checksum: false }, path);
    assert.ok(path.startsWith(archiveSeriesFolder(file)));
  }
  assert.equal(archiveZipPath(files[2]!), 'data/spot/monthly/klines/BTCUSDT/1mo/BTCUSDT-1mo-2024-06.zip');
  assert.equal(archiveZipPath(files[7]!), 'data/futures/cm/monthly/klines/BTCUSD_PERP/1h/BTCUSD_PERP-1h-2023-03.zip');
});

test('COIN-M files (futures/cm) read as the dapi REST answers: a monthly kline file and a daily aggTrades file', async (t) => {
  const sim = await simulator(t);
  const { client } = await archive(t, sim.url);
  const exchange = rest(t, sim);
  const month = klines('coinm', 'monthly', '1h', Date.UTC(2023, 2, 1), 'BTCUSD_PERP');
  const candles = await readAll<KlineRow>(client, month);
  assert.equal(candles.result.found, true);
  assert.equal(candles.rows.length, 31 * 24);
  const expected: KlineRow[] = [];
  const query = { market: 'coinm', symbol: 'BTCUSD_PERP', interval: '1h', startTime: month.start } as const;
  for await (const page of exchange.klinePages({ ...query, endTime: Date.UTC(2023, 3, 1) - 1 })) expected.push(...page);
  assert.deepEqual(candles.rows, expected);
  assert.match(candles.rows[0]![5], /^\d+$/, 'volume in contracts');

  const day: AggTradeArchiveFile = { ...aggTrades('coinm', 'daily', Date.UTC(2023, 2, 5)), symbol: 'BTCUSD_PERP' };
  const trades = await readAll<AggTrade>(client, day);
  assert.equal(trades.result.found, true);
  const first = await exchange.aggTrades({
    market: 'coinm',
    symbol: 'BTCUSD_PERP',
    startTime: day.start,
    endTime: day.start + HOUR - 1,
    limit: 1,
  });
  const page = await exchange.aggTrades({ market: 'coinm', symbol: 'BTCUSD_PERP', fromId: first[0]!.a, limit: 1000 });
  assert.deepEqual(trades.rows.slice(0, 1000), page);
  assert.ok(trades.rows.length >= 1400 && !('M' in trades.rows[0]!));
});

test('a spot daily 1m kline file reads as the REST klines of that day, in awaited batches of at most N rows', async (t) => {
  const sim = await simulator(t);
  const { client, tempDir } = await archive(t, sim.url, { batchSize: 500 });
  const { result, rows, sizes } = await readAll<KlineRow>(client, DAY_FILE, 500);
  assert.equal(result.found, true);
  assert.deepEqual(sizes, [500, 500, 440]);
  assert.deepEqual(rows, await restKlines(rest(t, sim), 'spot', '1m', DAY_FILE.start, DAY_FILE.start + DAY));
  assert.deepEqual(await readdir(tempDir), [], 'the temporary download is gone');
});

test('a USD-M monthly kline file skips its header row and reads as the REST klines of the month', async (t) => {
  const sim = await simulator(t);
  const { client } = await archive(t, sim.url);
  const file = klines('usdm', 'monthly', '1h', Date.UTC(2023, 2, 1));
  const { result, rows } = await readAll<KlineRow>(client, file);
  assert.equal(result.found, true);
  assert.equal(rows.length, 31 * 24);
  assert.deepEqual(rows, await restKlines(rest(t, sim), 'usdm', '1h', file.start, Date.UTC(2023, 3, 1)));
});

test('a spot day of 2025, written in microseconds, reads as the millisecond REST klines', async (t) => {
  const sim = await simulator(t);
  const { client } = await archive(t, sim.url);
  const file = klines('spot', 'daily', '1m', Date.UTC(2025, 2, 5));
  const { rows } = await readAll<KlineRow>(client, file);
  const expected = await restKlines(rest(t, sim), 'spot', '1m', file.start, file.start + DAY);
  assert.equal(rows[0]![0], file.start);
  assert.equal(rows[0]![6], file.start + 59_999);
  assert.deepEqual(rows, expected);
});

test('aggTrades files read as the REST aggTrades: spot with M (ms and µs days), USD-M without', async (t) => {
  const sim = await simulator(t);
  const { client } = await archive(t, sim.url);
  const exchange = rest(t, sim);
  for (const file of [
    aggTrades('spot', 'daily', Date.UTC(2023, 2, 5)),
    aggTrades('spot', 'daily', Date.UTC(2025, 2, 5)),
    aggTrades('usdm', 'daily', Date.UTC(2023, 2, 5)),
    aggTrades('usdm', 'monthly', Date.UTC(2023, 1, 1)),
  ]) {
    const end = file.period === 'daily' ? file.start + DAY : Date.UTC(2023, 2, 1);
    const { result, rows } = await readAll<AggTrade>(client, file);
    assert.equal(result.found, true);
    const expected = await restAggTrades(exchange, file.market, file.start, end);
    assert.ok(expected.length >= 1400, `${archiveZipPath(file)}: ${expected.length} trades`);
    assert.deepEqual(rows, expected, archiveZipPath(file));
    assert.equal('M' in rows[0]!, file.market === 'spot');
  }
});

test('trades files read as the REST historicalTrades: spot with isBestMatch (ms and µs days), USD-M after its header', async (t) => {
  const sim = await simulator(t);
  const { client } = await archive(t, sim.url);
  const exchange = rest(t, sim);
  const spot = rawTrades('spot', Date.UTC(2024, 2, 5));
  assert.equal(archiveZipPath(spot), 'data/spot/daily/trades/BTCUSDT/BTCUSDT-trades-2024-03-05.zip');
  for (const file of [spot, rawTrades('spot', Date.UTC(2025, 2, 5)), rawTrades('usdm', Date.UTC(2024, 2, 5))]) {
    const path = archiveZipPath(file);
    assert.equal(path, simulatorArchivePath(file));
    assert.deepEqual(simulatorParseArchivePath(path), { file, checksum: false }, path);
    const { result, rows } = await readAll<RawTrade>(client, file);
    assert.equal(result.found, true);
    const expected = await restRawTrades(exchange, file.market, file.start, file.start + DAY);
    assert.ok(expected.length >= 1400, `${path}: ${expected.length} trades`);
    assert.deepEqual(rows, expected, path);
    assert.equal('isBestMatch' in rows[0]!, file.market === 'spot');
  }
  // What the site serves: spot lines in µs from 2025 with Python booleans, a USD-M header row.
  const csvOf = async (file: TradeArchiveFile): Promise<string[]> => {
    const zip = new Uint8Array(await (await fetch(`${sim.url}/${archiveZipPath(file)}`)).arrayBuffer());
    const { unzipSync } = await import('fflate');
    return new TextDecoder().decode(Object.values(unzipSync(zip))[0]).split('\n');
  };
  const [usdmHeader] = await csvOf(rawTrades('usdm', Date.UTC(2024, 2, 5)));
  assert.equal(usdmHeader, 'id,price,qty,quote_qty,time,is_buyer_maker');
  const [spotLine] = await csvOf(rawTrades('spot', Date.UTC(2025, 2, 5)));
  assert.match(spotLine!, /^\d+,[\d.]+,[\d.]+,[\d.]+,\d{16},(True|False),True$/);
});

test('a listing names every published file of a folder with its size, also when it comes in marker pages', async (t) => {
  const sim = await simulator(t);
  const { client } = await archive(t, sim.url);
  const folder = archiveSeriesFolder({
    market: 'spot',
    period: 'daily',
    kind: 'klines',
    symbol: 'NEWUSDT',
    interval: '1m',
  });
  const listing = await client.list(folder);
  const days = ['03', '04', '05', '06', '07', '08', '09'].map((d) => `${folder}NEWUSDT-1m-2025-03-${d}.zip`);
  assert.deepEqual(
    listing.files.map((f) => f.key),
    days.flatMap((k) => [k, `${k}.CHECKSUM`]),
  );
  assert.deepEqual(listing.folders, []);
  for (const entry of listing.files.slice(0, 2)) {
    const body = new Uint8Array(await (await fetch(`${sim.url}/${entry.key}`)).arrayBuffer());
    assert.equal(entry.size, body.length, entry.key);
    assert.equal(entry.etag, createHash('md5').update(body).digest('hex'));
  }
  const { client: paging } = await archive(t, sim.url, { listPageSize: 4 });
  const before = sim.stats().archive.listings;
  assert.deepEqual(await paging.list(folder), listing);
  assert.equal(sim.stats().archive.listings - before, 4, '14 keys in pages of 4');
  const intervals = await client.list('data/futures/um/daily/klines/NEWUSDT/');
  assert.deepEqual(intervals.files, []);
  assert.ok(intervals.folders.includes('data/futures/um/daily/klines/NEWUSDT/1m/'));
});

test('the public site is listed through the S3 bucket behind it; a mirror or the simulator lists itself', async () => {
  const clients = [
    new ArchiveClient({ env: {} }),
    new ArchiveClient({ baseUrl: 'http://127.0.0.1:9/' }),
    new ArchiveClient({ env: { ARCHIVE_LISTING_URL: 'https://mirror.example/bucket/' } }),
  ];
  assert.deepEqual(
    clients.map((c) => [c.baseUrl, c.listingUrl]),
    [
      ['https://data.binance.vision', 'https://s3-ap-northeast-1.amazonaws.com/data.binance.vision'],
      ['http://127.0.0.1:9', 'http://127.0.0.1:9'],
      ['https://data.binance.vision', 'https://mirror.example/bucket'],
    ],
  );
  await Promise.all(clients.map((c) => c.close()));
});

test("an inventory lists only the files around a range, in one page per period, whatever the series' history", async (t) => {
  const sim = await simulator(t);
  const { client } = await archive(t, sim.url);
  const before = sim.stats().archive.listings;
  const start = Date.UTC(2025, 0, 20);
  const end = Date.UTC(2025, 2, 9);
  const listed = await client.inventory(
    { market: 'spot', kind: 'klines', symbol: 'BTCUSDT', interval: '1h' },
    { start, end },
  );
  assert.equal(sim.stats().archive.listings - before, 2, 'one listing of the monthly folder, one of the daily');
  const inRange = (files: ReadonlyMap<number, number>, from: number, to: number) =>
    [...files.keys()].filter((t) => t >= from && t < to);
  assert.deepEqual(inRange(listed.monthly, start - 31 * DAY, end), [Date.UTC(2025, 0, 1), Date.UTC(2025, 1, 1)]);
  assert.deepEqual(
    inRange(listed.daily, start, end),
    Array.from({ length: (end - start) / DAY }, (_, i) => start + i * DAY),
  );
  assert.ok(
    [...listed.daily.keys()].every((day) => day >= start),
    'BTCUSDT has daily files since 2017: none before the range is named',
  );
  // Each file with its zip's size as listed, which a plan sums for its progress in bytes.
  const january = archiveZipPath(klines('spot', 'monthly', '1h', Date.UTC(2025, 0, 1)));
  const served = (await (await fetch(`${sim.url}/${january}`)).arrayBuffer()).byteLength;
  assert.equal(listed.monthly.get(Date.UTC(2025, 0, 1)), served);
});

test('a corrupt zip or a wrong CHECKSUM fails with the retry code naming the expected and actual hash', async (t) => {
  const sim = await simulator(t, {
    archive: {
      faults: [
        { kind: 'corrupt', paths: [archiveZipPath(DAY_FILE)] },
        { kind: 'badChecksum', paths: ['*-2023-03-06.zip'] },
      ],
    },
  });
  const { client, tempDir } = await archive(t, sim.url);
  for (const file of [DAY_FILE, { ...DAY_FILE, start: DAY_FILE.start + DAY }]) {
    const path = archiveZipPath(file);
    const checksum = (await (await fetch(`${sim.url}/${path}.CHECKSUM`)).text()).split('  ')[0]!;
    let called = false;
    const error = await failure(client.read(file, () => (called = true)));
    assert.equal(error.code, 'SF_ARCHIVE_INVALID');
    assert.equal(error.disposition, 'retry');
    assert.equal(error.details?.expected, checksum);
    assert.match(String(error.details?.actual), /^[0-9a-f]{64}$/);
    assert.notEqual(error.details?.actual, checksum);
    assert.ok(error.message.includes(checksum) && error.message.includes(String(error.details?.actual)));
    assert.ok(error.message.includes(path), error.message);
    assert.equal(called, false, 'no row of an unverified file');
    assert.deepEqual(await readdir(tempDir), []);
  }
});

test('a transient corrupt zip fails the first read, and the second read delivers the rows', async (t) => {
  const sim = await simulator(t, { archive: { faults: [{ kind: 'corrupt', times: 1 }] } });
  const { client } = await archive(t, sim.url);
  assert.equal((await failure(readAll(client, DAY_FILE))).code, 'SF_ARCHIVE_INVALID');
  const { result, rows } = await readAll<KlineRow>(client, DAY_FILE);
  assert.equal(result.found, true);
  assert.equal(rows.length, 1440);
});

test('a download cut short of its Content-Length fails with the retry code, then reads when transient', async (t) => {
  const sim = await simulator(t, { archive: { faults: [{ kind: 'truncate', times: 1, bytes: 500 }] } });
  const { client, tempDir } = await archive(t, sim.url);
  const error = await failure(readAll(client, DAY_FILE));
  assert.equal(error.code, 'SF_ARCHIVE_INVALID');
  assert.equal(error.disposition, 'retry');
  assert.equal(error.details?.bytes, 500);
  assert.ok(Number(error.details?.expectedBytes) > 500);
  assert.deepEqual(await readdir(tempDir), []);
  assert.equal((await readAll<KlineRow>(client, DAY_FILE)).rows.length, 1440);
});

test('a slow link still delivers the whole file', async (t) => {
  const sim = await simulator(t, { archive: { faults: [{ kind: 'slow', bytes: 200_000 }] } });
  const { client } = await archive(t, sim.url);
  const { rows } = await readAll<KlineRow>(client, DAY_FILE);
  assert.equal(rows.length, 1440);
  assert.equal(sim.stats().archive.faults.slow, 2, 'the zip and its CHECKSUM');
});

test('a missing, unpublished or never existing file is found: false, for the caller to use REST', async (t) => {
  const sim = await simulator(t, {
    archive: { lagMs: 2 * HOUR, faults: [{ kind: 'missing', paths: [archiveZipPath(DAY_FILE)] }] },
  });
  const { client, tempDir } = await archive(t, sim.url);
  const none = (file: ArchiveFileRef) => client.read(file, () => assert.fail('no rows'));
  assert.deepEqual(await none(DAY_FILE), { found: false, path: archiveZipPath(DAY_FILE) });
  assert.equal((await none(klines('spot', 'daily', '1m', Date.UTC(2025, 2, 9)))).found, false, 'within the lag');
  assert.equal((await none(klines('spot', 'monthly', '1m', Date.UTC(2025, 2, 1)))).found, false, 'month not over');
  assert.equal((await none(klines('spot', 'daily', '1m', Date.UTC(2017, 7, 16)))).found, false, 'before listing');
  assert.equal((await none(klines('spot', 'daily', '1m', DAY_FILE.start, 'ETHUSDT'))).found, false, 'not listed');
  assert.equal((await readAll(client, klines('spot', 'daily', '1m', Date.UTC(2025, 2, 8)))).result.found, true);
  assert.deepEqual(await readdir(tempDir), []);
});

test('a file reference that names no archive file is refused before any download', async (t) => {
  const sim = await simulator(t);
  const { client } = await archive(t, sim.url);
  await assert.rejects(
    client.read({ ...DAY_FILE, start: DAY_FILE.start + 1 }, () => {}),
    (error: StreamForgeError) =>
      error.code === 'SF_CONTRACT_INVALID' && /first millisecond of a day/.test(error.message),
  );
  await assert.rejects(
    client.read(klines('spot', 'daily', '1w', DAY_FILE.start), () => {}),
    (error: StreamForgeError) => error.code === 'SF_CONTRACT_INVALID' && /monthly files only/.test(error.message),
  );
});

/** A stand-in for the archive site serving given zips (with their correct CHECKSUMs), for files the simulator cannot produce. */
async function standin(t: TestContext, files: Record<string, Uint8Array>): Promise<string> {
  const server = createServer((req, res) => {
    const path = req.url!.slice(1);
    const zip = files[path.replace(/\.CHECKSUM$/, '')];
    if (zip === undefined) return res.writeHead(404).end();
    if (!path.endsWith('.CHECKSUM')) return res.writeHead(200, { 'Content-Length': zip.length }).end(zip);
    const hash = createHash('sha256').update(zip).digest('hex');
    res.writeHead(200).end(
      `${hash}  ${path
        .split('/')
        .at(-1)!
        .replace(/\.CHECKSUM$/, '')}\n`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

test('a verified file with a malformed line fails with the dead-letter code naming the file and line', async (t) => {
  const good = '1677974400000,1,2,0.5,1.5,10,1677974459999,15,3,4,6,0';
  const bad = '1677974520000,1,2,0.5,oops,10,1677974579999,15,3,4,6,0';
  const path = archiveZipPath(DAY_FILE);
  const csv = (text: string): Uint8Array => zipSync({ 'BTCUSDT-1m-2023-03-05.csv': new TextEncoder().encode(text) });
  const url = await standin(t, {
    [path]: csv(
      `${good}\n${good.replace('1677974400000', '1677974460000').replace('1677974459999', '1677974519999')}\n${bad}\n`,
    ),
    [archiveZipPath({ ...DAY_FILE, start: DAY_FILE.start + DAY })]: new TextEncoder().encode('not a zip at all'),
    [archiveZipPath({ ...DAY_FILE, start: DAY_FILE.start + 2 * DAY })]: zipSync({
      'other.csv': new TextEncoder().encode(`${good}\n`),
    }),
  });
  const { client, tempDir } = await archive(t, url, { batchSize: 1 });
  const delivered: unknown[] = [];
  const error = await failure(client.read(DAY_FILE, (rows) => delivered.push(...rows)));
  assert.equal(error.code, 'SF_ARCHIVE_MALFORMED');
  assert.equal(error.disposition, 'dead-letter');
  assert.equal(error.details?.line, 3);
  assert.match(error.message, /BTCUSDT-1m-2023-03-05\.zip: line 3: field 5: "oops" is not a decimal/);
  assert.equal(delivered.length, 2, 'the rows before it were delivered; the caller dead-letters the file');
  for (const days of [1, 2]) {
    const broken = await failure(client.read({ ...DAY_FILE, start: DAY_FILE.start + days * DAY }, () => {}));
    assert.equal(broken.code, 'SF_ARCHIVE_MALFORMED', broken.message);
  }
  assert.deepEqual(await readdir(tempDir), []);
});

test('a trades file with a malformed line fails with the dead-letter code naming the file and line', async (t) => {
  const file = rawTrades('usdm', Date.UTC(2024, 2, 5));
  const t0 = file.start + 1000;
  const lines = [
    'id,price,qty,quote_qty,time,is_buyer_maker',
    `7,100.5,0.2,20.1,${t0},true`,
    `8,100.5,0.1,10.05,${t0},false`,
    `9,100.5,0.1,ten,${t0},false`,
  ];
  const url = await standin(t, {
    [archiveZipPath(file)]: zipSync({
      'BTCUSDT-trades-2024-03-05.csv': new TextEncoder().encode(`${lines.join('\n')}\n`),
    }),
  });
  const { client } = await archive(t, url);
  const delivered: unknown[] = [];
  const error = await failure(client.read(file, (rows) => delivered.push(...rows)));
  assert.equal(error.code, 'SF_ARCHIVE_MALFORMED');
  assert.equal(error.disposition, 'dead-letter');
  assert.equal(error.details?.line, 4, 'lines are counted from the header row');
  assert.match(error.message, /BTCUSDT-trades-2024-03-05\.zip: line 4: quote_qty: "ten" is not a decimal/);
});

test('read from a time, a file skips the lines before it unchecked and still checks every line after', async (t) => {
  // A slice of a large file reads it from the start: it parses only its own lines.
  const file = rawTrades('spot', Date.UTC(2025, 2, 5));
  const µs = (ms: number): number => ms * 1000; // spot files of 2025 write microseconds
  const t0 = file.start + 1000;
  const lines = [
    `7,100.5,0.2,ten,${µs(t0)},True,True`, // malformed, but before the time read from
    `8,100.5,0.1,10.05,${µs(t0 + 1)},False,True`,
    `9,100.5,0.1,10.05,${µs(t0 + 2)},False,True`,
    `10,100.5,0.1,ten,${µs(t0 + 3)},False,True`,
  ];
  const url = await standin(t, {
    [archiveZipPath(file)]: zipSync({
      'BTCUSDT-trades-2025-03-05.csv': new TextEncoder().encode(`${lines.join('\n')}\n`),
    }),
  });
  const { client } = await archive(t, url, { batchSize: 1 });
  const download = await client.download(file);
  assert.ok(download.found);
  t.after(() => download.discard());
  const delivered: RawTrade[] = [];
  const error = await failure(download.rows((rows) => delivered.push(...(rows as RawTrade[])), { from: t0 + 1 }));
  assert.deepEqual(
    delivered.map((r) => [r.id, r.time]),
    [
      [8, t0 + 1],
      [9, t0 + 2],
    ],
  );
  assert.equal(error.code, 'SF_ARCHIVE_MALFORMED');
  assert.match(error.message, /line 4: quote_qty: "ten" is not a decimal/, 'a line from the time on is still checked');
  const whole = await failure(download.rows(() => {}));
  assert.match(whole.message, /line 1: quote_qty: "ten" is not a decimal/, 'read whole, the first line fails');
});

test('read from a time, a file in the wrong unit is still refused, not skipped as early rows', async (t) => {
  // Milliseconds in a spot file of 2025, read as microseconds, fall in January 1970.
  const file = rawTrades('spot', Date.UTC(2025, 2, 5));
  const url = await standin(t, {
    [archiveZipPath(file)]: zipSync({
      'BTCUSDT-trades-2025-03-05.csv': new TextEncoder().encode(`8,100.5,0.1,10.05,${file.start + 1000},False,True\n`),
    }),
  });
  const { client } = await archive(t, url);
  const download = await client.download(file);
  assert.ok(download.found);
  t.after(() => download.discard());
  const error = await failure(download.rows(() => {}, { from: file.start + 2000 }));
  assert.equal(error.code, 'SF_ARCHIVE_MALFORMED');
  assert.match(error.message, /line 1: time: 1970-01-21T\S+ is outside the file's period \(times in µs\)/);
});

test('a zip whose entry inflates to another size than its directory says is malformed; what the reader of rows throws passes unchanged', async (t) => {
  const good = '1677974400000,1,2,0.5,1.5,10,1677974459999,15,3,4,6,0\n';
  const zip = zipSync({ 'BTCUSDT-1m-2023-03-05.csv': new TextEncoder().encode(good) });
  // The central directory's uncompressed size (offset 24 of its entry) claims one byte more than the data holds.
  const lying = zip.slice();
  const directory = Buffer.from(lying.buffer).lastIndexOf(Buffer.from([0x50, 0x4b, 1, 2]));
  new DataView(lying.buffer).setUint32(directory + 24, good.length + 1, true);
  const nextDay = { ...DAY_FILE, start: DAY_FILE.start + DAY };
  const nextZip = zipSync({
    'BTCUSDT-1m-2023-03-06.csv': new TextEncoder().encode('1678060800000,1,2,0.5,1.5,10,1678060859999,15,3,4,6,0\n'),
  });
  const url = await standin(t, { [archiveZipPath(DAY_FILE)]: lying, [archiveZipPath(nextDay)]: nextZip });
  const { client, tempDir } = await archive(t, url);
  const short = await failure(client.read(DAY_FILE, () => {}));
  assert.equal(short.code, 'SF_ARCHIVE_MALFORMED');
  assert.match(short.message, /BTCUSDT-1m-2023-03-05\.zip: does not inflate/);
  // A send that fails while rows are handed over is the caller's failure (to retry), not the file's.
  const sendFailed = new Error('the broker is away');
  await assert.rejects(
    client.read(nextDay, () => {
      throw sendFailed;
    }),
    (error) => error === sendFailed,
  );
  assert.deepEqual(await readdir(tempDir), []);
});

test('a download waiting on the disk many times leaves no listener behind', async (t) => {
  const sim = await simulator(t);
  const { client } = await archive(t, sim.url);
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(`${warning.name}: ${warning.message}`);
  };
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  // A month of 1m candles is a zip of about 2 MB: dozens of chunks, each more than the file stream buffers.
  const download = await client.download(klines('spot', 'monthly', '1m', Date.UTC(2024, 0, 1)));
  assert.equal(download.found, true);
  if (download.found) await download.discard();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')),
    [],
  );
});

test('reading a monthly 1m file keeps memory bounded: a batch at a time, never the whole CSV', async (t) => {
  const sim = await simulator(t);
  const { client } = await archive(t, sim.url);
  const file = klines('spot', 'monthly', '1m', Date.UTC(2024, 0, 1));
  // A first download makes the simulator build and cache the zip (its memory, not the client's).
  const zipBytes = (await (await fetch(`${sim.url}/${archiveZipPath(file)}`)).arrayBuffer()).byteLength;
  // A full collection before measuring the live heap: garbage would hide whether rows are retained.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const before = process.memoryUsage();
  let peakRss = before.rss;
  const live: number[] = [];
  let rows = 0;
  let csvBytes = 0;
  const result = await client.read(file, (batch) => {
    rows += batch.length;
    for (const row of batch) csvBytes += row.join(',').length + 1;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (rows % 10_000 === 0) {
      gc();
      live.push(process.memoryUsage().heapUsed - before.heapUsed);
    }
  });
  assert.equal(result.found, true);
  assert.equal(rows, 31 * 1440);
  const mib = (n: number): number => Math.round((n / 2 ** 20) * 10) / 10;
  const figures = {
    zip_mib: mib(zipBytes),
    csv_mib: mib(csvBytes),
    rss_peak_delta_mib: mib(peakRss - before.rss),
    live_heap_delta_mib: live.map(mib),
  };
  t.diagnostic(JSON.stringify(figures));
  // Holding the month's rows would add about half a MiB of live heap per 1000 rows read; a bounded reader adds none.
  assert.equal(live.length, 4);
  assert.ok(live.at(-1)! - live[0]! < 2 * 2 ** 20, JSON.stringify(figures));
});
