/**
 * Charts benchmark: prints one JSON document.
 *
 *   node bench/charts.ts [--runs N] [--max-points N]
 *
 * A year of 1m BTCUSDT candles (525,600 minus a day cut out as a gap; prices from the real
 * candles in test/fixtures) written straight into a SQLite store (WAL checkpointed: a store at
 * rest), served by the manager's API and console on it. For the last day, month and year of the series:
 *
 * - api_ms: GET /collections/{name}/candles (max_points 2000), over HTTP, median of the runs;
 *   event_loop_stall_max_ms: the longest the server's event loop stood still meanwhile (SQLite
 *   statements run synchronously; a long range is grouped in pieces);
 * - store_ms: the store's aggregateCandles alone, the same query;
 * - page_load_ms: Chromium opening `/console#collection=…&from=…&to=…` until the chart has
 *   drawn (script, stream, the candles read, the chart drawn), median; skipped without
 *   /usr/bin/chromium;
 * - baseline, measured in the same run: listRecords_ms, every record of the range read
 *   through the store's listRecords in pages of 5000 (what a chart without server-side
 *   aggregation would have to read, before sending it anywhere).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { chromium } from 'playwright-core';
import { serveFunction } from '@streamforge/core/runtime';
import { openSqliteStore, type WorkflowRecord } from '@streamforge/core/store';
import { createLogger } from '@streamforge/core/telemetry';
import { registerApi } from '../functions/queue-manager/src/api.ts';
import { createWorkflowHub } from '../functions/queue-manager/src/console/hub.ts';
import { registerConsole } from '../functions/queue-manager/src/console/routes.ts';
import type { Manager } from '../functions/queue-manager/src/manager.ts';
import { klineSeries } from '../packages/core/test/store/kline-fixture.ts';
import { quantile } from './quantile.ts';

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const RUNS = arg('--runs', 5);
const MAX_POINTS = arg('--max-points', 2_000);
const CHROMIUM = '/usr/bin/chromium';
const MINUTE = 60_000;
const DAY = 1_440 * MINUTE;
const START = Date.UTC(2023, 0, 1);
const CANDLES = 525_600;
const END = START + CANDLES * MINUTE;
/** One day cut out in June: every range but the last day has a gap to find. */
const GAP = { from: Date.UTC(2023, 5, 1), to: Date.UTC(2023, 5, 2) };
const COLLECTION = 'btcusdt_api_candles_1m_2023_01_01';

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));
const median = (values: number[]): number => round(quantile(values, 0.5));

async function timedRuns(run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return median(times);
}

