import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startExchangeSimulator, type ExchangeSimulator, type ExchangeSimulatorOptions } from '../src/index.ts';

/** A simulator whose clock the test moves by hand. */
async function simulator(
  t: TestContext,
  options: ExchangeSimulatorOptions = {},
): Promise<{ sim: ExchangeSimulator; clock: { now: number } }> {
  const clock = { now: Date.UTC(2024, 7, 1, 12, 0, 15) };
  const sim = await startExchangeSimulator({ clock: () => clock.now, ...options });
  t.after(() => sim.close());
  return { sim, clock };
}

async function call(
  sim: ExchangeSimulator,
  path: string,
): Promise<{ status: number; used: number; retryAfter: string | null; body: unknown }> {
  const response = await fetch(`${sim.url}${path}`);
  return {
    status: response.status,
    used: Number(response.headers.get('x-mbx-used-weight-1m')),
    retryAfter: response.headers.get('retry-after'),
    body: await response.json().catch(() => undefined),
  };
}

const KLINES = '/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1';

test("X-MBX-USED-WEIGHT-1M grows by each endpoint's documented weight, per market", async (t) => {
  const { sim } = await simulator(t);
  const spot: Array<[string, number]> = [
    [KLINES, 2],
    ['/api/v3/aggTrades?symbol=BTCUSDT&limit=1', 4],
    ['/api/v3/exchangeInfo', 20],
    ['/api/v3/ping', 1],
    ['/api/v3/time', 1],
    ['/api/v3/klines?symbol=NOPE&interval=1m', 2],
  ];
  let used = 0;
  for (const [path, weight] of spot) {
    const response = await call(sim, path);
    used += weight;
    assert.equal(response.used, used, path);
  }
  const usdm: Array<[string, number]> = [
    ['limit=99', 1],
    ['limit=100', 2],
    ['limit=499', 2],
    ['limit=500', 5],
    ['limit=1000', 5],
    ['limit=1001', 10],
    ['limit=1500', 10],
    ['', 5],
  ];
  used = 0;
  for (const [limit, weight] of usdm) {
    used += weight;
    assert.equal((await call(sim, `/fapi/v1/klines?symbol=BTCUSDT&interval=1m&${limit}`)).used, used, limit);
  }
  const { used: legacy } = await call(sim, '/fapi/v1/ping');
  assert.equal(legacy, used + 1);
  const response = await fetch(`${sim.url}/fapi/v1/ping`);
  assert.equal(response.headers.get('x-mbx-used-weight'), String(used + 2), 'the legacy header too');
  assert.equal((await call(sim, '/api/v3/nope')).status, 404);
});

test('past the budget a request gets 429, Retry-After until the minute ends, and -1003; the next minute starts from zero', async (t) => {
  const { sim, clock } = await simulator(t, { weightLimit: 10 });
  for (let i = 1; i <= 5; i++) assert.equal((await call(sim, KLINES)).used, 2 * i);
  const refused = await call(sim, KLINES);
  assert.equal(refused.status, 429);
  assert.equal(refused.retryAfter, '45', 'the window ends at 12:01:00, 45 s after 12:00:15');
  assert.equal(refused.used, 10, 'a refused request is not counted');
  assert.deepEqual(refused.body, {
    code: -1003,
    msg: 'Too much request weight used; current limit is 10 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.',
  });
  clock.now = Date.UTC(2024, 7, 1, 12, 1, 0); // fixed windows: the counter resets at the minute boundary
  const next = await call(sim, KLINES);
  assert.deepEqual([next.status, next.used], [200, 2]);
  assert.equal(sim.stats().rateLimited, 1);
  assert.deepEqual(
    sim.stats().weightByWindow.spot.map((w) => w.used),
    [10, 2],
  );
});

test('an IP that keeps sending while refused is banned with 418, and bans double', async (t) => {
  const { sim, clock } = await simulator(t, { weightLimit: 4, banAfter: 3 });
  await call(sim, KLINES);
  await call(sim, KLINES);
  for (let i = 0; i < 3; i++) assert.equal((await call(sim, KLINES)).status, 429);
  const ban = await call(sim, KLINES);
  const until = clock.now + 120_000;
  assert.equal(ban.status, 418);
  assert.equal(ban.retryAfter, '120');
  assert.deepEqual(ban.body, {
    code: -1003,
    msg: `Way too much request weight used; IP banned until ${until}. Please use WebSocket Streams for live updates to avoid bans.`,
  });
  clock.now += 60_000;
  const still = await call(sim, '/api/v3/ping');
  assert.deepEqual([still.status, still.retryAfter], [418, '60'], 'banned across windows, whatever the endpoint');
  clock.now = until;
  assert.equal((await call(sim, KLINES)).status, 200);
  await call(sim, KLINES);
  for (let i = 0; i < 3; i++) assert.equal((await call(sim, KLINES)).status, 429);
  const second = await call(sim, KLINES);
  assert.deepEqual([second.status, second.retryAfter], [418, '240'], 'a repeat offender is banned twice as long');
  assert.equal((await call(sim, '/fapi/v1/ping')).status, 200, 'USD-M keeps its own budget');
  assert.equal(sim.stats().banned, 3);
});

test('a lifted budget never answers 429, and the budget can change at run time', async (t) => {
  const { sim } = await simulator(t, { weightLimit: 10 });
  for (let i = 0; i < 5; i++) await call(sim, KLINES);
  assert.equal((await call(sim, KLINES)).status, 429);
  sim.setFaults({ weightLimit: Number.POSITIVE_INFINITY });
  const statuses = new Set<number>();
  for (let i = 0; i < 320; i++) statuses.add((await call(sim, '/api/v3/exchangeInfo?symbol=BTCUSDT')).status); // 6400 weight
  assert.deepEqual([...statuses], [200]);
  assert.equal((await call(sim, '/api/v3/ping')).used, 10 + 320 * 20 + 1, 'weight is still counted');
  const info = (await call(sim, '/api/v3/exchangeInfo')).body as { rateLimits: Array<{ limit: number }> };
  assert.equal(info.rateLimits[0]!.limit, 6000, 'exchangeInfo announces the nominal limit when lifted');
});
