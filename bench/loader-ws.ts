/**
 * loader-ws benchmark: prints one JSON document.
 *
 *   node bench/loader-ws.ts [--rate 25000] [--seconds 20] [--warmup 5]
 *
 * One live loader (the code loader-ws runs) streams aggTrades of `rate / 1000` symbols from
 * the exchange simulator (a stand-in for Binance; its own worker thread, on the wall clock,
 * each symbol trading once a millisecond) into a real Kafka broker (KAFKA_BROKERS, or one
 * started for the run): messages/s it sustains, records/s acknowledged by Kafka, and the
 * p50/p99/max latency from the exchange's event time (the trade time `T`) to Kafka's
 * acknowledgement (and, to tell the loader's share from the rest, to the message's arrival),
 * over the measured seconds after a warm-up. Goals on loopback: at least
 * 20 000 messages/s and p99 under 20 ms. Simulator, loader, producer and broker share this
 * machine's cores, so the figures are a floor.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import {
  TOPIC_PLAN,
  createEventProducer,
  createBusConnection,
  ensureTopics,
  waitForKafka,
} from '@streamforge/core/bus';
import { BinanceRestClient, systemTime } from '@streamforge/exchange';
import { DEFAULT_SYMBOLS, attachWebSocketSide, startExchangeSimulator, type SymbolSpec } from '@streamforge/simulator';
import { startLocalBroker, type LocalBroker } from '@streamforge/platform';
import { createLogger } from '@streamforge/core/telemetry';
import { createTelemetryEmitter } from '@streamforge/core/bus';
import { LiveLoader } from '../functions/loader-ws/src/live-loader.ts';

function symbolsFor(count: number): SymbolSpec[] {
  // Busy made-up symbols: an aggregate trade every millisecond each.
  return Array.from({ length: count }, (_, i) => ({
    ...DEFAULT_SYMBOLS[0]!,
    symbol: `BENCH${i}USDT`,
    listedAt: Date.UTC(2020, 0, 1),
    tradeGapMs: 1,
  }));
}

if (!isMainThread) {
  // The simulator's thread: its own event loop, as the exchange is another machine.
  const { count } = workerData as { count: number };
  const sim = await startExchangeSimulator({
    symbols: symbolsFor(count),
    weightLimit: Number.POSITIVE_INFINITY,
    requestLogSize: 0,
  });
  const side = attachWebSocketSide(sim, { pumpMs: 1 });
  parentPort!.postMessage({ url: sim.url, ws: side.urls.spot });
  parentPort!.on('message', () => parentPort!.postMessage({ stats: side.stats() }));
} else {
  const { values } = parseArgs({
    options: { rate: { type: 'string' }, seconds: { type: 'string' }, warmup: { type: 'string' } },
  });
  const rate = Number(values.rate ?? 25_000);
  const seconds = Number(values.seconds ?? 20);
  const warmup = Number(values.warmup ?? 5);
  const count = Math.ceil(rate / 1000);
  const logger = createLogger({ service: 'bench-loader-ws', level: 'warn' });

  let broker: LocalBroker | undefined;
  let scratch: string | undefined;
  let brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    scratch = mkdtempSync(join(tmpdir(), 'bench-kafka-'));
    broker = await startLocalBroker({ dataDir: scratch });
    brokers = broker.brokers;
  }
  const kafka = createBusConnection({ brokers: brokers.split(','), clientId: 'bench-loader-ws' });
  await waitForKafka(kafka);
  const prefix = `bench-${Date.now()}.`;
  await ensureTopics(kafka, { prefix, plan: TOPIC_PLAN });
  const producer = await createEventProducer(kafka, { topicPrefix: prefix });

  const worker = new Worker(new URL(import.meta.url), { workerData: { count } });
  const urls = await new Promise<{ url: string; ws: string }>((resolve) => worker.once('message', resolve));
  const exchange = new BinanceRestClient({
    baseUrls: { spot: urls.url },
    weightLimits: { spot: Number.POSITIVE_INFINITY },
  });
  const symbols = symbolsFor(count).map((s) => s.symbol);
  const loader = new LiveLoader({
    config: {
      queueId: 'wf-bench-ws_agg_trades-00000000-bench0',
      type: 'ws_agg_trades',
      kind: 'agg_trades',
      market: 'spot',
      symbols,
      collectionName: 'bench',
      kafkaTopic: 'data-agg-trades',
      telemetryId: 'loader-ws__bench0',
      depthLevels: 100,
      depthIntervalMs: 1000,
      depthSnapshotLimit: 1000,
      telemetryIntervalMs: 3_600_000,
      metricsPort: 0,
    },
    producer,
    telemetry: createTelemetryEmitter({ producer, service: 'loader-ws' }),
    exchange,
    time: systemTime,
    logger,
    wsBaseUrl: urls.ws,
  });
  await loader.start();
  await new Promise((r) => setTimeout(r, warmup * 1000));
  loader.resetLatency();
  const before = loader.stats();
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const elapsed = (performance.now() - started) / 1000;
  const after = loader.stats();
  const latency = loader.publisher.latency.percentiles(50, 99, 100);
  const publisher = loader.publisher.stats();
  const simStats = await new Promise<Record<string, unknown>>((resolve) => {
    worker.once('message', (m: { stats: Record<string, unknown> }) => resolve(m.stats));
    worker.postMessage('stats');
  });
  await loader.stop('benchmark over');
  const messagesPerSecond = Math.round((after.messages - before.messages) / elapsed);
  const p99 = latency.p100 === undefined ? undefined : latency.p99;
  console.log(
    JSON.stringify(
      {
        benchmark: 'loader-ws',
        machine: { cpus: availableParallelism(), model: cpus()[0]?.model, node: process.version },
        offered: { symbols: count, aggTradesPerSecond: count * 1000 },
        measuredSeconds: Number(elapsed.toFixed(2)),
        messagesPerSecond,
        recordsAcknowledgedPerSecond: Math.round((after.records_published - before.records_published) / elapsed),
        latencyMs: {
          eventToKafkaAck: latency,
          eventToArrival: after.arrival_ms,
          samples: loader.publisher.latency.count,
        },
        sends: publisher.sends,
        recordsPerSend: Math.round(publisher.published / Math.max(1, publisher.sends)),
        gapsFound: after.gaps_found,
        simulator: simStats,
        goals: {
          messagesPerSecond: 20_000,
          p99Ms: 20,
          met: messagesPerSecond >= 20_000 && p99 !== undefined && p99 < 20,
        },
      },
      null,
      2,
    ),
  );

  await exchange.close();
  await producer.disconnect();
  await worker.terminate();
  if (broker) await broker.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  process.exit(0);
}