const dir = mkdtempSync(join(tmpdir(), 'sf-bench-charts-'));
const store = await openSqliteStore(join(dir, 'store.sqlite'));
const logger = createLogger({ service: 'queue-manager', level: 'silent' });
try {
  const writeStart = performance.now();
  const all = klineSeries(CANDLES, START).filter((r) => r.open_time < GAP.from || r.open_time >= GAP.to);
  for (let i = 0; i < all.length; i += 5_000)
    await store.writeBatch({ collection: COLLECTION, records: all.slice(i, i + 5_000) });
  const writeSeconds = (performance.now() - writeStart) / 1000;
  // A store at rest: what the writes left in the WAL is moved into the file, as SQLite does
  // by itself once the writers pause (reads through a large WAL are measurably slower).
  const raw = new DatabaseSync(join(dir, 'store.sqlite'));
  raw.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  raw.close();

  // The manager's routes on the store; no workflow is needed for a collection's chart.
  const manager = { listWorkflows: async (): Promise<WorkflowRecord[]> => [] } as unknown as Manager;
  const hub = createWorkflowHub();
  const running = await serveFunction(
    {
      handle: () => undefined,
      routes: async (app) => {
        await registerApi(app, { manager, store, token: '' });
        await registerConsole(app, { manager, store, hub, token: '', logger });
      },
    },
    { name: 'queue-manager', port: 0, host: '127.0.0.1', logger },
  );

  const ranges = {
    day: { from: END - DAY, to: END },
    month: { from: END - 30 * DAY, to: END },
    year: { from: START, to: END },
  };
  const browser = existsSync(CHROMIUM)
    ? await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] })
    : undefined;
  const results: Record<string, unknown> = {};
  try {
    for (const [name, range] of Object.entries(ranges)) {
      const url = `${running.url}/collections/${COLLECTION}/candles?from=${range.from}&to=${range.to}&max_points=${MAX_POINTS}`;
      const first = (await (await fetch(url)).json()) as {
        bucket: string;
        candles: unknown[];
        gaps: unknown[];
        stored: number;
      };
      const bytes = (await (await fetch(url)).text()).length;
      // The server runs in this process: how long its event loop stood still while answering.
      const stall = monitorEventLoopDelay({ resolution: 5 });
      stall.enable();
      const apiMs = await timedRuns(async () => (await fetch(url)).text());
      stall.disable();
      const query = {
        symbol: 'BTCUSDT',
        interval: '1m' as const,
        from: range.from,
        to: range.to,
        bucketOffsetMs: 0,
        maxGaps: MAX_POINTS,
      };
      const storeMs = await timedRuns(() =>
        store.aggregateCandles(COLLECTION, { ...query, bucketMs: bucketLength(first.bucket) }),
      );
      const listMs = await timedRuns(async () => {
        const high = `BTCUSDT:1m:${range.to}`;
        let after = `BTCUSDT:1m:${range.from - 1}`;
        for (;;) {
          const page = await store.listRecords(COLLECTION, { after, limit: 5_000 });
          const inRange = page.filter((r) => r.key < high);
          if (inRange.length < page.length || page.length < 5_000) break;
          after = page.at(-1)!.key;
        }
      });
      let pageLoadMs: number | undefined;
      if (browser) {
        const times: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
          const t0 = performance.now();
          await page.goto(`${running.url}/console#collection=${COLLECTION}&from=${range.from}&to=${range.to}`);
          await page.waitForSelector('#chart[data-state=ready][data-loads="1"]', { timeout: 60_000 });
          times.push(performance.now() - t0);
          await page.close();
        }
        pageLoadMs = median(times);
      }
      results[name] = {
        candles_in_range: first.stored,
        answered_candles: first.candles.length,
        bucket: first.bucket,
        gaps: first.gaps.length,
        answer_bytes: bytes,
        api_ms: apiMs,
        event_loop_stall_max_ms: round(stall.max / 1e6),
        store_ms: storeMs,
        ...(pageLoadMs === undefined ? { page_load_ms: null } : { page_load_ms: pageLoadMs }),
        baseline_listRecords_ms: listMs,
        listRecords_over_api: round(listMs / apiMs, 2),
      };
    }
  } finally {
    await browser?.close();
    await running.close();
  }
  console.log(
    JSON.stringify(
      {
        benchmark: 'charts',
        machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
        store: 'sqlite',
        series: {
          interval: '1m',
          candles: all.length,
          gap: GAP,
          written_in_s: round(writeSeconds),
          wal: 'checkpointed',
        },
        runs: RUNS,
        max_points: MAX_POINTS,
        page_load: browser
          ? 'chromium headless, 1440×900, the chart section about 850 px wide'
          : 'skipped: no chromium',
        ranges: results,
      },
      null,
      2,
    ),
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

/** A bucket's length from its label (`3m`, `4h`, `1d`, `2w`), as the route chose it. */
function bucketLength(label: string): number {
  const units: Record<string, number> = { s: 1_000, m: MINUTE, h: 60 * MINUTE, d: DAY, w: 7 * DAY };
  const match = /^(\d+)([smhdw])$/.exec(label);
  if (!match) throw new Error(`bucket ${label}`);
  return Number(match[1]) * units[match[2]!]!;
}
