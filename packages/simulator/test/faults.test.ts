import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { StreamForgeError } from '@streamforge/core/errors';
import { BinanceRestClient } from '@streamforge/exchange';
import { startExchangeSimulator } from '../src/index.ts';

const N = 400;

test('a 5xx rate answers about that fraction with 500/502/503 and Binance-like bodies', async (t) => {
  const sim = await startExchangeSimulator({ faults: { errorRate: 0.3, seed: 7 } });
  t.after(() => sim.close());
  const statuses: number[] = [];
  for (let i = 0; i < N; i++) {
    const response = await fetch(`${sim.url}/api/v3/ping`);
    const body = (await response.json()) as { code?: number; msg?: string };
    statuses.push(response.status);
    assert.ok(response.headers.get('x-mbx-used-weight-1m') !== null, 'every response carries the used weight');
    if (response.status >= 500) {
      assert.ok([500, 502, 503].includes(response.status));
      assert.equal(body.code, response.status === 503 ? -1008 : -1000);
    }
  }
  const failed = statuses.filter((s) => s >= 500).length;
  assert.ok(failed > 0.2 * N && failed < 0.4 * N, `${failed} of ${N} answered 5xx`);
  assert.deepEqual(new Set(statuses.filter((s) => s >= 500)), new Set([500, 502, 503]));
  sim.setFaults({ errorRate: 0 });
  assert.equal((await fetch(`${sim.url}/api/v3/ping`)).status, 200, 'the knob turns off at run time');
});

test('dropped connections end about that fraction of requests without any response', async (t) => {
  const sim = await startExchangeSimulator({ faults: { dropRate: 0.25, seed: 3 } });
  const agent = new Agent({ connections: 1 });
  t.after(async () => {
    await agent.close();
    await sim.close();
  });
  let dropped = 0;
  for (let i = 0; i < N; i++) {
    try {
      const response = await request(`${sim.url}/api/v3/time`, { dispatcher: agent });
      await response.body.text();
    } catch {
      dropped += 1;
    }
  }
  assert.ok(dropped > 0.15 * N && dropped < 0.35 * N, `${dropped} of ${N} dropped`);
  assert.equal(sim.stats().dropped, dropped, 'each drop is one request the client saw fail');
  assert.equal(sim.stats().byStatus.dropped, dropped);
});

test('the same seed injects the same faults', async (t) => {
  const run = async (): Promise<number[]> => {
    const sim = await startExchangeSimulator({ faults: { errorRate: 0.5, seed: 11 } });
    t.after(() => sim.close());
    const statuses: number[] = [];
    for (let i = 0; i < 50; i++) statuses.push((await fetch(`${sim.url}/api/v3/ping`)).status);
    return statuses;
  };
  assert.deepEqual(await run(), await run());
});

test('added latency reaches the client: one with a shorter timeout fails transiently, then succeeds without it', async (t) => {
  const sim = await startExchangeSimulator({ faults: { latencyMs: 300, jitterMs: 50 } });
  const client = new BinanceRestClient({ baseUrls: { spot: sim.url }, timeoutMs: 30, maxAttempts: 1 });
  t.after(async () => {
    await client.close();
    await sim.close();
  });
  const error = await client.ping().then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(StreamForgeError.is(error) && error.code === 'SF_DEPENDENCY_UNAVAILABLE', String(error));
  sim.setFaults({ latencyMs: 0, jitterMs: 0 });
  await client.ping();
});

test('a failing symbol gets 503 "overloaded" for its market data every time, while exchangeInfo still lists it and other symbols answer', async (t) => {
  const sim = await startExchangeSimulator({ faults: { failingSymbols: ['ETHUSDT'] } });
  t.after(() => sim.close());
  const klines = (symbol: string) =>
    fetch(`${sim.url}/api/v3/klines?symbol=${symbol}&interval=1m&startTime=${Date.UTC(2024, 0, 1)}&limit=10`);
  for (let i = 0; i < 3; i++) {
    const failing = await klines('ETHUSDT');
    assert.equal(failing.status, 503);
    assert.deepEqual(await failing.json(), {
      code: -1008,
      msg: 'Server is currently overloaded with other requests. Please try again in a few minutes.',
    });
  }
  assert.equal((await fetch(`${sim.url}/api/v3/aggTrades?symbol=ETHUSDT&limit=5`)).status, 503);
  assert.equal((await klines('BTCUSDT')).status, 200);
  assert.equal((await fetch(`${sim.url}/api/v3/exchangeInfo?symbol=ETHUSDT`)).status, 200);
  sim.setFaults({ failingSymbols: [] });
  assert.equal((await klines('ETHUSDT')).status, 200, 'the knob turns off at run time');
});
