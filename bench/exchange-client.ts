/**
 * Exchange benchmark: prints one JSON document.
 *
 *   node bench/exchange-client.ts [--concurrency 8] [--days 365]
 *
 * - `backfill`: the Binance REST client fetching `days` of BTCUSDT 1m klines (pages of
 *   1000, `concurrency` pages in flight) from the exchange simulator with the weight budget
 *   lifted: candles/s end to end (simulator and client share this one process and CPU).
 * - `csv`: the same through the CSV source (the repository's USD-M fixture, 1500 per page,
 *   repeated), to show the cost of serving real files.
 * - `governed`: four client instances sharing the simulator's real 6000/min budget on a
 *   clock 60× faster than the wall clock: 429s and 418s seen, and the share of the budget
 *   used per full window (Binance's budget caps a backfill at 6000 / 2 × 1000 = 3 M
 *   candles a minute per IP, 50 000 candles/s).
 */
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Market } from '@streamforge/core/contracts';
import { BinanceRestClient, scaledTime } from '@streamforge/exchange';
import { startExchangeSimulator } from '@streamforge/simulator';

const { values } = parseArgs({ options: { concurrency: { type: 'string' }, days: { type: 'string' } } });
const concurrency = Number(values.concurrency ?? 8);
const days = Number(values.days ?? 365);
const MINUTE = 60_000;

/** Fetches `pages` pages starting at `start`, `parallel` at a time; returns the candle count. */
async function backfill(
  client: BinanceRestClient,
  market: Market,
  symbol: string,
  start: number,
  pages: number,
  pageMinutes: number,
  parallel: number,
): Promise<number> {
  let next = 0;
  let candles = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let page = next++; page < pages; page = next++) {
        const rows = await client.klines({
          market,
          symbol,
          interval: '1m',
          startTime: start + page * pageMinutes * MINUTE,
          limit: pageMinutes,
        });
        candles += rows.length;
      }
    }),
  );
  return candles;
}

async function lifted(): Promise<Record<string, unknown>> {
  const sim = await startExchangeSimulator({ weightLimit: Number.POSITIVE_INFINITY, requestLogSize: 0 });
  const client = new BinanceRestClient({
    baseUrls: { spot: sim.url, usdm: sim.url },
    weightLimits: { spot: Number.POSITIVE_INFINITY },
    connections: concurrency,
  });
  await backfill(client, 'spot', 'BTCUSDT', Date.UTC(2022, 0, 1), 20, 1000, concurrency); // warm-up
  const pages = Math.ceil((days * 1440) / 1000);
  const started = performance.now();
  const candles = await backfill(client, 'spot', 'BTCUSDT', Date.UTC(2023, 0, 1), pages, 1000, concurrency);
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  await sim.close();
  return {
    candles,
    requests: pages,
    seconds: Number(seconds.toFixed(3)),
    candlesPerSecond: Math.round(candles / seconds),
    requestsPerSecond: Math.round(pages / seconds),
  };
}

async function csv(): Promise<Record<string, unknown>> {
  const klinesDir = fileURLToPath(new URL('../test/fixtures/binance/klines/', import.meta.url));
  const sim = await startExchangeSimulator({ klinesDir, weightLimit: Number.POSITIVE_INFINITY, requestLogSize: 0 });
  const client = new BinanceRestClient({
    baseUrls: { spot: sim.url, usdm: sim.url },
    weightLimits: { usdm: Number.POSITIVE_INFINITY },
    connections: concurrency,
  });
  const requests = 600;
  let next = 0;
  let candles = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < requests; i = next++) {
        const rows = await client.klines({
          market: 'usdm',
          symbol: 'BTCUSDT',
          interval: '1m',
          startTime: Date.UTC(2022, 8, 5) + (i % 2) * 1380 * MINUTE,
          limit: 1500,
        });
        candles += rows.length;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  await sim.close();
  return { candles, requests, seconds: Number(seconds.toFixed(3)), candlesPerSecond: Math.round(candles / seconds) };
}

async function governed(): Promise<Record<string, unknown>> {
  const time = scaledTime(60, Date.UTC(2024, 7, 1, 12, 0, 50));
  const sim = await startExchangeSimulator({ clock: time.now, requestLogSize: 0 });
  const clients = Array.from(
    { length: 4 },
    () => new BinanceRestClient({ baseUrls: { spot: sim.url }, time, connections: 4 }),
  );
  const started = performance.now();
  // small pages keep the run short: the budget, not the CPU, is the bottleneck
  const candles = (
    await Promise.all(
      clients.map((client, i) =>
        backfill(client, 'spot', 'ETHUSDT', Date.UTC(2021, 0, 1) + i * 10_000_000 * MINUTE, 2500, 1, 4),
      ),
    )
  ).reduce((a, b) => a + b, 0);
  const seconds = (performance.now() - started) / 1000;
  const stats = sim.stats();
  const windows = stats.weightByWindow.spot.slice(1, -1).map((w) => w.used); // full windows only
  await Promise.all(clients.map((c) => c.close()));
  await sim.close();
  return {
    instances: 4,
    requests: stats.requests,
    rateLimited: stats.rateLimited,
    banned: stats.banned,
    fullWindowsUsedWeight: windows,
    budgetUsedInFullWindows:
      windows.length === 0 ? null : Number((windows.reduce((a, b) => a + b, 0) / windows.length / 6000).toFixed(3)),
    candles,
    seconds: Number(seconds.toFixed(3)),
  };
}

const report = {
  bench: 'exchange-client',
  node: process.version,
  cpus: availableParallelism(),
  cpu: cpus()[0]?.model,
  concurrency,
  backfill: await lifted(),
  csv: await csv(),
  governed: await governed(),
};
console.log(JSON.stringify(report, null, 2));
