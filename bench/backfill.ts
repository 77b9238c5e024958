/**
 * The main job's speed, measured in one run and printed as JSON:
 *
 *  - end to end: a backfill through the whole local stack (manager API → loader-api pages →
 *    Kafka → dispatcher → arango-connector → SQLite), the simulator's weight budget lifted;
 *  - the raw insert rate of the same store (the ceiling the pipeline works under);
 *  - `seed_design`, the naive baseline: one Kafka message per candle, one insert per candle;
 *  - the share of the exchange's real weight budget (6000/min) the loaders use, with the
 *    429 and 418 answers the simulator gave.
 *
 *   node bench/backfill.ts [--symbols 3] [--range 2023-01-01:2024-01-01] [--budget-seconds 150]
 *                          [--baseline earlier-run.json]
 *
 * `--baseline` names the JSON of an earlier run of this benchmark (another commit, measured
 * in the same session on the same machine): its end-to-end rate is kept in the output, with
 * this run's ratio to it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createBusConnection,
  createEventProducer,
  ensureTopics,
  startRecordConsumer,
  waitForKafka,
} from '@streamforge/core/bus';
import { klineFromRow, type BinanceKlineRow, type KlineRecord } from '@streamforge/core/contracts';
import { startLocalBroker, PROJECT_ROOT } from '@streamforge/platform';
import { openStore } from '@streamforge/core/store';
import { startTestStack, uniqueName, type TestStack } from '@streamforge/testing';

const { values } = parseArgs({
  options: {
    symbols: { type: 'string', default: '3' },
    range: { type: 'string', default: '2023-01-01:2024-01-01' },
    'budget-seconds': { type: 'string', default: '150' },
    'seed-candles': { type: 'string', default: '5000' },
    'skip-budget': { type: 'boolean', default: false },
    // A short backfill on the same stack before the timed one: the broker's JIT and the
    // functions' first instances are then warm, as in a running cluster.
    'warmup-range': { type: 'string', default: '2019-11-01:2020-01-01' },
    baseline: { type: 'string' },
  },
});

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'XRPUSDT', 'ADAUSDT'].slice(0, Number(values.symbols));
const scratch = mkdtempSync(join(tmpdir(), 'sf-bench-'));
const broker = await startLocalBroker({ dataDir: join(scratch, 'kafka') });
process.env.KAFKA_BROKERS = broker.brokers;
await waitForKafka(createBusConnection({ brokers: [broker.brokers] }));

interface Workflow {
  queue_id: string;
  status: string;
  error?: string;
  collection_name: string;
  stored?: { records_written: number };
}

async function api<T>(stack: TestStack, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${stack.state.api_url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function untilFinal(stack: TestStack, ids: string[]): Promise<Workflow[]> {
  for (;;) {
    const all = await Promise.all(ids.map((id) => api<Workflow>(stack, 'GET', `/workflows/${id}`)));
    if (all.every((w) => ['completed', 'error', 'stopped'].includes(w.status))) return all;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** End to end: every symbol's range at once, timed from the first POST to the last completion. */
async function endToEnd(): Promise<Record<string, unknown>> {
  const stack = await startTestStack({ EXCHANGE: 'simulator', SIM_WEIGHT_LIMIT: 'Infinity', LOG_LEVEL: 'warn' });
  try {
    if (values['warmup-range'] !== '') {
      const warmup = await api<Workflow>(stack, 'POST', '/workflows', {
        symbol: 'LTCUSDT',
        type: 'api_candles_1m',
        time_range: values['warmup-range'],
      });
      await untilFinal(stack, [warmup.queue_id]);
    }
    const started = performance.now();
    const created = await Promise.all(
      SYMBOLS.map((symbol) =>
        api<Workflow>(stack, 'POST', '/workflows', { symbol, type: 'api_candles_1m', time_range: values.range }),
      ),
    );
    const done = await untilFinal(
      stack,
      created.map((w) => w.queue_id),
    );
    const seconds = (performance.now() - started) / 1000;
    const candles = done.reduce((sum, w) => sum + (w.stored?.records_written ?? 0), 0);
    if (done.some((w) => w.status !== 'completed'))
      throw new Error(`backfill failed: ${JSON.stringify(done.map((w) => [w.status, w.error]))}`);
    return {
      symbols: SYMBOLS.length,
      range: values.range,
      interval: '1m',
      candles,
      seconds: round(seconds),
      candles_per_s: Math.round(candles / seconds),
    };
  } finally {
    await stack.down();
  }
}

function syntheticKlines(count: number): KlineRecord[] {
  const start = Date.UTC(2023, 0, 1);
  return Array.from({ length: count }, (_, i) => {
    const open = start + i * 60_000;
    const row: BinanceKlineRow = [
      open,
      '16541.77000000',
      '16545.70000000',
      '16508.39000000',
      '16529.67000000',
      '436.48357000',
      open + 59_999,
      '7214629.35867229',
      1498,
      '217.99477200',
      '3603235.28703572',
      '0',
    ];
    return klineFromRow('BTCUSDT', '1m', row);
  });
}

/** The same store, written directly in batches of 1000: what the pipeline could at best reach. */
async function rawInsert(count: number): Promise<Record<string, unknown>> {
  const store = await openStore(`sqlite:${join(scratch, 'raw.sqlite')}`);
  const records = syntheticKlines(count);
  const started = performance.now();
  for (let i = 0; i < records.length; i += 1000)
    await store.writeBatch({ collection: 'raw_klines', records: records.slice(i, i + 1000) });
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  return { records: count, batch: 1000, seconds: round(seconds), records_per_s: Math.round(count / seconds) };
}

