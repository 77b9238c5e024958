import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import type { AggTrade, KlineRow, Market, RawTrade } from '@streamforge/core/contracts';
import {
  FUTURES_AGG_TRADE_HEADER,
  FUTURES_KLINE_HEADER,
  FUTURES_TRADE_HEADER,
  MALFORMED_FIELD,
  archivePath,
  parseArchivePath,
  simulatorOptionsFromEnv,
  type ArchiveFile,
  type ExchangeSimulator,
} from '../src/index.ts';
import { startArchiveSimulator } from '@streamforge/testing';

const DAY = 86_400_000;
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/binance/klines/', import.meta.url));

const simulator = startArchiveSimulator;

interface Download {
  status: number;
  bytes: Uint8Array;
  text: string;
}

async function get(sim: ExchangeSimulator, path: string): Promise<Download> {
  const response = await fetch(`${sim.url}/${path.replace(/^\//, '')}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { status: response.status, bytes, text: Buffer.from(bytes).toString('utf8') };
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Downloads a zip and its CHECKSUM, checks the hash, and returns the CSV's lines. */
async function downloadCsv(sim: ExchangeSimulator, file: ArchiveFile): Promise<{ name: string; lines: string[] }> {
  const path = archivePath(file);
  const zip = await get(sim, path);
  assert.equal(zip.status, 200, `${path}: ${zip.text.slice(0, 200)}`);
  const checksum = await get(sim, `${path}.CHECKSUM`);
  assert.equal(checksum.status, 200);
  const zipName = path.split('/').at(-1)!;
  assert.equal(checksum.text, `${sha256(zip.bytes)}  ${zipName}\n`, 'the CHECKSUM file is what sha256sum writes');
  const entries = Object.entries(unzipSync(zip.bytes));
  assert.equal(entries.length, 1, 'one CSV per zip');
  const [name, content] = entries[0]!;
  assert.equal(name, zipName.replace(/\.zip$/, '.csv'));
  const lines = Buffer.from(content).toString('utf8').split('\n');
  assert.equal(lines.pop(), '', 'the file ends with a newline');
  return { name, lines };
}

/** A kline CSV row as the REST row, times given in the unit the file uses. */
function klineOf(line: string, timeUnit: number): KlineRow {
  const c = line.split(',');
  assert.equal(c.length, 12);
  return [
    Number(c[0]) / timeUnit,
    c[1]!,
    c[2]!,
    c[3]!,
    c[4]!,
    c[5]!,
    Number(c[6]) / timeUnit,
    c[7]!,
    Number(c[8]),
    c[9]!,
    c[10]!,
    c[11]!,
  ];
}

function aggTradeOf(line: string, market: Market, timeUnit: number): AggTrade {
  const c = line.split(',');
  assert.equal(c.length, market === 'spot' ? 8 : 7);
  const bool = (cell: string): boolean => {
    assert.ok(market === 'spot' ? ['True', 'False'].includes(cell) : ['true', 'false'].includes(cell), cell);
    return cell.toLowerCase() === 'true';
  };
  const trade: AggTrade = {
    a: Number(c[0]),
    p: c[1]!,
    q: c[2]!,
    f: Number(c[3]),
    l: Number(c[4]),
    T: Number(c[5]) / timeUnit,
    m: bool(c[6]!),
  };
  if (market === 'spot') trade.M = bool(c[7]!);
  return trade;
}

const REST: Record<Market, string> = { spot: '/api/v3', usdm: '/fapi/v1', coinm: '/dapi/v1' };

async function restJson<T>(sim: ExchangeSimulator, path: string): Promise<T> {
  const response = await get(sim, path);
  assert.equal(response.status, 200, response.text);
  return JSON.parse(response.text) as T;
}

/** Every REST kline of [start, end), walking forward with startTime. */
async function restKlines(
  sim: ExchangeSimulator,
  market: Market,
  symbol: string,
  interval: string,
  start: number,
  end: number,
) {
  const rows: KlineRow[] = [];
  for (let from = start; ; ) {
    const page = await restJson<KlineRow[]>(
      sim,
      `${REST[market]}/klines?symbol=${symbol}&interval=${interval}&startTime=${from}&endTime=${end - 1}&limit=1000`,
    );
    rows.push(...page);
    if (page.length < 1000) return rows;
    from = page.at(-1)![0] + 1;
  }
}

/** Every REST aggregate trade of [start, end): the first by time (an hour's span, USD-M's limit), then by fromId. */
async function restAggTrades(sim: ExchangeSimulator, market: Market, symbol: string, start: number, end: number) {
  const base = `${REST[market]}/aggTrades?symbol=${symbol}`;
  const first = await restJson<AggTrade[]>(sim, `${base}&startTime=${start}&endTime=${start + 3_599_999}&limit=1`);
  const trades: AggTrade[] = [];
  for (let fromId = first[0]!.a; ; ) {
    const page = (await restJson<AggTrade[]>(sim, `${base}&fromId=${fromId}&limit=1000`)).filter((t) => t.T < end);
    trades.push(...page);
    if (page.length < 1000) return trades;
    fromId = page.at(-1)!.a + 1;
  }
}

test('a spot daily kline zip holds a headerless CSV with the rows the REST klines answer, CHECKSUM verified', async (t) => {
  const sim = await simulator(t);
  const start = Date.UTC(2023, 2, 5);
  const file: ArchiveFile = {
    market: 'spot',
    period: 'daily',
    kind: 'klines',
    symbol: 'BTCUSDT',
    interval: '1m',
    start,
  };
  assert.equal(archivePath(file), 'data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2023-03-05.zip');
  const { lines } = await downloadCsv(sim, file);
  assert.match(lines[0]!, /^\d/, 'spot files have no header row');
  assert.equal(lines.length, 1440);
  assert.deepEqual(
    lines.map((l) => klineOf(l, 1)),
    await restKlines(sim, 'spot', 'BTCUSDT', '1m', start, start + DAY),
  );
});

test('a USD-M monthly kline zip starts with the header row and matches the REST klines of the month', async (t) => {
  const sim = await simulator(t);
  const start = Date.UTC(2023, 2, 1);
  const file: ArchiveFile = {
    market: 'usdm',
    period: 'monthly',
    kind: 'klines',
    symbol: 'BTCUSDT',
    interval: '1h',
    start,
  };
  assert.equal(archivePath(file), 'data/futures/um/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2023-03.zip');
  const { lines } = await downloadCsv(sim, file);
  assert.equal(lines.shift(), FUTURES_KLINE_HEADER);
  assert.equal(lines.length, 31 * 24);
  const rest = await restKlines(sim, 'usdm', 'BTCUSDT', '1h', start, Date.UTC(2023, 3, 1));
  assert.deepEqual(
    lines.map((l) => klineOf(l, 1)),
    rest,
  );
});

test("the month interval is named 1mo in archive paths, and a monthly 1mo file holds that month's candle", async (t) => {
  const sim = await simulator(t);
  const path = 'data/spot/monthly/klines/BTCUSDT/1mo/BTCUSDT-1mo-2024-06.zip';
  const parsed = parseArchivePath(path);
  assert.equal(parsed?.file.interval, '1M');
  const { lines } = await downloadCsv(sim, parsed!.file);
  const start = Date.UTC(2024, 5, 1);
  assert.deepEqual(
    lines.map((l) => klineOf(l, 1)),
    await restKlines(sim, 'spot', 'BTCUSDT', '1M', start, Date.UTC(2024, 6, 1)),
  );
  assert.equal((await get(sim, 'data/spot/monthly/klines/BTCUSDT/1M/BTCUSDT-1M-2024-06.zip')).status, 404);
  assert.equal((await get(sim, 'data/futures/um/daily/klines/BTCUSDT/1s/BTCUSDT-1s-2024-06-01.zip')).status, 404);
});

test('spot files from 2025 on write times in microseconds, ms × 1000 of the REST answer; USD-M stays in ms', async (t) => {
  const sim = await simulator(t);
  const start = Date.UTC(2025, 2, 5);
  const spot = await downloadCsv(sim, {
    market: 'spot',
    period: 'daily',
    kind: 'klines',
    symbol: 'BTCUSDT',
    interval: '1m',
    start,
  });
  const rest = await restKlines(sim, 'spot', 'BTCUSDT', '1m', start, start + DAY);
  assert.equal(spot.lines[0]!.split(',')[0], `${rest[0]![0]}000`);
  assert.equal(spot.lines[0]!.split(',')[6], `${rest[0]![6]}000`);
  assert.deepEqual(
    spot.lines.map((l) => klineOf(l, 1000)),
    rest,
  );
  const trades = await downloadCsv(sim, {
    market: 'spot',
    period: 'daily',
    kind: 'aggTrades',
    symbol: 'BTCUSDT',
    start,
  });
  const restTrades = await restAggTrades(sim, 'spot', 'BTCUSDT', start, start + DAY);
  assert.equal(trades.lines[0]!.split(',')[5], `${restTrades[0]!.T}000`);
  assert.deepEqual(
    trades.lines.map((l) => aggTradeOf(l, 'spot', 1000)),
    restTrades,
  );
  const usdm = await downloadCsv(sim, {
    market: 'usdm',
    period: 'daily',
    kind: 'klines',
    symbol: 'BTCUSDT',
    interval: '1m',
    start,
  });
  assert.equal(usdm.lines[1]!.split(',')[0], String(start), 'USD-M times stay in milliseconds');
});

test('aggTrades zips of both markets match the REST aggTrades row for row, daily and monthly', async (t) => {
  const sim = await simulator(t);
  const day = Date.UTC(2023, 2, 5);
  const spot = await downloadCsv(sim, {
    market: 'spot',
    period: 'daily',
    kind: 'aggTrades',
    symbol: 'BTCUSDT',
    start: day,
  });
  assert.equal(spot.name, 'BTCUSDT-aggTrades-2023-03-05.csv');
  assert.match(
    spot.lines[0]!,
    /^\d+,[\d.]+,[\d.]+,\d+,\d+,\d{13},(True|False),True$/,
    'spot: no header, Python booleans',
  );
  assert.deepEqual(
    spot.lines.map((l) => aggTradeOf(l, 'spot', 1)),
    await restAggTrades(sim, 'spot', 'BTCUSDT', day, day + DAY),
  );
  const month = Date.UTC(2023, 1, 1);
  const usdm = await downloadCsv(sim, {
    market: 'usdm',
    period: 'monthly',
    kind: 'aggTrades',
    symbol: 'BTCUSDT',
    start: month,
  });
  assert.equal(usdm.name, 'BTCUSDT-aggTrades-2023-02.csv');
  assert.equal(usdm.lines.shift(), FUTURES_AGG_TRADE_HEADER);
  const rest = await restAggTrades(sim, 'usdm', 'BTCUSDT', month, Date.UTC(2023, 2, 1));
  assert.ok(rest.length > 28 * 1400);
  assert.deepEqual(
    usdm.lines.map((l) => aggTradeOf(l, 'usdm', 1)),
    rest,
  );
});

/** A trades CSV line as the historicalTrades row: spot has isBestMatch and Python booleans, times in the file's unit. */
function tradeOf(line: string, market: Market, timeUnit: number): RawTrade {
  const c = line.split(',');
  assert.equal(c.length, market === 'spot' ? 7 : 6);
  const bool = (cell: string): boolean => {
    assert.ok(market === 'spot' ? ['True', 'False'].includes(cell) : ['true', 'false'].includes(cell), cell);
    return cell.toLowerCase() === 'true';
  };
  const trade: RawTrade = {
    id: Number(c[0]),
    price: c[1]!,
    qty: c[2]!,
    quoteQty: c[3]!,
    time: Number(c[4]) / timeUnit,
    isBuyerMaker: bool(c[5]!),
  };
  if (market === 'spot') trade.isBestMatch = bool(c[6]!);
  return trade;
}

/** Every REST raw trade of [start, end): the first id from the aggregate trade at the start, then historicalTrades by id. */
async function restRawTrades(sim: ExchangeSimulator, market: Market, symbol: string, start: number, end: number) {
  const [first] = await restAggTrades(sim, market, symbol, start, start + 3_600_000);
  const trades: RawTrade[] = [];
  for (let fromId = first!.f; ; ) {
    const page = await restJson<RawTrade[]>(
      sim,
      `${REST[market]}/historicalTrades?symbol=${symbol}&fromId=${fromId}&limit=${market === 'spot' ? 1000 : 500}`,
    );
    trades.push(...page.filter((t) => t.time < end));
    if (page.length === 0 || page.at(-1)!.time >= end) return trades;
    fromId = page.at(-1)!.id + 1;
  }
}

test('trades zips match the REST historicalTrades row for row: spot in µs from 2025 without header, USD-M with one', async (t) => {
  const sim = await simulator(t);
  for (const [market, day, unit] of [
    ['spot', Date.UTC(2025, 2, 5), 1000],
    ['spot', Date.UTC(2024, 2, 5), 1],
    ['usdm', Date.UTC(2025, 2, 5), 1],
  ] as const) {
    const file: ArchiveFile = { market, period: 'daily', kind: 'trades', symbol: 'BTCUSDT', start: day };
    const { name, lines } = await downloadCsv(sim, file);
    assert.equal(name, `BTCUSDT-trades-${new Date(day).toISOString().slice(0, 10)}.csv`);
    if (market === 'usdm') assert.equal(lines.shift(), FUTURES_TRADE_HEADER);
    else
      assert.match(
        lines[0]!,
        new RegExp(`^\\d+,[\\d.]+,[\\d.]+,[\\d.]+,\\d{${unit === 1000 ? 16 : 13}},(True|False),True$`),
      );
    const rest = await restRawTrades(sim, market, 'BTCUSDT', day, day + DAY);
    assert.ok(rest.length > 1400, `${name}: ${rest.length}`);
    assert.deepEqual(
      lines.map((l) => tradeOf(l, market, unit)),
      rest,
      name,
    );
  }
  const folder = 'data/futures/um/daily/trades/BTCUSDT/';
  const listing = await get(sim, `/?prefix=${folder}&delimiter=/&marker=${folder}BTCUSDT-trades-2025-03-07`);
  assert.match(listing.text, /<Key>data\/futures\/um\/daily\/trades\/BTCUSDT\/BTCUSDT-trades-2025-03-08\.zip<\/Key>/);
});

test('a malformed file garbles its second line under a CHECKSUM that matches it; the good file is served otherwise', async (t) => {
  const path = 'data/futures/um/daily/trades/BTCUSDT/BTCUSDT-trades-2025-03-05.zip';
  const sim = await simulator(t, { archive: { faults: [{ kind: 'malformed', paths: [`*${path}`], times: 1 }] } });
  const file = parseArchivePath(path)!.file;
  const bad = await downloadCsv(sim, file); // the first request of the zip and of its CHECKSUM
  assert.equal(bad.lines[0], FUTURES_TRADE_HEADER);
  assert.equal(bad.lines[1]!.split(',')[1], MALFORMED_FIELD);
  const good = await downloadCsv(sim, file);
  assert.deepEqual(good.lines.slice(2), bad.lines.slice(2));
  assert.notEqual(good.lines[1]!.split(',')[1], MALFORMED_FIELD);
  assert.equal(sim.stats().archive.faults.malformed, 2);
  assert.deepEqual(simulatorOptionsFromEnv({ SIM_ARCHIVE_MALFORMED: '*trades*' }).archive?.faults, [
    { kind: 'malformed', paths: ['*trades*'] },
  ]);
});

test('a file is published after its day or month plus the lag, and only where the market data has rows', async (t) => {
  const sim = await simulator(t, { archive: { lagMs: 2 * 3_600_000 } });
  const daily = (symbol: string, date: string, market = 'spot'): string =>
    `data/${market === 'spot' ? 'spot' : 'futures/um'}/daily/klines/${symbol}/1h/${symbol}-1h-${date}.zip`;
  const notFound = await get(sim, daily('BTCUSDT', '2025-03-09'));
  assert.equal(notFound.status, 404, 'the day ended an hour ago, the lag is two');
  assert.match(
    notFound.text,
    /<Error><Code>NoSuchKey<\/Code>.*<Key>data\/spot\/daily\/klines\/BTCUSDT\/1h\/BTCUSDT-1h-2025-03-09\.zip<\/Key>/s,
  );
  assert.equal((await get(sim, `${daily('BTCUSDT', '2025-03-09')}.CHECKSUM`)).status, 404);
  assert.equal((await get(sim, daily('BTCUSDT', '2025-03-08'))).status, 200);
  assert.equal(
    (await get(sim, 'data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2025-03.zip')).status,
    404,
    'month not over',
  );
  assert.equal((await get(sim, 'data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2025-02.zip')).status, 200);
  sim.setArchive({ lagMs: 0 });
  assert.equal((await get(sim, daily('BTCUSDT', '2025-03-09'))).status, 200, 'published once the lag is over');
  assert.equal((await get(sim, daily('BTCUSDT', '2025-03-10'))).status, 404, 'today is never published');
  assert.equal((await get(sim, daily('BTCUSDT', '2017-08-16'))).status, 404, 'before the listing');
  assert.equal((await get(sim, daily('BTCUSDT', '2017-08-17'))).status, 200, 'the listing day');
  assert.equal((await get(sim, daily('BTCUSDT', '2019-09-07', 'usdm'))).status, 404, 'before USD-M existed');
  assert.equal((await get(sim, daily('ETHUSDT', '2023-03-05'))).status, 404, 'a symbol not listed');
  assert.equal((await get(sim, 'data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2023-02-30.zip')).status, 404);
  assert.equal(sim.stats().archive.notFound, 8);
});

test('with CSV klines, the archive serves the CSV rows and nothing outside them', async (t) => {
  const sim = await simulator(t, { klinesDir: FIXTURES });
  const start = Date.UTC(2022, 8, 7);
  const file: ArchiveFile = {
    market: 'spot',
    period: 'daily',
    kind: 'klines',
    symbol: 'BTCUSDT',
    interval: '1h',
    start,
  };
  const { lines } = await downloadCsv(sim, file);
  assert.equal(lines.length, 24);
  assert.deepEqual(
    lines.map((l) => klineOf(l, 1)),
    await restKlines(sim, 'spot', 'BTCUSDT', '1h', start, start + DAY),
  );
  assert.equal(lines[0]!.split(',')[1], '18790.61000000', 'cells as the source file wrote them');
  assert.equal((await get(sim, 'data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2022-09-06.zip')).status, 404);
});

/** The S3 listing's keys (with sizes and ETags) and common prefixes. */
function parseListing(xml: string) {
  assert.match(
    xml,
    /^<\?xml version="1.0" encoding="UTF-8"\?>\n<ListBucketResult xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/">/,
  );
  assert.match(xml, /<\/ListBucketResult>$/);
  const contents = [
    ...xml.matchAll(
      /<Contents><Key>([^<]+)<\/Key><LastModified>([^<]+)<\/LastModified><ETag>&quot;([0-9a-f]{32})&quot;<\/ETag><Size>(\d+)<\/Size><StorageClass>STANDARD<\/StorageClass><\/Contents>/g,
    ),
  ].map((m) => ({ key: m[1]!, lastModified: m[2]!, etag: m[3]!, size: Number(m[4]) }));
  const prefixes = [...xml.matchAll(/<CommonPrefixes><Prefix>([^<]+)<\/Prefix><\/CommonPrefixes>/g)].map((m) => m[1]!);
  const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
  const nextMarker = /<NextMarker>([^<]+)<\/NextMarker>/.exec(xml)?.[1];
  return { contents, prefixes, truncated, nextMarker };
}

test('the bucket listing names exactly the published files, with their sizes and MD5 ETags', async (t) => {
  const sim = await simulator(t);
  const folder = 'data/spot/daily/klines/NEWUSDT/1m/';
  const listing = await get(sim, `/?prefix=${folder}&delimiter=/`);
  assert.equal(listing.status, 200);
  const { contents, prefixes, truncated } = parseListing(listing.text);
  assert.equal(truncated, false);
  assert.deepEqual(prefixes, []);
  const days = ['03', '04', '05', '06', '07', '08', '09'].map((d) => `${folder}NEWUSDT-1m-2025-03-${d}.zip`);
  assert.deepEqual(
    contents.map((c) => c.key),
    days.flatMap((k) => [k, `${k}.CHECKSUM`]),
    'from the listing day to yesterday, each zip then its CHECKSUM',
  );
  for (const entry of contents) {
    const body = await get(sim, entry.key);
    assert.equal(body.bytes.length, entry.size, entry.key);
    assert.equal(createHash('md5').update(body.bytes).digest('hex'), entry.etag, entry.key);
  }
  assert.equal(contents[0]!.lastModified, '2025-03-04T00:00:00.000Z');

  const monthly = parseListing((await get(sim, '/?prefix=data/spot/monthly/klines/NEWUSDT/1m/&delimiter=/')).text);
  assert.deepEqual(monthly.contents, [], 'no month of NEWUSDT is over');
  const intervals = parseListing((await get(sim, '/?prefix=data/futures/um/daily/klines/NEWUSDT/&delimiter=/')).text);
  assert.ok(intervals.prefixes.includes('data/futures/um/daily/klines/NEWUSDT/1m/'));
  assert.ok(!intervals.prefixes.includes('data/futures/um/daily/klines/NEWUSDT/1s/'), 'USD-M has no 1s');
  assert.ok(!intervals.prefixes.includes('data/futures/um/daily/klines/NEWUSDT/1w/'), 'no daily 1w files');
  assert.deepEqual(parseListing((await get(sim, '/?prefix=data/&delimiter=/')).text).prefixes, [
    'data/futures/',
    'data/spot/',
  ]);
  const trades = parseListing(
    (await get(sim, '/?prefix=data/spot/daily/aggTrades/NEWUSDT/NEWUSDT-aggTrades-2025-03-0&delimiter=/')).text,
  );
  assert.equal(trades.contents.length, 14, 'a prefix inside a file name filters keys');

  // Pages of an even and an odd size (a page may then end between a zip and its CHECKSUM).
  for (const maxKeys of [4, 3]) {
    const paged: string[] = [];
    let marker = '';
    for (let pages = 0; pages < 20; pages++) {
      const page = parseListing(
        (await get(sim, `/?prefix=${folder}&delimiter=/&max-keys=${maxKeys}&marker=${marker}`)).text,
      );
      paged.push(...page.contents.map((c) => c.key));
      if (!page.truncated) break;
      marker = page.nextMarker!;
    }
    assert.deepEqual(
      paged,
      contents.map((c) => c.key),
      `marker/max-keys=${maxKeys} pages add up to the whole listing`,
    );
  }
});

test('a listing of a long series names the files of its prefix and marker, not the first ones of the series', async (t) => {
  const sim = await simulator(t);
  // BTCUSDT has daily files since 2017: the prefix names days of March 2025 only.
  const folder = 'data/spot/daily/klines/BTCUSDT/1h/';
  const days = parseListing((await get(sim, `/?prefix=${folder}BTCUSDT-1h-2025-03-0&delimiter=/&max-keys=6`)).text);
  assert.deepEqual(
    days.contents.map((c) => c.key),
    ['01', '02', '03'].flatMap((d) => [
      `${folder}BTCUSDT-1h-2025-03-${d}.zip`,
      `${folder}BTCUSDT-1h-2025-03-${d}.zip.CHECKSUM`,
    ]),
  );
  assert.equal(days.truncated, true);
  const after = parseListing(
    (await get(sim, `/?prefix=${folder}&delimiter=/&max-keys=2&marker=${folder}BTCUSDT-1h-2025-03-08`)).text,
  );
  assert.deepEqual(
    after.contents.map((c) => c.key),
    [`${folder}BTCUSDT-1h-2025-03-08.zip`, `${folder}BTCUSDT-1h-2025-03-08.zip.CHECKSUM`],
  );
  assert.equal(after.truncated, true, 'March 9th follows');
});

const DAY_FILE = 'data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2023-03-05.zip';

async function checksumMatches(sim: ExchangeSimulator, path: string): Promise<boolean> {
  const zip = await get(sim, path);
  const checksum = await get(sim, `${path}.CHECKSUM`);
  return checksum.text.split('  ')[0] === sha256(zip.bytes);
}

test('a transient corrupt zip fails the SHA-256 check once, then the same file verifies', async (t) => {
  const sim = await simulator(t, {
    archive: { faults: [{ kind: 'corrupt', paths: ['*/BTCUSDT-1m-2023-03-*'], times: 1 }] },
  });
  assert.equal(await checksumMatches(sim, DAY_FILE), false);
  assert.equal(await checksumMatches(sim, DAY_FILE), true);
  assert.equal(
    await checksumMatches(sim, DAY_FILE.replace('03-05', '03-06')),
    false,
    'each path counts its own requests',
  );
  assert.equal(await checksumMatches(sim, DAY_FILE.replace('2023-03-05', '2023-04-05')), true, 'other paths untouched');
  assert.equal(sim.stats().archive.faults.corrupt, 2);
});

test('a permanent wrong CHECKSUM never verifies, and the zip itself stays intact', async (t) => {
  const sim = await simulator(t, { archive: { faults: [{ kind: 'badChecksum', paths: [`/${DAY_FILE}`] }] } });
  for (let i = 0; i < 3; i++) assert.equal(await checksumMatches(sim, DAY_FILE), false);
  const zip = await get(sim, DAY_FILE);
  assert.equal(Object.keys(unzipSync(zip.bytes)).length, 1);
  sim.setArchive({ faults: [] });
  assert.equal(await checksumMatches(sim, DAY_FILE), true, 'faults are replaced at run time');
});

test('a truncated download closes the connection short of its Content-Length, then succeeds when transient', async (t) => {
  const sim = await simulator(t, {
    archive: { faults: [{ kind: 'truncate', paths: [DAY_FILE], times: 2, bytes: 500 }] },
  });
  for (let i = 0; i < 2; i++) {
    const response = await fetch(`${sim.url}/${DAY_FILE}`);
    assert.equal(response.status, 200);
    assert.ok(Number(response.headers.get('content-length')) > 500);
    await assert.rejects(response.arrayBuffer(), 'the body ends early');
  }
  assert.equal(await checksumMatches(sim, DAY_FILE), true);
  assert.equal(sim.stats().archive.faults.truncate, 2);
});

test('a slow link still delivers the whole file', async (t) => {
  const sim = await simulator(t, { archive: { faults: [{ kind: 'slow', paths: ['*.CHECKSUM'], bytes: 400 }] } });
  assert.equal(await checksumMatches(sim, DAY_FILE), true);
  assert.equal(sim.stats().archive.faults.slow, 1);
});

test('a published file can be missing (404 NoSuchKey) for its first requests, or for good', async (t) => {
  const other = DAY_FILE.replace('03-05', '03-07');
  const sim = await simulator(t, {
    archive: {
      faults: [
        { kind: 'missing', paths: [DAY_FILE], times: 2 },
        { kind: 'missing', paths: [other] },
      ],
    },
  });
  assert.equal((await get(sim, DAY_FILE)).status, 404);
  assert.equal((await get(sim, DAY_FILE)).status, 404);
  assert.equal((await get(sim, DAY_FILE)).status, 200);
  for (let i = 0; i < 3; i++) assert.equal((await get(sim, other)).status, 404);
  const stats = sim.stats();
  assert.equal(stats.archive.faults.missing, 5);
  assert.equal(stats.archive.requests, 6);
  assert.equal(stats.byStatus['404'], 5, 'archive requests count in the simulator stats');
  assert.ok(stats.recent.some((r) => r.path === `/${DAY_FILE}` && r.weight === 0));
});

test('archive faults and the lag come from SIM_ARCHIVE_* variables', () => {
  const options = simulatorOptionsFromEnv({
    SIM_ARCHIVE_LAG_MS: '3600000',
    SIM_ARCHIVE_CORRUPT: 'data/spot/*@2,data/futures/*',
    SIM_ARCHIVE_TRUNCATE: '*-2023-03-*',
    SIM_ARCHIVE_TRUNCATE_BYTES: '100',
    SIM_ARCHIVE_MISSING: '*aggTrades*',
    SIM_ARCHIVE_FAULT_TIMES: '1',
  });
  assert.deepEqual(options.archive, {
    lagMs: 3_600_000,
    faults: [
      { kind: 'corrupt', paths: ['data/spot/*'], times: 2 },
      { kind: 'corrupt', paths: ['data/futures/*'], times: 1 },
      { kind: 'truncate', paths: ['*-2023-03-*'], times: 1, bytes: 100 },
      { kind: 'missing', paths: ['*aggTrades*'], times: 1 },
    ],
  });
  assert.deepEqual(simulatorOptionsFromEnv({}).archive, { lagMs: 0, faults: [] });
});
