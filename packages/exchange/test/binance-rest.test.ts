import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import type { AggTrade, KlineRow } from '@streamforge/core/contracts';
import { BinanceRestClient, scaledTime, type BinanceRestClientOptions } from '../src/index.ts';
import { startExchangeSimulator, type ExchangeSimulator, type ExchangeSimulatorOptions } from '@streamforge/simulator';
import { listenForTest, rejectionOf } from '@streamforge/testing';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/binance/klines/', import.meta.url));
const NOW = Date.UTC(2024, 7, 1, 12, 0, 30);
const MINUTE = 60_000;

async function simulator(t: TestContext, options: ExchangeSimulatorOptions = {}): Promise<ExchangeSimulator> {
  const sim = await startExchangeSimulator({ clock: () => NOW, ...options });
  t.after(() => sim.close());
  return sim;
}

function client(t: TestContext, sim: ExchangeSimulator, options: BinanceRestClientOptions = {}): BinanceRestClient {
  const c = new BinanceRestClient({
    baseUrls: { spot: sim.url, usdm: sim.url },
    backoff: { baseMs: 1, maxMs: 5 },
    ...options,
  });
  t.after(() => c.close());
  return c;
}

async function collect(pages: AsyncGenerator<KlineRow[]>): Promise<KlineRow[][]> {
  const all: KlineRow[][] = [];
  for await (const page of pages) all.push(page);
  return all;
}

const rejection = rejectionOf;

test('klinePages gets every candle of a range once, in order, in full pages', async (t) => {
  const sim = await simulator(t);
  const exchange = client(t, sim);
  const start = Date.UTC(2024, 6, 1);
  const end = start + 2 * 86_400_000; // two days and the first candle of the third, both ends inclusive
  const pages = await collect(
    exchange.klinePages({ symbol: 'BTCUSDT', interval: '1m', startTime: start, endTime: end }),
  );
  assert.deepEqual(
    pages.map((p) => p.length),
    [1000, 1000, 881],
  );
  const rows = pages.flat();
  assert.deepEqual(
    rows.map((r) => r[0]),
    Array.from({ length: 2881 }, (_, i) => start + i * MINUTE),
  );
  assert.deepEqual(
    rows.slice(0, 3),
    await exchange.klines({ symbol: 'BTCUSDT', interval: '1m', startTime: start, limit: 3 }),
  );
  assert.equal(sim.stats().requests, 4);
  assert.equal(exchange.stats().usedWeight.spot, 8);
});

test('a USD-M backfill from CSV data is byte-identical to the files', async (t) => {
  const sim = await simulator(t, { klinesDir: FIXTURES });
  const exchange = client(t, sim);
  const start = Date.UTC(2022, 8, 5);
  const pages = await collect(
    exchange.klinePages({
      market: 'usdm',
      symbol: 'BTCUSDT',
      interval: '1m',
      startTime: start,
      endTime: start + 2 * 86_400_000 - 1,
    }),
  );
  assert.deepEqual(
    pages.map((p) => p.length),
    [1500, 1380],
  );
  const files = await Promise.all(
    ['usdm/BTCUSDT-1m-2022-09-05.csv', 'usdm/BTCUSDT-1m-2022-09-06.csv'].map((f) =>
      readFile(`${FIXTURES}${f}`, 'utf8'),
    ),
  );
  const lines = files.flatMap((text) => text.split('\n').filter((line) => /^\d/.test(line)));
  assert.deepEqual(
    pages.flat().map((row) => row.join(',')),
    lines,
  );
  assert.equal(exchange.stats().usedWeight.usdm, 10 + 10, 'limit 1500 weighs 10');
});

test("an invalid symbol is SF_EXCHANGE_REJECTED with the exchange's message, and is not retried", async (t) => {
  const sim = await simulator(t);
  const exchange = client(t, sim);
  const error = await rejection(exchange.klines({ symbol: 'NOPEUSDT', interval: '1h' }));
  assert.equal(error.code, 'SF_EXCHANGE_REJECTED');
  assert.equal(error.disposition, 'dead-letter');
  assert.match(error.message, /Invalid symbol\./);
  assert.equal(error.details?.code, -1121);
  assert.equal(error.details?.msg, 'Invalid symbol.');
  const interval = await rejection(exchange.klines({ market: 'usdm', symbol: 'BTCUSDT', interval: '1s' }));
  assert.deepEqual([interval.code, interval.details?.code], ['SF_EXCHANGE_REJECTED', -1120]);
  assert.equal(sim.stats().requests, 2);
  assert.equal(exchange.stats().retries, 0);
});