/** The naive baseline: every candle its own Kafka message (sent and awaited), its own insert. */
async function seedDesign(count: number): Promise<Record<string, unknown>> {
  const kafka = createBusConnection({ brokers: [broker.brokers], clientId: 'seed-bench' });
  const topic = uniqueName('seed-candles');
  await ensureTopics(kafka, {
    prefix: '',
    plan: [{ name: topic, partitions: 1, retentionMs: 3_600_000, purpose: 'bench' }],
  });
  const store = await openStore(`sqlite:${join(scratch, 'seed.sqlite')}`);
  const producer = await createEventProducer(kafka, { topicPrefix: '' });
  const records = syntheticKlines(count);
  let stored = 0;
  let resolveDone: () => void = () => undefined;
  const allStored = new Promise<void>((r) => {
    resolveDone = r;
  });
  const consumer = await startRecordConsumer({
    connection: kafka,
    groupId: uniqueName('seed'),
    topics: [topic],
    from: 'earliest',
    commit: true,
    maxWaitMs: 100,
    handle: async (record) => {
      await store.writeBatch({ collection: 'seed_klines', records: [JSON.parse(String(record.value)) as KlineRecord] });
      if (++stored === count) resolveDone();
    },
  });
  const started = performance.now();
  for (const record of records)
    await producer.sendRecords(topic, [{ key: record.symbol, value: JSON.stringify(record) }]);
  await allStored;
  const seconds = (performance.now() - started) / 1000;
  await consumer.stop();
  await producer.disconnect();
  await store.close();
  return { candles: count, seconds: round(seconds), candles_per_s: Math.round(count / seconds) };
}

/** Binance's real budget: how much of it the loaders use per full minute window, and what it cost. */
async function budgetShare(seconds: number): Promise<Record<string, unknown>> {
  const stack = await startTestStack({ EXCHANGE: 'simulator', LOG_LEVEL: 'warn' });
  try {
    const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT'];
    const created = await Promise.all(
      symbols.map((symbol) =>
        api<Workflow>(stack, 'POST', '/workflows', {
          symbol,
          type: 'api_candles_1m',
          time_range: '2020-01-01:2025-01-01',
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, seconds * 1000));
    await Promise.all(created.map((w) => api(stack, 'POST', `/workflows/${w.queue_id}/stop`).catch(() => undefined)));
    const stats = (await (await fetch(`${stack.state.exchange_url}/_sim/stats`)).json()) as SimulatorStats;
    const windows = (stats.weightByWindow?.spot ?? []).map((w) => ({ start: w.windowStart, used: w.used }));
    // The first and the last windows are partial (the run starts and stops inside them).
    const full = windows.slice(1, -1);
    return {
      limit_per_minute: 6000,
      windows: windows.map((w) => ({
        start: new Date(w.start).toISOString(),
        used: w.used,
        share: round(w.used / 6000),
      })),
      full_windows: full.length,
      share_of_budget_used: full.length > 0 ? round(full.reduce((s, w) => s + w.used, 0) / (6000 * full.length)) : null,
      http_429: stats.byStatus?.['429'] ?? 0,
      http_418: stats.byStatus?.['418'] ?? 0,
    };
  } finally {
    await stack.down();
  }
}

interface SimulatorStats {
  byStatus?: Record<string, number>;
  weightByWindow?: Record<string, Array<{ windowStart: number; used: number }>>;
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

try {
  const e2e = await endToEnd();
  const raw = await rawInsert(Math.min(Number(e2e.candles), 600_000));
  const seed = await seedDesign(Number(values['seed-candles']));
  const budget = values['skip-budget'] ? null : await budgetShare(Number(values['budget-seconds']));
  const e2eRate = Number(e2e.candles_per_s);
  const baseline =
    values.baseline === undefined
      ? undefined
      : (JSON.parse(readFileSync(values.baseline, 'utf8')) as {
          end_to_end: { candles_per_s: number };
          project?: string;
          commit?: string;
        });
  console.log(
    JSON.stringify(
      {
        bench: 'backfill',
        node: process.version,
        cores: availableParallelism(),
        cpu: cpus()[0]?.model.trim(),
        end_to_end: e2e,
        raw_store_insert: raw,
        seed_design: seed,
        ratios: {
          end_to_end_vs_raw_insert: round(e2eRate / Number(raw.records_per_s)),
          end_to_end_vs_seed_design: round(e2eRate / Number(seed.candles_per_s)),
          ...(baseline ? { end_to_end_vs_baseline: round(e2eRate / baseline.end_to_end.candles_per_s) } : {}),
        },
        ...(baseline
          ? {
              baseline: {
                file: values.baseline,
                commit: baseline.commit ?? null,
                end_to_end_candles_per_s: baseline.end_to_end.candles_per_s,
              },
            }
          : {}),
        exchange_budget: budget,
        goals: { end_to_end_candles_per_s: 100_000, vs_raw_insert: 0.33, vs_seed_design: 10, share_of_budget: 0.9 },
        project: PROJECT_ROOT.split('/').at(-1),
        commit: gitCommit(),
      },
      null,
      2,
    ),
  );
} finally {
  await broker.stop();
  rmSync(scratch, { recursive: true, force: true });
}
