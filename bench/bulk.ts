/**
 * Bulk history's speed, measured in one run and printed as JSON:
 *
 *  - end to end from the archives: `bulk_candles_1m` for a year of BTCUSDT, `bulk_agg_trades`
 *    for two days and `bulk_trades` (raw trades) for one, through the whole local stack (manager API →
 *    loader-producer reading the simulator's archive files → Kafka → dispatcher →
 *    arango-connector → SQLite), with the peak RSS of every loader-producer instance;
 *  - the raw insert rate of the same store for the same records (the ceiling);
 *  - the REST path for the same data under the exchange's real weight budget (6000/min):
 *    `api_*` workflows against the simulator keeping that budget, measured, not computed.
 *
 * aggTrades come at 50 ms apart by default, 1.7 M a day, about BTCUSDT's real density: there
 * the REST path is bound by the weight budget (4 per request of 1000 trades on spot, so at most
 * 25 k trades/s), which is what comparing bulk with REST is about. At a sparse density REST
 * never meets the budget and the comparison says nothing. Raw trades are the same trades split
 * (about 1.2 per aggregate trade, 2.1 M a day): no `api_*` type reads them, so their REST path
 * is `bulk_trades` over days the archive site has not published, paged by the hour through
 * historicalTrades (weight 25 per 1000 trades on spot: at most 4 k trades/s, a day in 9 minutes
 * or more). That run is asked for with `--rest-trades`; without it only the ceiling the weight
 * table gives is printed, labelled as computed.
 *
 * The simulator builds each archive file from its market data on first request (a dense day of
 * aggTrades takes 10 s of CPU), which a real archive does not: every file the run lists or reads
 * is built before the timed run, so the timing is the loader's, the broker's and the store's.
 * Each run prints the CPU seconds every kind of process spent (`cpu_seconds`): on 2 cores, the
 * share each part of the pipeline takes is what bounds the rate.
 *
 *   node bench/bulk.ts [--klines-range 2023-01-01:2024-01-01] [--trades-range 2024-03-04:2024-03-06]
 *                      [--raw-trades-range 2024-03-04:2024-03-05] [--trade-gap-ms 50] [--skip-rest] [--rest-trades]
 *                      [--warmup-range 2022-12-01:2023-01-01]
 */
import { readFileSync, mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBusConnection, waitForKafka } from '@streamforge/core/bus';
import { requestWeight, type DataRecord } from '@streamforge/core/contracts';
import { openStore } from '@streamforge/core/store';
import {
  ArchiveClient,
  archivePeriodEnd,
  bulkPlanPeriods,
  archiveZipPath,
  type ArchiveFileRef,
  type ArchiveSeries,
} from '@streamforge/exchange/archive';
import { startLocalBroker } from '@streamforge/platform';
import { stackApi, startTestStack, type TestStack, type WorkflowView } from '@streamforge/testing';
import { cpuSampler } from './process-cpu.ts';

const { values } = parseArgs({
  options: {
    'klines-range': { type: 'string', default: '2023-01-01:2024-01-01' },
    'trades-range': { type: 'string', default: '2024-03-04:2024-03-06' },
    'raw-trades-range': { type: 'string', default: '2024-03-04:2024-03-05' },
    'trade-gap-ms': { type: 'string', default: '50' },
    'skip-rest': { type: 'boolean', default: false },
    'rest-trades': { type: 'boolean', default: false },
    // A short bulk load on the same stack before the timed ones (another symbol, a month): the
    // broker's JIT and the functions' first instances are then warm, as in a running cluster
    // and as in bench/backfill.ts. '' times the cold start too.
    'warmup-range': { type: 'string', default: '2022-12-01:2023-01-01' },
  },
});

const scratch = mkdtempSync(join(tmpdir(), 'sf-bench-bulk-'));
const broker = await startLocalBroker({ dataDir: join(scratch, 'kafka') });
process.env.KAFKA_BROKERS = broker.brokers;
await waitForKafka(createBusConnection({ brokers: [broker.brokers] }));

/** Peak resident memory (VmHWM) of a process, in MiB; undefined once it is gone. */
function peakRssMiB(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmHWM:'));
    return line === undefined ? undefined : Number(line.split(/\s+/)[1]) / 1024;
  } catch {
    return undefined;
  }
}

