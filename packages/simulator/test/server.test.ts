import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { candleOpenTime, KLINE_FIELD_TYPES } from '@streamforge/core/contracts';
import type { AggTrade, KlineRow } from '@streamforge/core/contracts';
import { startExchangeSimulator, type ExchangeSimulator, type ExchangeSimulatorOptions } from '../src/index.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2024, 7, 1, 12, 2, 30); // mid-candle for 1m

async function simulator(t: TestContext, options: ExchangeSimulatorOptions = {}): Promise<ExchangeSimulator> {
  const sim = await startExchangeSimulator({ clock: () => NOW, ...options });
  t.after(() => sim.close());
  return sim;
}

async function get(
  sim: ExchangeSimulator,
  path: string,
): Promise<{ status: number; body: unknown; text: string; headers: Headers }> {
  const response = await fetch(`${sim.url}${path}`);
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as unknown, text, headers: response.headers };
}

async function klines(sim: ExchangeSimulator, query: string, market: 'spot' | 'usdm' = 'spot'): Promise<KlineRow[]> {
  const response = await get(sim, `${market === 'spot' ? '/api/v3' : '/fapi/v1'}/klines?${query}`);
  assert.equal(response.status, 200, response.text);
  return response.body as KlineRow[];
}

const opens = (rows: KlineRow[]): number[] => rows.map((r) => r[0]);

test('one day of BTCUSDT 5m klines is 288 rows typed exactly as Binance types them, the same on every server', async (t) => {
  const start = Date.UTC(2024, 6, 1);
  const query = `symbol=BTCUSDT&interval=5m&startTime=${start}&endTime=${start + DAY - 1}&limit=1000`;
  const [a, b] = [await simulator(t), await simulator(t)];
  const rows = await klines(a, query);
  assert.equal(rows.length, 288);
  // The typed fields, then "ignore", which Binance sends as a string too.
  const types = [...KLINE_FIELD_TYPES, 'string'];
  for (const [i, row] of rows.entries()) {
    assert.deepEqual(
      row.map((cell) => typeof cell),
      types,
    );
    assert.equal(row[0], start + i * 5 * MINUTE);
    assert.equal(row[6], row[0] + 5 * MINUTE - 1);
    assert.ok(Number.isInteger(row[8]));
    assert.match(row[1], /^\d+\.\d{8}$/);
    assert.equal(row[11], '0');
    const [open, high, low, close] = [row[1], row[2], row[3], row[4]].map(Number) as [number, number, number, number];
    assert.ok(high >= Math.max(open, close) && low <= Math.min(open, close) && low > 0, `OHLC consistent at ${row[0]}`);
    if (i > 0) assert.equal(row[1], rows[i - 1]![4], 'a candle opens where the previous one closed');
  }
  assert.equal((await get(b, `/api/v3/klines?${query}`)).text, JSON.stringify(rows));
});

test('klines without times are the most recent ones, ending with the still-open candle', async (t) => {
  const sim = await simulator(t);
  const rows = await klines(sim, 'symbol=BTCUSDT&interval=1m');
  assert.equal(rows.length, 500, 'default limit');
  const current = candleOpenTime('1m', NOW);
  assert.equal(rows.at(-1)![0], current);
  assert.ok(rows.at(-1)![6] > NOW, 'the last candle is still open');
  assert.deepEqual(
    opens(rows),
    Array.from({ length: 500 }, (_, i) => current - (499 - i) * MINUTE),
  );
});

test('klines with startTime only are the oldest from the first open time at or after it', async (t) => {
  const sim = await simulator(t);
  const rows = await klines(sim, `symbol=ETHUSDT&interval=1m&startTime=${Date.UTC(2024, 6, 1) + 30_000}&limit=10`);
  assert.deepEqual(
    opens(rows),
    Array.from({ length: 10 }, (_, i) => Date.UTC(2024, 6, 1) + (i + 1) * MINUTE),
  );
});

test('klines with endTime only are the most recent whose open time is at or before it', async (t) => {
  const sim = await simulator(t);
  const end = Date.UTC(2024, 6, 1, 6);
  const rows = await klines(sim, `symbol=ETHUSDT&interval=1m&endTime=${end}&limit=5`);
  assert.deepEqual(
    opens(rows),
    [4, 3, 2, 1, 0].map((i) => end - i * MINUTE),
  );
});