test('5xx answers and dropped connections are retried until the data is right', async (t) => {
  const clean = await simulator(t);
  const faulty = await simulator(t, { faults: { errorRate: 0.25, dropRate: 0.15, seed: 5 } });
  const start = Date.UTC(2024, 5, 1);
  const query = { symbol: 'ETHUSDT', interval: '5m', startTime: start, endTime: start + 10 * 86_400_000 } as const;
  const expected = (await collect(client(t, clean).klinePages(query))).flat();
  const exchange = client(t, faulty, { maxAttempts: 10 });
  const got = (await collect(exchange.klinePages(query))).flat();
  assert.equal(got.length, 2881);
  assert.deepEqual(got, expected);
  const stats = faulty.stats();
  assert.ok(
    stats.dropped > 0 && (stats.byStatus['500'] ?? 0) + (stats.byStatus['502'] ?? 0) + (stats.byStatus['503'] ?? 0) > 0,
    'faults did happen',
  );
  assert.equal(exchange.stats().retries, stats.requests - 3, 'one retry per failed request');
});

test('transient failures give SF_DEPENDENCY_UNAVAILABLE after maxAttempts', async (t) => {
  const sim = await simulator(t, { faults: { errorRate: 1 } });
  const exchange = client(t, sim, { maxAttempts: 3 });
  const error = await rejection(exchange.serverTime());
  assert.equal(error.code, 'SF_DEPENDENCY_UNAVAILABLE');
  assert.equal(error.details?.attempts, 3);
  assert.equal(sim.stats().requests, 3);
  const unreachable = new BinanceRestClient({
    baseUrls: { spot: 'http://127.0.0.1:1' },
    maxAttempts: 2,
    backoff: { baseMs: 1 },
  });
  t.after(() => unreachable.close());
  const refused = await rejection(unreachable.ping());
  assert.equal(refused.code, 'SF_DEPENDENCY_UNAVAILABLE');
  assert.match(refused.message, /ECONNREFUSED/);
});

test('a request that outlives timeoutMs is a transient failure', async (t) => {
  const url = await listenForTest(
    t,
    createServer(() => {}), // accepts, never answers
  );
  const exchange = new BinanceRestClient({
    baseUrls: { spot: url },
    timeoutMs: 100,
    maxAttempts: 2,
    backoff: { baseMs: 1 },
  });
  t.after(() => exchange.close());
  const error = await rejection(exchange.ping());
  assert.equal(error.code, 'SF_DEPENDENCY_UNAVAILABLE');
  assert.equal(error.details?.attempts, 2);
  assert.match(error.message, /ETIMEDOUT/);
});

test('after a 429 the client sends nothing until Retry-After has passed, and learns the real limit', async (t) => {
  const time = scaledTime(200, Date.UTC(2024, 7, 1, 12, 0, 20));
  const sim = await simulator(t, { clock: time.now, weightLimit: 10 });
  const exchange = client(t, sim, { time }); // believes the budget is 6000
  const start = Date.UTC(2024, 6, 1);
  for (let i = 0; i < 12; i++)
    await exchange.klines({ symbol: 'BTCUSDT', interval: '1m', startTime: start + i * MINUTE, limit: 1 });
  const log = sim.stats().recent;
  const refused = log.filter((r) => r.status === 429);
  assert.ok(refused.length >= 1, 'the budget was hit');
  for (const r of refused) {
    const retryAfterMs = Math.ceil((Math.floor(r.time / MINUTE) * MINUTE + MINUTE - r.time) / 1000) * 1000;
    const next = log[log.indexOf(r) + 1]!;
    assert.ok(
      next.time >= r.time + retryAfterMs,
      `next request ${next.time - r.time} ms after the 429, Retry-After ${retryAfterMs} ms`,
    );
  }
  assert.equal(exchange.stats().governors.spot.limit, 10, 'the -1003 message tells the budget');
  assert.equal(refused.length, 1, 'once the limit is known, the governor stays inside it');
  assert.equal(sim.stats().banned, 0);
  assert.equal(exchange.stats().rateLimited, 1);
});