/** Runs one workflow to its end, sampling the peak RSS of each instance of `fn` while it runs. */
async function timed(stack: TestStack, fn: string, request: Record<string, unknown>) {
  const peaks = new Map<number, number>();
  const sample = async (): Promise<void> => {
    const status = await stack.platformStatus();
    for (const { pid } of status.functions.find((f) => f.name === fn)?.instances ?? []) {
      const peak = pid === undefined ? undefined : peakRssMiB(pid);
      if (pid !== undefined && peak !== undefined) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, peak));
    }
  };
  const cpu = cpuSampler();
  const started = performance.now();
  const api = stackApi(() => stack.state.api_url);
  const created = await api.start(request);
  let done: WorkflowView;
  for (;;) {
    await sample();
    cpu.sample();
    done = await api.workflow(created.queue_id);
    if (['completed', 'error', 'stopped'].includes(done.status)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const seconds = (performance.now() - started) / 1000;
  if (done.status !== 'completed') throw new Error(`${request.type}: ${done.status} ${done.error}`);
  const records = done.stored?.records_written ?? 0;
  return {
    type: request.type,
    collection: done.collection_name,
    range: request.time_range,
    records,
    seconds: round(seconds),
    records_per_s: Math.round(records / seconds),
    instances: peaks.size,
    peak_rss_mib: round(Math.max(0, ...peaks.values())),
    // Every process on the machine, by kind: which part of the pipeline the 2 cores went to.
    cpu_seconds: cpu.seconds(),
  };
}

/**
 * The same store, written directly in batches of 1000 with the records the pipeline stored.
 * Read a page at a time and only the writes timed: millions of records held at once would
 * time this process's garbage collector, not the store.
 */
async function rawInsert(stack: TestStack, collection: string, kind: 'klines' | 'agg_trades' | 'trades') {
  const api = stackApi(() => stack.state.api_url);
  const store = await openStore(`sqlite:${join(scratch, `raw-${kind}.sqlite`)}`);
  let written = 0;
  let writing = 0;
  for (let after: string | undefined; ; ) {
    const { body } = await api.call<{ records: DataRecord[]; next_after?: string }>(
      'GET',
      `/collections/${collection}/records?limit=5000${after ? `&after=${encodeURIComponent(after)}` : ''}`,
    );
    const started = performance.now();
    for (let i = 0; i < body.records.length; i += 1000)
      await store.writeBatch({ collection: `raw_${kind}`, records: body.records.slice(i, i + 1000) });
    writing += performance.now() - started;
    written += body.records.length;
    if (!body.next_after) break;
    after = body.next_after;
  }
  const seconds = writing / 1000;
  await store.close();
  return { records: written, batch: 1000, seconds: round(seconds), records_per_s: Math.round(written / seconds) };
}

const round = (n: number): number => Math.round(n * 100) / 100;

const klines = { symbol: 'BTCUSDT', time_range: values['klines-range'] };
const trades = { symbol: 'BTCUSDT', time_range: values['trades-range'] };
const rawTrades = { symbol: 'BTCUSDT', time_range: values['raw-trades-range'] };

/**
 * Has the simulator build, before the timed run, every archive file the run will touch: those
 * its plan's listings name (the loader lists a page past the range's last file, and a listing
 * names a file's size and hash, which the simulator knows only once it has built the file) and
 * those it downloads. The listings are the loader's own (`ArchiveClient.inventory`), so what is
 * warmed follows what the loader asks for. Downloads come last: the simulator keeps the last 32
 * files built, and those are the ones read.
 */
async function warmArchive(stack: TestStack, series: ArchiveSeries, range: string, read: 'monthly' | 'daily') {
  const [from, to] = range.split(':').map((day) => Date.parse(`${day}T00:00:00Z`)) as [number, number];
  // A listing waits for the simulator to build every file it names: seconds each for dense trades.
  const archive = new ArchiveClient({ baseUrl: stack.state.exchange_url, timeoutMs: 600_000 });
  await archive.inventory(series, { start: from, end: to }, bulkPlanPeriods(series.kind));
  await archive.close();
  for (let at = from; at < to; ) {
    const file = { ...series, period: read, start: at } as ArchiveFileRef;
    await (await fetch(`${stack.state.exchange_url}/${archiveZipPath(file)}`)).arrayBuffer();
    at = archivePeriodEnd(file);
  }
}

const simEnv = { EXCHANGE: 'simulator', SIM_TRADE_GAP_MS: values['trade-gap-ms'], LOG_LEVEL: 'warn' };
const bulkStack = await startTestStack({ ...simEnv, SIM_WEIGHT_LIMIT: 'Infinity' });
let bulk: Record<string, unknown>;
try {
  // First, as its own listings build files the simulator keeps: the timed run's files are built after it.
  if (values['warmup-range'] !== '') {
    const warmup = await stackApi(() => bulkStack.state.api_url).start({
      symbol: 'ETHUSDT',
      type: 'bulk_candles_1m',
      time_range: values['warmup-range'],
    });
    const warm = await stackApi(() => bulkStack.state.api_url).final(warmup.queue_id);
    if (warm.status !== 'completed') throw new Error(`warm-up: ${warm.status} ${warm.error}`);
  }
  await warmArchive(
    bulkStack,
    { market: 'spot', kind: 'klines', symbol: 'BTCUSDT', interval: '1m' },
    klines.time_range,
    'monthly',
  );
  const klinesRun = await timed(bulkStack, 'loader-producer', { ...klines, type: 'bulk_candles_1m' });
  await warmArchive(bulkStack, { market: 'spot', kind: 'aggTrades', symbol: 'BTCUSDT' }, trades.time_range, 'daily');
  const tradesRun = await timed(bulkStack, 'loader-producer', { ...trades, type: 'bulk_agg_trades' });
  await warmArchive(bulkStack, { market: 'spot', kind: 'trades', symbol: 'BTCUSDT' }, rawTrades.time_range, 'daily');
  const rawTradesRun = await timed(bulkStack, 'loader-producer', { ...rawTrades, type: 'bulk_trades' });
  bulk = {
    klines: { ...klinesRun, raw_insert: await rawInsert(bulkStack, klinesRun.collection, 'klines') },
    agg_trades: { ...tradesRun, raw_insert: await rawInsert(bulkStack, tradesRun.collection, 'agg_trades') },
    trades: { ...rawTradesRun, raw_insert: await rawInsert(bulkStack, rawTradesRun.collection, 'trades') },
  };
} finally {
  await bulkStack.down();
}

/** What the 6000/min budget allows at most, in records/s: requests of 1000 rows, each charged its weight. */
const ceiling = (weight: number): number => Math.round(((6000 / weight) * 1000) / 60);
// Raw trades over REST, computed: historicalTrades pages of 1000 (an hour's one aggTrades request of weight 4 left out).
const restTradesCeiling = ceiling(requestWeight('spot', 'historicalTrades'));

// The REST path as Binance allows it: the simulator keeps the real 6000/min weight budget.
let rest: Record<string, unknown> | undefined;
if (!values['skip-rest']) {
  // No archive file is published (a century's lag), so `bulk_trades` reads its range over REST; api_* never read the archive.
  const restStack = await startTestStack({ ...simEnv, SIM_ARCHIVE_LAG_MS: String(100 * 365 * 86_400_000) });
  try {
    rest = {
      budget_per_min: 6000,
      budget_ceiling_records_per_s: {
        klines: ceiling(requestWeight('spot', 'klines', 1000)),
        agg_trades: ceiling(requestWeight('spot', 'aggTrades')),
        trades: restTradesCeiling,
      },
      klines: await timed(restStack, 'loader-api', { ...klines, type: 'api_candles_1m' }),
      agg_trades: await timed(restStack, 'loader-api', { ...trades, type: 'api_agg_trades' }),
      // Raw trades have no api_* type: the REST tail of bulk_trades (loader-producer), every day unpublished.
      trades: values['rest-trades']
        ? await timed(restStack, 'loader-producer', { ...rawTrades, type: 'bulk_trades' })
        : 'not measured (--rest-trades): see budget_ceiling_records_per_s.trades, computed',
    };
  } finally {
    await restStack.down();
  }
}

const ratio = (a: unknown, b: unknown): number | undefined =>
  typeof a === 'number' && typeof b === 'number' && b > 0 ? round(a / b) : undefined;
type Rate = { records_per_s: number };
const b = bulk as Record<'klines' | 'agg_trades' | 'trades', Rate & { raw_insert: Rate }>;
const r = rest as { klines: Rate; agg_trades: Rate; trades: Rate | string } | undefined;
const restTrades = typeof r?.trades === 'object' ? r.trades.records_per_s : undefined;
console.log(
  JSON.stringify(
    {
      bench: 'bulk',
      simulator: { trade_gap_ms: Number(values['trade-gap-ms']) },
      machine: { cpus: cpus().length, node: process.version },
      bulk,
      rest,
      ratios: {
        klines_vs_raw_insert: ratio(b.klines.records_per_s, b.klines.raw_insert.records_per_s),
        agg_trades_vs_raw_insert: ratio(b.agg_trades.records_per_s, b.agg_trades.raw_insert.records_per_s),
        trades_vs_raw_insert: ratio(b.trades.records_per_s, b.trades.raw_insert.records_per_s),
        klines_vs_rest: ratio(b.klines.records_per_s, r?.klines.records_per_s),
        agg_trades_vs_rest: ratio(b.agg_trades.records_per_s, r?.agg_trades.records_per_s),
        trades_vs_rest: ratio(b.trades.records_per_s, restTrades),
        // Against what the budget allows at most: computed, not measured (no REST run needed).
        trades_vs_rest_ceiling_computed: ratio(b.trades.records_per_s, restTradesCeiling),
      },
      goals: { vs_raw_insert: '≥ 0.33', agg_trades_vs_rest: '≥ 10', peak_rss_mib: '< 256' },
    },
    null,
    2,
  ),
);
await broker.stop();
