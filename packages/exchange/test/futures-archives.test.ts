import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  ArchivedFundingRate,
  FundingRate,
  Interval,
  KlineRow,
  Market,
  MetricsRow,
} from '@streamforge/core/contracts';
import {
  archivePath as simulatorArchivePath,
  parseArchivePath as simulatorParseArchivePath,
  type ExchangeSimulator,
} from '@streamforge/simulator';
import { startArchiveSimulator } from '@streamforge/testing';
import {
  ArchiveClient,
  archiveFileProblem,
  archiveZipPath,
  type ArchiveFileRef,
  type IntervalArchiveKind,
  type KlineArchiveFile,
} from '../src/archive.ts';
import { ArchiveLineError, ArchiveLineParser } from '../src/archive-rows.ts';
import { BinanceRestClient, type PriceKlineSeries } from '../src/index.ts';

const DAY = 86_400_000;

async function clients(
  t: TestContext,
  sim: ExchangeSimulator,
): Promise<{ archive: ArchiveClient; rest: BinanceRestClient }> {
  const tempDir = await mkdtemp(join(tmpdir(), 'futures-archives-test-'));
  const archive = new ArchiveClient({ baseUrl: sim.url, tempDir });
  const rest = new BinanceRestClient({
    baseUrls: { spot: sim.url, usdm: sim.url, coinm: sim.url },
    backoff: { baseMs: 1, maxMs: 5 },
  });
  t.after(async () => {
    await archive.close();
    await rest.close();
    await rm(tempDir, { recursive: true, force: true });
  });
  return { archive, rest };
}

async function readAll<R>(client: ArchiveClient, file: ArchiveFileRef): Promise<{ found: boolean; rows: R[] }> {
  const rows: R[] = [];
  const result = await client.read(file, (batch: unknown[]) => {
    rows.push(...(batch as R[]));
  });
  return { found: result.found, rows };
}

const priceFile = (
  kind: IntervalArchiveKind,
  market: Market,
  period: 'daily' | 'monthly',
  interval: Interval,
  start: number,
  symbol = 'BTCUSDT',
): KlineArchiveFile => ({ market, period, kind, symbol, interval, start });

async function restPriceKlines(
  rest: BinanceRestClient,
  series: PriceKlineSeries,
  market: Market,
  symbol: string,
  interval: Interval,
  start: number,
  end: number,
): Promise<KlineRow[]> {
  const rows: KlineRow[] = [];
  for (let startTime = start; ; ) {
    const page = await rest.priceKlines(series, { market, symbol, interval, startTime, endTime: end - 1, limit: 1500 });
    rows.push(...page);
    if (page.length < 1500) return rows;
    startTime = page.at(-1)![0] + 1;
  }
}

test("futures series' archive paths are the simulator's; spot and impossible periods have none", () => {
  const files: ArchiveFileRef[] = [
    priceFile('markPriceKlines', 'usdm', 'monthly', '1m', Date.UTC(2024, 0, 1)),
    priceFile('indexPriceKlines', 'usdm', 'daily', '1h', Date.UTC(2024, 0, 1)),
    priceFile('premiumIndexKlines', 'usdm', 'monthly', '1M', Date.UTC(2024, 0, 1)),
    priceFile('markPriceKlines', 'coinm', 'daily', '5m', Date.UTC(2024, 0, 1), 'BTCUSD_PERP'),
    { market: 'usdm', period: 'monthly', kind: 'fundingRate', symbol: 'BTCUSDT', start: Date.UTC(2024, 0, 1) },
    { market: 'usdm', period: 'daily', kind: 'metrics', symbol: 'BTCUSDT', start: Date.UTC(2024, 0, 1) },
  ];
  for (const file of files) {
    const path = archiveZipPath(file);
    assert.equal(archiveFileProblem(file), undefined, path);
    assert.equal(path, simulatorArchivePath(file), path);
    assert.deepEqual(simulatorParseArchivePath(path), { file, checksum: false }, path);
  }
  assert.equal(archiveZipPath(files[0]!), 'data/futures/um/monthly/markPriceKlines/BTCUSDT/1m/BTCUSDT-1m-2024-01.zip');
  assert.equal(
    archiveZipPath(files[4]!),
    'data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-01.zip',
  );
  assert.equal(archiveZipPath(files[5]!), 'data/futures/um/daily/metrics/BTCUSDT/BTCUSDT-metrics-2024-01-01.zip');
  const day = Date.UTC(2024, 0, 1);
  assert.match(
    archiveFileProblem({ market: 'usdm', period: 'daily', kind: 'fundingRate', symbol: 'BTCUSDT', start: day }) ?? '',
    /fundingRate has no daily files/,
  );
  assert.match(
    archiveFileProblem({ market: 'usdm', period: 'monthly', kind: 'metrics', symbol: 'BTCUSDT', start: day }) ?? '',
    /metrics has no monthly files/,
  );
  assert.match(
    archiveFileProblem(priceFile('markPriceKlines', 'spot', 'daily', '1m', day)) ?? '',
    /futures markets only/,
  );
  assert.equal(
    simulatorParseArchivePath('data/spot/daily/markPriceKlines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip'),
    undefined,
  );
});