test('klines with both times start at startTime and never pass endTime, both ends inclusive', async (t) => {
  const sim = await simulator(t);
  const start = Date.UTC(2024, 6, 1);
  assert.equal(
    (await klines(sim, `symbol=BNBUSDT&interval=1m&startTime=${start}&endTime=${start + 9 * MINUTE}`)).length,
    10,
  );
  assert.deepEqual(
    opens(await klines(sim, `symbol=BNBUSDT&interval=1m&startTime=${start}&endTime=${start + 9 * MINUTE}&limit=3`)),
    [0, 1, 2].map((i) => start + i * MINUTE),
  );
  assert.deepEqual(await klines(sim, `symbol=BNBUSDT&interval=1m&startTime=${start + MINUTE}&endTime=${start}`), []);
});

test('limit defaults to 500, reaches 1000 on spot and 1500 on USD-M, and is clamped above', async (t) => {
  const sim = await simulator(t);
  const start = Date.UTC(2024, 0, 1);
  assert.equal((await klines(sim, `symbol=BTCUSDT&interval=1m&startTime=${start}`)).length, 500);
  assert.equal((await klines(sim, `symbol=BTCUSDT&interval=1m&startTime=${start}&limit=1000`)).length, 1000);
  assert.equal((await klines(sim, `symbol=BTCUSDT&interval=1m&startTime=${start}&limit=5000`)).length, 1000);
  assert.equal((await klines(sim, `symbol=BTCUSDT&interval=1m&startTime=${start}`, 'usdm')).length, 500);
  assert.equal((await klines(sim, `symbol=BTCUSDT&interval=1m&startTime=${start}&limit=1500`, 'usdm')).length, 1500);
  assert.equal((await klines(sim, `symbol=BTCUSDT&interval=1m&startTime=${start}&limit=2000`, 'usdm')).length, 1500);
});

test('no kline opens in the future or before the symbol was listed', async (t) => {
  const sim = await simulator(t);
  assert.deepEqual(await klines(sim, `symbol=BTCUSDT&interval=1m&startTime=${NOW + MINUTE}`), []);
  const toFuture = await klines(
    sim,
    `symbol=BTCUSDT&interval=1h&startTime=${NOW - 3 * 3_600_000}&endTime=${NOW + DAY}`,
  );
  assert.equal(toFuture.at(-1)![0], candleOpenTime('1h', NOW));
  const first = await klines(sim, 'symbol=BTCUSDT&interval=1d&startTime=0&limit=1');
  assert.equal(first[0]![0], Date.UTC(2017, 7, 17), 'BTCUSDT spot opened on 2017-08-17');
  const usdm = await klines(sim, 'symbol=BTCUSDT&interval=1d&startTime=0&limit=1', 'usdm');
  assert.equal(usdm[0]![0], Date.UTC(2019, 8, 8), 'USD-M opened on 2019-09-08');
});

test('the open candle grows with the clock and keeps its open time', async (t) => {
  let now = Date.UTC(2024, 7, 1, 12, 0, 5);
  const sim = await simulator(t, { clock: () => now });
  const early = (await klines(sim, 'symbol=BTCUSDT&interval=1h&limit=1'))[0]!;
  now += 30 * MINUTE;
  const later = (await klines(sim, 'symbol=BTCUSDT&interval=1h&limit=1'))[0]!;
  assert.equal(early[0], later[0]);
  assert.equal(early[1], later[1]);
  assert.ok(Number(later[5]) > Number(early[5]), 'volume grows while the candle is open');
  now = Date.UTC(2024, 7, 1, 13, 0, 1);
  const closed = (await klines(sim, `symbol=BTCUSDT&interval=1h&startTime=${early[0]}&limit=1`))[0]!;
  const next = (await klines(sim, 'symbol=BTCUSDT&interval=1h&limit=1'))[0]!;
  assert.equal(closed[4], next[1], 'once closed, the candle closes where the next one opens');
});