test('a 418 ban is waited out and reported; a ban longer than maxWaitMs fails with SF_RATE_LIMITED', async (t) => {
  const time = scaledTime(400, Date.UTC(2024, 7, 1, 12, 0, 20));
  const sim = await simulator(t, { clock: time.now, weightLimit: 1, banAfter: 0 });
  const exchange = client(t, sim, { time });
  await exchange.ping();
  await exchange.ping(); // refused at once into a 2-minute ban, waited out, then answered
  const log = sim.stats().recent;
  assert.deepEqual(
    log.map((r) => r.status),
    [200, 418, 200],
  );
  assert.ok(log[2]!.time >= log[1]!.time + 120_000, 'nothing sent before the ban ended');
  assert.equal(exchange.stats().banned, 1);
  assert.ok(exchange.stats().governors.spot.bannedUntil! >= log[1]!.time + 120_000);

  const strict = await simulator(t, { weightLimit: 1, banAfter: 0 });
  const impatient = client(t, strict, { governor: { maxWaitMs: 60_000 } });
  await impatient.ping();
  const error = await rejection(impatient.ping());
  assert.equal(error.code, 'SF_RATE_LIMITED');
  assert.equal(error.details?.banned, true);
  assert.ok(Number(error.details?.retryAfterMs) > 60_000);
  assert.equal(strict.stats().requests, 2, 'gave up without sending into the ban');
});

test('exchangeInfo sets the governor budget from REQUEST_WEIGHT', async (t) => {
  const sim = await simulator(t, { weightLimit: { usdm: 1200 } });
  const exchange = client(t, sim);
  const info = await exchange.exchangeInfo({ market: 'usdm' });
  assert.equal(info.symbols.find((s) => s.symbol === 'BTCUSDT')?.status, 'TRADING');
  assert.equal(exchange.stats().governors.usdm.limit, 1200);
  const some = await exchange.exchangeInfo({ symbols: ['ETHUSDT', 'BTCUSDT'] });
  assert.deepEqual(
    some.symbols.map((s) => s.symbol),
    ['ETHUSDT', 'BTCUSDT'],
  );
  assert.equal(await exchange.serverTime('usdm'), NOW);
  const offset = await exchange.syncClock();
  assert.ok(Math.abs(offset - (NOW - Date.now())) < 60_000, 'the offset is the exchange clock minus the local one');
});

test('aggTradePages covers a time range by id without gaps or repeats', async (t) => {
  const sim = await simulator(t);
  const exchange = client(t, sim);
  const start = Date.UTC(2024, 6, 1, 10);
  const end = start + 2 * MINUTE;
  const trades: AggTrade[] = [];
  for await (const page of exchange.aggTradePages({ symbol: 'BTCUSDT', startTime: start, endTime: end, limit: 1000 }))
    trades.push(...page);
  assert.ok(trades.length > 2000);
  assert.ok(
    trades.every((trade, i) => trade.T >= start && trade.T <= end && (i === 0 || trade.a === trades[i - 1]!.a + 1)),
  );
  const after = await exchange.aggTrades({ symbol: 'BTCUSDT', startTime: end + 1, limit: 1 });
  assert.equal(after[0]!.a, trades.at(-1)!.a + 1, 'the next trade is after endTime');
});

test("a planned budget is kept: exchangeInfo announcing a lifted budget as Binance's nominal one does not bring the limit back", async (t) => {
  // The simulator with its budget lifted announces 6000 (JSON has no Infinity); the local
  // platform then plans with BINANCE_REQUEST_WEIGHT_LIMIT=Infinity, and that plan stands.
  const sim = await simulator(t, { weightLimit: Number.POSITIVE_INFINITY });
  const planned = new BinanceRestClient({
    baseUrls: { spot: sim.url, usdm: sim.url },
    env: { BINANCE_REQUEST_WEIGHT_LIMIT: 'Infinity' },
  });
  t.after(() => planned.close());
  await planned.exchangeInfo({ symbol: 'BTCUSDT' });
  assert.equal(planned.stats().governors.spot.limit, Number.POSITIVE_INFINITY);
});
