import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { BinanceRestClient, WeightGovernor, scaledTime, type TimeSource } from '../src/index.ts';
import { startExchangeSimulator, type ExchangeSimulator } from '@streamforge/simulator';

const MINUTE = 60_000;
const START = Date.UTC(2023, 0, 1);

/** A Binance minute lasts 0.5 s of wall-clock time, for the simulator and the clients alike. */
async function fastExchange(
  t: TestContext,
  weightLimit: number,
  offsetSeconds = 40,
): Promise<{ sim: ExchangeSimulator; time: TimeSource }> {
  const time = scaledTime(120, Date.UTC(2024, 7, 1, 12, 0, offsetSeconds));
  const sim = await startExchangeSimulator({ clock: time.now, weightLimit });
  t.after(() => sim.close());
  return { sim, time };
}

function instance(t: TestContext, sim: ExchangeSimulator, time: TimeSource, limit: number): BinanceRestClient {
  const client = new BinanceRestClient({ baseUrls: { spot: sim.url }, time, weightLimits: { spot: limit } });
  t.after(() => client.close());
  return client;
}

/** Fetches `pages` pages of 1000 1m candles, `parallel` at a time, and checks each page. */
async function workload(client: BinanceRestClient, offset: number, pages: number, parallel: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let page = next++; page < pages; page = next++) {
      const startTime = START + (offset + page) * 1000 * MINUTE;
      const rows = await client.klines({ symbol: 'BTCUSDT', interval: '1m', startTime, limit: 1000 });
      assert.equal(rows.length, 1000);
      assert.equal(rows[0]![0], startTime);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

test('one instance that knows the budget never gets a 429', async (t) => {
  const { sim, time } = await fastExchange(t, 60);
  const client = instance(t, sim, time, 60);
  await workload(client, 0, 60, 3); // 120 weight: three windows at 57 each
  const stats = sim.stats();
  assert.equal(stats.rateLimited, 0);
  assert.equal(stats.banned, 0);
  assert.ok(
    stats.weightByWindow.spot.every((w) => w.used <= 57),
    JSON.stringify(stats.weightByWindow.spot),
  );
  assert.ok(client.stats().weightWaits > 0, 'it waited for new windows instead');
});

test('an instance learns from X-MBX-USED-WEIGHT-1M what others used, and waits for the next window', async (t) => {
  const { sim, time } = await fastExchange(t, 120, 10);
  const other = instance(t, sim, time, Number.POSITIVE_INFINITY);
  for (let i = 0; i < 50; i++) await other.ping(); // another instance spent 50 of 120
  const client = instance(t, sim, time, 120);
  await workload(client, 0, 50, 1);
  const stats = sim.stats();
  assert.equal(stats.rateLimited, 0);
  const firstWindow = Math.floor(stats.recent[0]!.time / MINUTE) * MINUTE;
  const inFirst = stats.recent.filter((r) => r.path === '/api/v3/klines' && r.time < firstWindow + MINUTE).length;
  assert.ok(inFirst <= 32, `${inFirst} requests in the first window: (114 - 50) / 2 at most`);
});

test('four instances sharing a small budget finish with no ban and few 429s', async (t) => {
  const { sim, time } = await fastExchange(t, 120);
  const clients = Array.from({ length: 4 }, () => instance(t, sim, time, 120));
  await Promise.all(clients.map((client, i) => workload(client, i * 100, 30, 2))); // 240 weight in all
  const stats = sim.stats();
  const windows = stats.weightByWindow.spot;
  assert.equal(stats.banned, 0);
  assert.equal(stats.requests - stats.rateLimited, 120, 'every page was fetched once');
  assert.ok(stats.rateLimited <= 2 * windows.length, `${stats.rateLimited} 429s over ${windows.length} windows`);
  assert.ok(windows.length >= 3, 'the budget spread the work over several windows');
  const perClient = clients.map((c) => c.stats());
  assert.equal(
    perClient.reduce((n, s) => n + s.rateLimited, 0),
    stats.rateLimited,
  );
  assert.ok(perClient.every((s) => s.banned === 0));
});

test('a governor admits one request into an empty window whatever its weight, and reports its waits', async () => {
  const time = scaledTime(1000, Date.UTC(2024, 7, 1, 12, 0, 59));
  const governor = new WeightGovernor({ limit: 10, time, jitterMs: 0, boundaryMarginMs: 0 });
  const big = await governor.acquire(50);
  governor.release(big, { status: 200, usedWeight: 50 });
  const next = await governor.acquire(2);
  assert.ok(next.window > big.window, 'the next request waits for the next window');
  governor.release(next, { status: 200, usedWeight: 2 });
  assert.equal(governor.stats().waits, 1);
  assert.equal(governor.stats().usedWeight, 2);
});
