/**
 * Memory of one REST page of trades: a busy hour (default 400 k aggTrades, about what BTCUSDT
 * trades in a busy hour) loaded by `loadPage`, which spools the exchange's answers to disk and
 * publishes the page from there, against the baseline in the same run: the hour collected
 * decoded and cut into events in memory, as the loader did before. Prints one JSON document.
 *
 *   node bench/rest-trades.ts [--trades 400000] [--node-options "--max-old-space-size=256"]
 *
 * Each way runs in a process of its own, with loader-producer's Node flags by default, so peak
 * RSS and heap are the page's alone. The exchange is an in-process stand-in answering 1000
 * trades at a time, built as asked, and the producer counts what it is sent: what is measured
 * is the loader, not a network or a broker. A way that runs out of heap says so.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dataEventsOf, loadPage, type BackfillDeps } from '@streamforge/backfill';
import type { EventInput, EventProducer, TelemetryEmitter } from '@streamforge/core/bus';
import type { BinanceAggTrade, DataBatch, WorkPage } from '@streamforge/core/contracts';
import { openStore } from '@streamforge/core/store';
import { createLogger } from '@streamforge/core/telemetry';
import type { BinanceRestClient } from '@streamforge/exchange';

const LOADER_PRODUCER_FLAGS = '--max-semi-space-size=16 --max-old-space-size=256';
const WAYS = ['spooled', 'whole'] as const;
type Way = (typeof WAYS)[number];

const { values } = parseArgs({
  options: {
    trades: { type: 'string' },
    'node-options': { type: 'string' },
    way: { type: 'string' },
  },
});
const trades = Number(values.trades ?? 400_000);
const HOUR = Date.UTC(2024, 2, 12, 14);

const page: WorkPage = {
  queue_id: 'wf-btcusdt-api_agg_trades-bench',
  type: 'api_agg_trades',
  symbol: 'BTCUSDT',
  market: 'spot',
  kind: 'agg_trades',
  start_ms: HOUR,
  end_ms: HOUR + 3_600_000,
  page: { index: 0, count: 1 },
  collection_name: 'trades_btcusdt',
  kafka_topic: 'data-agg-trades',
  telemetry_id: 'loader-api',
};

/** The hour's trades, 1000 an answer, each answer built when asked as the exchange's would arrive. */
async function* answers(): AsyncGenerator<BinanceAggTrade[]> {
  for (let from = 0; from < trades; from += 1000) {
    const answer: BinanceAggTrade[] = [];
    for (let i = from; i < Math.min(trades, from + 1000); i++)
      answer.push({
        a: 3_000_000_000 + i,
        p: (42_000 + (i % 1000) / 100).toFixed(8),
        q: ((i % 97) / 1000 + 0.001).toFixed(8),
        f: 4_000_000_000 + 2 * i,
        l: 4_000_000_001 + 2 * i,
        T: HOUR + Math.floor((i * 3_600_000) / trades),
        m: i % 2 === 0,
        M: true,
      });
    // An answer's time on the wire, so garbage is collected as it would be between answers.
    await new Promise((resolve) => setImmediate(resolve));
    yield answer;
  }
}

/** Runs one way in this process; answers its figures. */
async function runWay(way: Way): Promise<Record<string, number>> {
  let peakRss = 0;
  let peakHeap = 0;
  const sample = (): void => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  };
  const sampler = setInterval(sample, 5);
  let sentBytes = 0;
  let sentEvents = 0;
  const send = async (_topic: string, events: ReadonlyArray<EventInput<DataBatch>>): Promise<void> => {
    sample();
    for (const event of events) sentBytes += event.dataJson?.length ?? 0;
    sentEvents += events.length;
  };
  const started = performance.now();
  if (way === 'spooled') {
    const store = await openStore('sqlite::memory:');
    const telemetry: TelemetryEmitter = { emit: async () => {}, emitMany: async () => {} };
    const deps: BackfillDeps = {
      service: 'loader-api',
      exchange: { aggTradePages: answers } as unknown as BinanceRestClient,
      producer: { send } as unknown as EventProducer,
      telemetry,
      store,
      logger: createLogger({ service: 'bench', level: 'silent' }),
    };
    await loadPage(deps, page);
    await store.close();
  } else {
    // The loader before the spool: every answer kept decoded until the hour is in, then cut and sent.
    const rows: BinanceAggTrade[] = [];
    for await (const answer of answers()) rows.push(...answer);
    sample();
    const events = dataEventsOf(
      page,
      { format: 'binance_agg_trade', rows, count: rows.length },
      {
        service: 'loader-api',
        source: 'api',
      },
    );
    await send(page.kafka_topic, events);
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  sample();
  return {
    seconds: Number(seconds.toFixed(2)),
    records_per_second: Math.round(trades / seconds),
    peak_rss_mib: Math.round(peakRss / 2 ** 20),
    peak_heap_used_mib: Math.round(peakHeap / 2 ** 20),
    events: sentEvents,
    sent_mib: Math.round(sentBytes / 2 ** 20),
  };
}

/** One way in a child process with the given Node flags; its figures, or how it ended. */
function child(way: Way, nodeOptions: string): Promise<Record<string, unknown>> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, [script, '--way', way, '--trades', String(trades)], {
      env: { ...process.env, NODE_OPTIONS: nodeOptions },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    process_.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    process_.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    process_.on('error', reject);
    process_.on('close', (code, signal) => {
      if (code === 0) resolve(JSON.parse(out) as Record<string, unknown>);
      else
        resolve({
          failed: signal ?? `exit ${code}`,
          out_of_memory: /heap out of memory|Allocation failed/.test(err),
        });
    });
  });
}

if (values.way !== undefined) {
  process.stdout.write(JSON.stringify(await runWay(values.way as Way)));
} else {
  const nodeOptions = values['node-options'] ?? LOADER_PRODUCER_FLAGS;
  const result: Record<string, unknown> = { trades, node_options: nodeOptions };
  for (const way of WAYS) result[way] = await child(way, nodeOptions);
  const spooled = result.spooled as Record<string, number>;
  const whole = result.whole as Record<string, number>;
  if (spooled.peak_rss_mib !== undefined && whole.peak_rss_mib !== undefined)
    result.peak_rss_vs_baseline = Number((spooled.peak_rss_mib / whole.peak_rss_mib).toFixed(2));
  console.log(JSON.stringify(result, null, 2));
}