test('mark, index and premium index files read as the REST answers of their range, without volumes', async (t) => {
  const sim = await startArchiveSimulator(t);
  const { archive, rest } = await clients(t, sim);
  const month = Date.UTC(2025, 0, 1);
  const monthEnd = Date.UTC(2025, 1, 1);
  const series: PriceKlineSeries[] = ['markPriceKlines', 'indexPriceKlines', 'premiumIndexKlines'];
  const read: Record<string, KlineRow[]> = {};
  for (const kind of series) {
    const file = await readAll<KlineRow>(archive, priceFile(kind, 'usdm', 'monthly', '1h', month));
    assert.equal(file.found, true, kind);
    assert.equal(file.rows.length, 31 * 24, kind);
    assert.deepEqual(file.rows, await restPriceKlines(rest, kind, 'usdm', 'BTCUSDT', '1h', month, monthEnd), kind);
    assert.ok(
      file.rows.every((r) => r[5] === '0' && r[7] === '0' && Number(r[2]) >= Number(r[3])),
      `${kind}: no volumes, high ≥ low`,
    );
    read[kind] = file.rows;
  }
  // Plausible: mark ≈ index (within 1 %), premium = (mark − index) / index at each open.
  for (let i = 0; i < 24; i++) {
    const mark = Number(read.markPriceKlines![i]![1]);
    const index = Number(read.indexPriceKlines![i]![1]);
    assert.ok(Math.abs(mark / index - 1) < 0.01, `${mark} vs ${index}`);
    assert.ok(Math.abs(Number(read.premiumIndexKlines![i]![1]) - (mark - index) / index) < 1e-7);
  }
  // A daily file of 1m candles, and COIN-M's mark price of a contract.
  const day = Date.UTC(2025, 2, 5);
  const daily = await readAll<KlineRow>(archive, priceFile('premiumIndexKlines', 'usdm', 'daily', '1m', day));
  assert.deepEqual(
    daily.rows,
    await restPriceKlines(rest, 'premiumIndexKlines', 'usdm', 'BTCUSDT', '1m', day, day + DAY),
  );
  const coinm = await readAll<KlineRow>(
    archive,
    priceFile('markPriceKlines', 'coinm', 'daily', '1h', day, 'BTCUSD_PERP'),
  );
  assert.equal(coinm.rows.length, 24);
  assert.deepEqual(
    coinm.rows,
    await restPriceKlines(rest, 'markPriceKlines', 'coinm', 'BTCUSD_PERP', '1h', day, day + DAY),
  );
});

test('a monthly fundingRate file holds the REST settlements of the month: time and rate, the interval instead of the mark price', async (t) => {
  const sim = await startArchiveSimulator(t);
  const { archive, rest } = await clients(t, sim);
  const month = Date.UTC(2025, 0, 1);
  const file = await readAll<ArchivedFundingRate>(archive, {
    market: 'usdm',
    period: 'monthly',
    kind: 'fundingRate',
    symbol: 'BTCUSDT',
    start: month,
  });
  assert.equal(file.found, true);
  assert.equal(file.rows.length, 31 * 3, 'every 8 hours');
  // Pages of 10 settlements: the client follows a full page from 1 ms after its last.
  const answers: FundingRate[] = await rest.fundingRatePages({
    market: 'usdm',
    symbol: 'BTCUSDT',
    startTime: month,
    endTime: Date.UTC(2025, 1, 1) - 1,
    limit: 10,
  });
  assert.deepEqual(
    file.rows,
    answers.map((r) => ({ fundingTime: r.fundingTime, fundingRate: r.fundingRate, fundingIntervalHours: 8 })),
  );
  assert.ok(answers.every((r) => r.symbol === 'BTCUSDT' && /^\d+\.\d+$/.test(r.markPrice ?? '')));
  const fundingRequests = sim.stats().recent.filter((r) => r.path === '/fapi/v1/fundingRate');
  assert.equal(fundingRequests.length, 10, '93 settlements in pages of 10');
});