test('USD-M klines use exchange-tick decimals and month candles follow the calendar', async (t) => {
  const sim = await simulator(t);
  const rows = await klines(sim, `symbol=BTCUSDT&interval=1M&startTime=${Date.UTC(2023, 0, 1)}&limit=3`, 'usdm');
  assert.deepEqual(opens(rows), [Date.UTC(2023, 0, 1), Date.UTC(2023, 1, 1), Date.UTC(2023, 2, 1)]);
  assert.equal(rows[1]![6], Date.UTC(2023, 2, 1) - 1);
  assert.match(rows[0]![1], /^\d+\.\d0$/, 'tick 0.1 printed with 2 decimals, as "19992.70"');
  assert.match(rows[0]![5], /^\d+\.\d{3}$/);
});

test('errors carry Binance codes and messages with HTTP 400', async (t) => {
  const sim = await simulator(t);
  const cases: Array<[string, number, string]> = [
    ['/api/v3/klines?symbol=NOPEUSDT&interval=1m', -1121, 'Invalid symbol.'],
    ['/api/v3/klines?symbol=BTCUSDT&interval=2m', -1120, 'Invalid interval.'],
    ['/api/v3/klines?symbol=BTCUSDT&interval=1mo', -1120, 'Invalid interval.'],
    ['/fapi/v1/klines?symbol=BTCUSDT&interval=1s', -1120, 'Invalid interval.'],
    [
      '/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=ten',
      -1100,
      "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.",
    ],
    [
      '/api/v3/klines?symbol=BTCUSDT&interval=1m&endTime=-5',
      -1100,
      "Illegal characters found in parameter 'endTime'; legal range is '^[0-9]{1,20}$'.",
    ],
    [
      '/api/v3/klines?symbol=btcusdt&interval=1m',
      -1100,
      "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'.",
    ],
    ['/api/v3/klines?interval=1m', -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."],
    [
      '/api/v3/klines?symbol=BTCUSDT',
      -1102,
      "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.",
    ],
    ['/api/v3/klines?symbol=BTCUSDT&interval=1m&symbol=ETHUSDT', -1101, 'Duplicate values for a parameter detected.'],
    [
      '/api/v3/klines?symbol=BTCUSDT&interval=1m&foo=1',
      -1104,
      "Not all sent parameters were read; read '2' parameter(s) but was sent '3'.",
    ],
    [
      '/api/v3/klines?symbol=BTCUSDT&interval=1m&timeZone=15',
      -1130,
      "Data sent for parameter 'timeZone' is not valid.",
    ],
    ['/api/v3/aggTrades', -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."],
    ['/api/v3/exchangeInfo?symbol=NOPEUSDT', -1121, 'Invalid symbol.'],
    ['/api/v3/exchangeInfo?symbols=%5B%22BTCUSDT%22%2C%22NOPEUSDT%22%5D', -1121, 'Invalid symbol.'],
  ];
  for (const [path, code, msg] of cases) {
    const response = await get(sim, path);
    assert.equal(response.status, 400, path);
    assert.deepEqual(response.body, { code, msg }, path);
    assert.ok(Number(response.headers.get('x-mbx-used-weight-1m')) > 0, `${path} carries the used weight`);
  }
  assert.equal((await get(sim, '/api/v3/klines?symbol=BTCUSDT&interval=1m&timeZone=-1:00&limit=1')).status, 200);
});

test('exchangeInfo lists the configured symbols and announces the weight budget', async (t) => {
  const sim = await simulator(t, { symbols: ['BTCUSDT', 'PEPEUSDT'], weightLimit: { spot: 1200 } });
  const info = (await get(sim, '/api/v3/exchangeInfo')).body as {
    timezone: string;
    serverTime: number;
    rateLimits: unknown[];
    symbols: Array<Record<string, unknown>>;
  };
  assert.equal(info.timezone, 'UTC');
  assert.equal(info.serverTime, NOW);
  assert.deepEqual(info.rateLimits[0], {
    rateLimitType: 'REQUEST_WEIGHT',
    interval: 'MINUTE',
    intervalNum: 1,
    limit: 1200,
  });
  assert.deepEqual(
    info.symbols.map((s) => [s.symbol, s.status, s.baseAsset, s.quoteAsset]),
    [
      ['BTCUSDT', 'TRADING', 'BTC', 'USDT'],
      ['PEPEUSDT', 'TRADING', 'PEPE', 'USDT'],
    ],
  );
  const one = (await get(sim, '/api/v3/exchangeInfo?symbol=BTCUSDT')).body as { symbols: Array<{ symbol: string }> };
  assert.deepEqual(
    one.symbols.map((s) => s.symbol),
    ['BTCUSDT'],
  );
  const usdm = (await get(sim, '/fapi/v1/exchangeInfo')).body as {
    rateLimits: Array<{ limit: number }>;
    symbols: Array<{ contractType: string }>;
  };
  assert.equal(usdm.rateLimits[0]!.limit, 2400);
  assert.equal(usdm.symbols[0]!.contractType, 'PERPETUAL');
  assert.deepEqual((await get(sim, '/api/v3/ping')).body, {});
  assert.deepEqual((await get(sim, '/fapi/v1/time')).body, { serverTime: NOW });
});

test('aggTrades have gapless ids, inclusive time bounds, and page by fromId', async (t) => {
  const sim = await simulator(t);
  const start = Date.UTC(2024, 6, 1, 10);
  const end = start + 10_000;
  const inRange = (await get(sim, `/api/v3/aggTrades?symbol=BTCUSDT&startTime=${start}&endTime=${end}&limit=1000`))
    .body as AggTrade[];
  assert.ok(inRange.length > 50);
  for (const [i, trade] of inRange.entries()) {
    assert.deepEqual(Object.keys(trade), ['a', 'p', 'q', 'f', 'l', 'T', 'm', 'M']);
    assert.ok(trade.T >= start && trade.T <= end);
    assert.match(trade.p, /^\d+\.\d{8}$/);
    if (i > 0) {
      assert.equal(trade.a, inRange[i - 1]!.a + 1);
      assert.equal(trade.f, inRange[i - 1]!.l + 1, 'trade ids are contiguous too');
      assert.ok(trade.T >= inRange[i - 1]!.T);
    }
  }
  const before = (await get(sim, `/api/v3/aggTrades?symbol=BTCUSDT&endTime=${start - 1}&limit=1`)).body as AggTrade[];
  assert.equal(before[0]!.a, inRange[0]!.a - 1, 'the trade before startTime is the previous id');
  const page = (await get(sim, `/api/v3/aggTrades?symbol=BTCUSDT&fromId=${inRange[0]!.a}&limit=5`)).body as AggTrade[];
  assert.deepEqual(page, inRange.slice(0, 5));
  const latest = (await get(sim, '/api/v3/aggTrades?symbol=BTCUSDT')).body as AggTrade[];
  assert.equal(latest.length, 500);
  assert.ok(latest.at(-1)!.T <= NOW && latest.at(-1)!.T > NOW - MINUTE);
  const usdm = (await get(sim, `/fapi/v1/aggTrades?symbol=BTCUSDT&startTime=${start}&endTime=${end}&limit=3`))
    .body as AggTrade[];
  assert.deepEqual(Object.keys(usdm[0]!), ['a', 'p', 'q', 'f', 'l', 'T', 'm'], 'USD-M has no M field');
  assert.deepEqual(
    (await get(sim, `/fapi/v1/aggTrades?symbol=BTCUSDT&startTime=${start}&endTime=${start + 3_600_000}`)).body,
    { code: -1127, msg: 'More than 1 hours between startTime and endTime.' },
  );
});

test('the stand-in reports its own counters at /_sim/stats, outside the Binance paths and their weight', async (t) => {
  const simulator = await startExchangeSimulator({ requestLogSize: 10 });
  t.after(() => simulator.close());
  await (await fetch(`${simulator.url}/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=10`)).text();
  const stats = (await (await fetch(`${simulator.url}/_sim/stats`)).json()) as {
    requests: number;
    byStatus: Record<string, number>;
    weightByWindow: { spot: Array<{ used: number }> };
    recent?: unknown;
  };
  assert.equal(stats.requests, 1);
  assert.equal(stats.byStatus['200'], 1);
  assert.equal(stats.weightByWindow.spot.at(-1)?.used, 2);
  assert.equal(stats.recent, undefined);
  const withRecent = (await (await fetch(`${simulator.url}/_sim/stats?recent=1`)).json()) as { recent: unknown[] };
  assert.equal(withRecent.recent.length, 1);
});
