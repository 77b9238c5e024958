import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { unzipSync } from 'fflate';
import type { AggTrade, ExchangeInfo, KlineRow } from '@streamforge/core/contracts';
import {
  FUTURES_AGG_TRADE_HEADER,
  FUTURES_KLINE_HEADER,
  DEFAULT_SYMBOLS,
  archivePath,
  parseArchivePath,
  startExchangeSimulator,
  type ArchiveFile,
  type ExchangeSimulator,
} from '../src/index.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2024, 7, 1, 12, 2, 30);

// BTC with one aggregate trade a minute, so a day's aggTrades file stays small.
const SYMBOLS = DEFAULT_SYMBOLS.filter((s) => s.coinm !== undefined).map((s) =>
  s.symbol === 'BTCUSDT' ? { ...s, tradeGapMs: 60_000 } : s,
);

async function simulator(t: TestContext): Promise<ExchangeSimulator> {
  const sim = await startExchangeSimulator({ clock: () => NOW, symbols: SYMBOLS, weightLimit: Infinity });
  t.after(() => sim.close());
  return sim;
}

async function get(sim: ExchangeSimulator, path: string): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(`${sim.url}${path}`);
  return { status: response.status, text: await response.text(), headers: response.headers };
}

async function json<T>(sim: ExchangeSimulator, path: string): Promise<T> {
  const response = await get(sim, path);
  assert.equal(response.status, 200, `${path}: ${response.text}`);
  return JSON.parse(response.text) as T;
}

/** A zip's CSV lines, its CHECKSUM verified. */
async function csvLines(sim: ExchangeSimulator, file: ArchiveFile): Promise<string[]> {
  const path = archivePath(file);
  const response = await fetch(`${sim.url}/${path}`);
  assert.equal(response.status, 200, path);
  const zip = new Uint8Array(await response.arrayBuffer());
  const checksum = await get(sim, `/${path}.CHECKSUM`);
  const sha = createHash('sha256').update(zip).digest('hex');
  assert.equal(checksum.text, `${sha}  ${path.split('/').at(-1)}\n`);
  const [content] = Object.values(unzipSync(zip));
  const lines = Buffer.from(content!).toString('utf8').split('\n');
  assert.equal(lines.pop(), '');
  return lines;
}

test('COIN-M exchangeInfo lists the coin-margined perpetuals with pair, contract size and a 2400 weight budget', async (t) => {
  const sim = await simulator(t);
  const response = await get(sim, '/dapi/v1/exchangeInfo');
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-mbx-used-weight-1m'), '1', 'exchangeInfo weighs 1 on COIN-M');
  const info = JSON.parse(response.text) as ExchangeInfo;
  assert.deepEqual(
    info.symbols.map((s) => [s.symbol, s.pair, s.contractType, s.contractSize, s.baseAsset, s.quoteAsset]),
    [
      ['BTCUSD_PERP', 'BTCUSD', 'PERPETUAL', 100, 'BTC', 'USD'],
      ['ETHUSD_PERP', 'ETHUSD', 'PERPETUAL', 10, 'ETH', 'USD'],
    ],
  );
  assert.deepEqual(info.rateLimits[0], {
    rateLimitType: 'REQUEST_WEIGHT',
    interval: 'MINUTE',
    intervalNum: 1,
    limit: 2400,
  });
  const spotOnly = await get(sim, '/dapi/v1/klines?symbol=BTCUSDT&interval=1m');
  assert.deepEqual(
    [spotOnly.status, JSON.parse(spotOnly.text).code],
    [400, -1121],
    'a spot symbol is no COIN-M contract',
  );
});

test('COIN-M klines count volume in contracts and give the base-coin volume in field 7, on the spot price path', async (t) => {
  const sim = await simulator(t);
  const start = Date.UTC(2024, 6, 1);
  const query = `interval=1h&startTime=${start}&endTime=${start + DAY - 1}`;
  const rows = await json<KlineRow[]>(sim, `/dapi/v1/klines?symbol=BTCUSD_PERP&${query}`);
  const spot = await json<KlineRow[]>(sim, `/api/v3/klines?symbol=BTCUSDT&${query}`);
  assert.equal(rows.length, 24);
  for (const [i, row] of rows.entries()) {
    const [open, high, low] = [row[1], row[2], row[3]].map(Number) as [number, number, number];
    assert.match(row[1], /^\d+\.\d$/, 'BTCUSD_PERP prices have one decimal (tick 0.1)');
    assert.ok(Math.abs(open - Number(spot[i]![1])) <= 0.05 + 1e-6, 'the contract opens at the spot price, to its tick');
    assert.match(row[5], /^\d+$/, 'volume: whole contracts');
    assert.match(row[9], /^\d+$/, 'taker buy volume: whole contracts');
    const contracts = Number(row[5]);
    assert.ok(contracts > 0 && Number(row[9]) <= contracts);
    // Contracts of 100 USD bought at prices between low and high: the base-coin volume lies between.
    const coins = Number(row[7]);
    assert.ok(
      coins >= (contracts * 100) / high - 1e-8 && coins <= (contracts * 100) / low + 1e-8,
      `field 7 at ${row[0]}`,
    );
  }
  const used = async (path: string): Promise<number> =>
    Number((await get(sim, path)).headers.get('x-mbx-used-weight-1m'));
  const before = await used('/dapi/v1/ping');
  assert.equal(
    await used(`/dapi/v1/klines?symbol=ETHUSD_PERP&${query}&limit=1200`),
    before + 10,
    'limit above 1000 weighs 10',
  );
  assert.equal(await used(`/dapi/v1/klines?symbol=ETHUSD_PERP&${query}&limit=99`), before + 11, 'below 100 weighs 1');
});