test('a fundingRate line reads its interval only from 1 to 24 hours, as the record allows', () => {
  const month = Date.UTC(2025, 0, 1);
  const parser = new ArchiveLineParser({
    market: 'usdm',
    period: 'monthly',
    kind: 'fundingRate',
    symbol: 'BTCUSDT',
    start: month,
  });
  const line = (hours: string): string => `${month + 1},${hours},0.00010000`;
  assert.deepEqual(parser.parse(line('1')), {
    fundingTime: month + 1,
    fundingRate: '0.00010000',
    fundingIntervalHours: 1,
  });
  assert.equal((parser.parse(line('24')) as ArchivedFundingRate).fundingIntervalHours, 24);
  for (const hours of ['0', '00', '25', '99', '-1', '8.5', ''])
    assert.throws(
      () => parser.parse(line(hours)),
      (e: unknown) =>
        e instanceof ArchiveLineError &&
        e.message === `funding_interval_hours: ${JSON.stringify(hours)} is not a number of hours from 1 to 24`,
      hours,
    );
});

test('a daily metrics file holds a row every 5 minutes of the day, create_time read as UTC', async (t) => {
  const sim = await startArchiveSimulator(t);
  const { archive } = await clients(t, sim);
  const day = Date.UTC(2025, 2, 5);
  const file = await readAll<MetricsRow>(archive, {
    market: 'usdm',
    period: 'daily',
    kind: 'metrics',
    symbol: 'BTCUSDT',
    start: day,
  });
  assert.equal(file.found, true);
  assert.equal(file.rows.length, 288);
  assert.deepEqual(
    file.rows.slice(0, 2).map((r) => r.create_time),
    [day, day + 300_000],
  );
  assert.deepEqual(file.rows[1], sim.data.metrics('usdm', 'BTCUSDT', day + 300_000, day + 300_000)[0]);
  const coinm = await archive
    .download({
      market: 'coinm',
      period: 'daily',
      kind: 'metrics',
      symbol: 'BTCUSD_PERP',
      start: day,
    })
    .catch((error: unknown) => error);
  assert.ok(!(coinm && typeof coinm === 'object' && 'found' in coinm && coinm.found === true), 'no COIN-M metrics');
});

test('metrics files begin on 2021-12-01, as on Binance and as the door allows, though USD-M opened earlier', async (t) => {
  const sim = await startArchiveSimulator(t);
  const { archive } = await clients(t, sim);
  const first = Date.UTC(2021, 11, 1);
  const fileOf = (start: number): ArchiveFileRef => ({
    market: 'usdm',
    period: 'daily',
    kind: 'metrics',
    symbol: 'BTCUSDT',
    start,
  });
  assert.equal((await readAll<MetricsRow>(archive, fileOf(first - DAY))).found, false);
  const day = await readAll<MetricsRow>(archive, fileOf(first));
  assert.equal(day.found, true);
  assert.equal(day.rows[0]?.create_time, first);
});

test('spot has no futures-only endpoint: the client refuses before sending anything', async (t) => {
  const sim = await startArchiveSimulator(t);
  const { rest } = await clients(t, sim);
  await assert.rejects(
    rest.priceKlines('markPriceKlines', { market: 'spot', symbol: 'BTCUSDT', interval: '1m' }),
    /market: spot has no markPriceKlines endpoint/,
  );
  assert.equal(sim.stats().requests, 0);
});

test('fundingRate requests go one at a time, whatever the callers: its own 500 per 5 minutes is budgeted apart', async (t) => {
  let inFlight = 0;
  let most = 0;
  const paths: string[] = [];
  const server = createServer((req, res) => {
    inFlight += 1;
    most = Math.max(most, inFlight);
    paths.push(req.url ?? '');
    // Held until a later turn of the event loop, so calls sent together would overlap here.
    setTimeout(() => {
      inFlight -= 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    }, 20);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const rest = new BinanceRestClient({ baseUrls: { spot: url, usdm: url, coinm: url } });
  t.after(() => rest.close());
  await Promise.all(
    ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'XRPUSDT'].map((symbol) =>
      rest.fundingRates({ market: 'usdm', symbol, startTime: 0, endTime: 1 }),
    ),
  );
  await rest.fundingRates({ market: 'coinm', symbol: 'BTCUSD_PERP' });
  assert.equal(paths.length, 5);
  assert.equal(most, 1, 'never two fundingRate requests at once');
  assert.match(paths[0]!, /^\/fapi\/v1\/fundingRate\?symbol=BTCUSDT&startTime=0&endTime=1&limit=1000$/);
  assert.match(paths[4]!, /^\/dapi\/v1\/fundingRate\?symbol=BTCUSD_PERP&limit=1000$/);
});
