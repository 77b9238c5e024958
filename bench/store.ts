/**
 * Store benchmark: prints one JSON document.
 *
 *   node bench/store.ts [--records N] [--runs N]
 *
 * The raw write rate of the SQLite adapter (the yardstick of the 100k candles/s end-to-end
 * goal), for realistic 1m klines (prices from the real BTCUSDT candles in test/fixtures) in
 * batches of 1000 through `writeBatch`, each run on a fresh file in a temporary folder:
 *
 * - insert: new keys, as a backfill writes them;
 * - insert with page progress: the same, each batch also counting a page part (the
 *   connector's path);
 * - rewrite, same values: the same batches again (a redelivery);
 * - rewrite, changed values: the same keys with another close price (live candle updates);
 * - baseline, measured in the same run: the naive way, one record per write and so one
 *   transaction per record (`writeBatch` with a single record).
 *
 * Rates are records/s of the median run; latencies are per writeBatch call.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { DataRecord } from '@streamforge/core/contracts';
import { openSqliteStore, type SqliteStore, type WriteBatchInput } from '@streamforge/core/store';
import { klineSeries } from '../packages/core/test/store/kline-fixture.ts';
import { quantile } from './quantile.ts';

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const RECORDS = arg('--records', 300_000);
const RUNS = arg('--runs', 3);
const BATCH = 1000;
const BASELINE_RECORDS = Math.min(RECORDS, 20_000);
const COLLECTION = 'btcusdt_api_candles_1m_2024_08_01';

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

interface Measure {
  records_per_s: number;
  batch_ms: { p50: number; p99: number };
}

/** Writes `batches` one after the other, timing each call. */
async function timed(
  store: SqliteStore,
  batches: WriteBatchInput[],
): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  const start = performance.now();
  for (const batch of batches) {
    const t0 = performance.now();
    await store.writeBatch(batch);
    latencies.push(performance.now() - t0);
  }
  return { seconds: (performance.now() - start) / 1000, latencies };
}

function summarise(runs: Array<{ seconds: number; latencies: number[] }>, records: number): Measure {
  const rates = runs.map((r) => records / r.seconds);
  const median = quantile(rates, 0.5);
  const run = runs[rates.indexOf(median)];
  return {
    records_per_s: Math.round(median),
    batch_ms: { p50: round(quantile(run.latencies, 0.5)), p99: round(quantile(run.latencies, 0.99)) },
  };
}

const records: DataRecord[] = klineSeries(RECORDS);
const changed: DataRecord[] = records.map((r) => ({ ...r, close: `${r.close}1` }));
const batchesOf = (items: DataRecord[], withProgress = false): WriteBatchInput[] => {
  const pages = Math.ceil(items.length / BATCH);
  return Array.from({ length: pages }, (_, page) => ({
    collection: COLLECTION,
    records: items.slice(page * BATCH, (page + 1) * BATCH),
    ...(withProgress
      ? {
          progress: {
            queue_id: 'wf-btcusdt-api_candles_1m-20240801-bench1',
            page,
            pages,
            part: 0,
            parts: 1,
            records: BATCH,
          },
        }
      : {}),
  }));
};

async function withFreshStore<T>(body: (store: SqliteStore) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-bench-store-'));
  const store = await openSqliteStore(join(dir, 'store.sqlite'));
  try {
    return await body(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Warm-up (JIT, file system caches), not measured.
await withFreshStore((store) => timed(store, batchesOf(records.slice(0, 50_000))));

const insert: Array<{ seconds: number; latencies: number[] }> = [];
const insertWithProgress: typeof insert = [];
const rewriteSame: typeof insert = [];
const rewriteChanged: typeof insert = [];
const baseline: typeof insert = [];
for (let run = 0; run < RUNS; run++) {
  await withFreshStore(async (store) => {
    insert.push(await timed(store, batchesOf(records)));
    rewriteSame.push(await timed(store, batchesOf(records)));
    rewriteChanged.push(await timed(store, batchesOf(changed)));
  });
  await withFreshStore(async (store) => {
    insertWithProgress.push(await timed(store, batchesOf(records, true)));
  });
  await withFreshStore(async (store) => {
    baseline.push(
      await timed(
        store,
        records.slice(0, BASELINE_RECORDS).map((r) => ({ collection: COLLECTION, records: [r] })),
      ),
    );
  });
}

const sqliteVersion = (() => {
  const db = new DatabaseSync(':memory:');
  const { v } = db.prepare('SELECT sqlite_version() AS v').get() as { v: string };
  db.close();
  return v;
})();
const result = {
  bench: 'store',
  adapter: 'sqlite',
  node: process.version,
  sqlite: sqliteVersion,
  cpus: cpus().length,
  cpu_model: cpus()[0]?.model,
  records: RECORDS,
  batch_size: BATCH,
  runs: RUNS,
  record_bytes_json: Math.round(JSON.stringify(records.slice(0, 1000)).length / 1000),
  insert: summarise(insert, RECORDS),
  insert_with_page_progress: summarise(insertWithProgress, RECORDS),
  rewrite_same_values: summarise(rewriteSame, RECORDS),
  rewrite_changed_values: summarise(rewriteChanged, RECORDS),
  baseline_one_record_per_transaction: { records: BASELINE_RECORDS, ...summarise(baseline, BASELINE_RECORDS) },
  speedup_insert_vs_baseline: 0,
};
result.speedup_insert_vs_baseline = round(
  result.insert.records_per_s / result.baseline_one_record_per_transaction.records_per_s,
  1,
);
console.log(JSON.stringify(result, null, 2));