test('COIN-M klines refuse 1s and a startTime–endTime span over 200 days; aggTrades spans stay under an hour', async (t) => {
  const sim = await simulator(t);
  const start = Date.UTC(2023, 0, 1);
  const refusal = async (path: string): Promise<number> => {
    const response = await get(sim, path);
    assert.equal(response.status, 400, response.text);
    return (JSON.parse(response.text) as { code: number }).code;
  };
  assert.equal(await refusal('/dapi/v1/klines?symbol=BTCUSD_PERP&interval=1s'), -1120);
  const days200 = 200 * DAY;
  const within = `/dapi/v1/klines?symbol=BTCUSD_PERP&interval=1d&startTime=${start}&endTime=${start + days200}`;
  assert.equal((await json<KlineRow[]>(sim, within)).length, 201);
  assert.equal(await refusal(`${within.slice(0, within.lastIndexOf('=') + 1)}${start + days200 + 1}`), -1127);
  const trades = `/dapi/v1/aggTrades?symbol=BTCUSD_PERP&startTime=${start}&endTime=${start + 3_600_000}`;
  assert.equal(await refusal(trades), -1127);
  const hour = await json<AggTrade[]>(sim, `/dapi/v1/aggTrades?symbol=BTCUSD_PERP&startTime=${start}&limit=5`);
  assert.equal(hour.length, 5);
  for (const trade of hour) {
    assert.match(trade.q, /^[1-9]\d*$/, 'quantities are whole contracts');
    assert.equal(trade.M, undefined, 'no best-match flag on futures');
  }
});

test('the cm archive holds the REST answers: a monthly kline file and a daily aggTrades file, each with a header row', async (t) => {
  const sim = await simulator(t);
  const month = Date.UTC(2024, 2, 1);
  const klines: ArchiveFile = {
    market: 'coinm',
    period: 'monthly',
    kind: 'klines',
    symbol: 'BTCUSD_PERP',
    interval: '1h',
    start: month,
  };
  assert.equal(archivePath(klines), 'data/futures/cm/monthly/klines/BTCUSD_PERP/1h/BTCUSD_PERP-1h-2024-03.zip');
  assert.deepEqual(parseArchivePath(archivePath(klines))?.file, klines);
  const lines = await csvLines(sim, klines);
  assert.equal(lines.shift(), FUTURES_KLINE_HEADER);
  const rest = await json<KlineRow[]>(
    sim,
    `/dapi/v1/klines?symbol=BTCUSD_PERP&interval=1h&startTime=${month}&endTime=${Date.UTC(2024, 3, 1) - 1}&limit=1500`,
  );
  assert.equal(rest.length, 31 * 24);
  assert.deepEqual(
    lines,
    rest.map((r) => r.join(',')),
  );

  const day = Date.UTC(2024, 2, 5);
  const trades = await csvLines(sim, {
    market: 'coinm',
    period: 'daily',
    kind: 'aggTrades',
    symbol: 'BTCUSD_PERP',
    start: day,
  });
  assert.equal(trades.shift(), FUTURES_AGG_TRADE_HEADER);
  const first = await json<AggTrade[]>(
    sim,
    `/dapi/v1/aggTrades?symbol=BTCUSD_PERP&startTime=${day}&endTime=${day + 3_599_999}&limit=1`,
  );
  const restTrades: AggTrade[] = [];
  for (let fromId = first[0]!.a; restTrades.length <= trades.length; fromId = restTrades.at(-1)!.a + 1)
    restTrades.push(
      ...(await json<AggTrade[]>(sim, `/dapi/v1/aggTrades?symbol=BTCUSD_PERP&fromId=${fromId}&limit=1000`)),
    );
  assert.equal(trades.length, 1440, 'one aggregate trade a minute');
  assert.deepEqual(
    trades,
    restTrades.slice(0, trades.length).map((a) => `${a.a},${a.p},${a.q},${a.f},${a.l},${a.T},${a.m}`),
  );
  assert.ok(restTrades[trades.length]!.T >= day + DAY, "the next one is the next day's");
});

test('the bucket lists futures/cm next to futures/um, with the COIN-M contracts as its series', async (t) => {
  const sim = await simulator(t);
  const prefixes = async (prefix: string): Promise<string[]> => {
    const listing = await get(sim, `/?prefix=${prefix}&delimiter=/`);
    assert.equal(listing.status, 200);
    return [...listing.text.matchAll(/<CommonPrefixes><Prefix>([^<]+)<\/Prefix><\/CommonPrefixes>/g)].map((m) => m[1]!);
  };
  assert.deepEqual(await prefixes('data/futures/'), ['data/futures/cm/', 'data/futures/um/']);
  assert.deepEqual(await prefixes('data/futures/cm/daily/klines/'), [
    'data/futures/cm/daily/klines/BTCUSD_PERP/',
    'data/futures/cm/daily/klines/ETHUSD_PERP/',
  ]);
  const intervals = await prefixes('data/futures/cm/daily/klines/BTCUSD_PERP/');
  assert.ok(intervals.includes('data/futures/cm/daily/klines/BTCUSD_PERP/1m/'));
  assert.ok(!intervals.includes('data/futures/cm/daily/klines/BTCUSD_PERP/1s/'), 'COIN-M has no 1s');
  const files = await get(
    sim,
    '/?prefix=data/futures/cm/daily/klines/BTCUSD_PERP/1d/BTCUSD_PERP-1d-2024-07-3&delimiter=/',
  );
  assert.deepEqual(
    [...files.text.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]),
    ['30', '31'].flatMap((d) => {
      const zip = `data/futures/cm/daily/klines/BTCUSD_PERP/1d/BTCUSD_PERP-1d-2024-07-${d}.zip`;
      return [zip, `${zip}.CHECKSUM`];
    }),
  );
});
