import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import {
  TOPICS,
  TOPIC_PLAN,
  createEventProducer,
  ensureTopics,
  startEventConsumer,
  type DecodedEvent,
} from '@streamforge/core/bus';
import {
  expandRows,
  rowFromKline,
  type DataBatch,
  type DepthRecord,
  type DepthSnapshot,
  type KlineRecord,
  type KlineRow,
  type TelemetryEvent,
  type TradeRecord,
  type WorkPage,
} from '@streamforge/core/contracts';
import { BinanceRestClient, anchoredTime, type DepthEvent, type TimeSource } from '@streamforge/exchange';
import {
  DEFAULT_SYMBOLS,
  attachWebSocketSide,
  loadCapture,
  startExchangeSimulator,
  type ReplayCapture,
  type WebSocketSide,
} from '@streamforge/simulator';
import { createLogger } from '@streamforge/core/telemetry';
import { createTelemetryEmitter } from '@streamforge/core/bus';
import { testKafka, uniqueName, waitFor } from '@streamforge/testing';
import type { LiveJobConfig } from '../src/job-config.ts';
import { LiveLoader } from '../src/live-loader.ts';

const WS_FIXTURES = fileURLToPath(new URL('../../../test/fixtures/binance/ws/', import.meta.url));
const START = Date.UTC(2025, 0, 6, 10, 0, 30);
const logger = createLogger({ service: 'loader-ws-test', level: 'warn' });

interface Harness {
  loader: LiveLoader;
  side: WebSocketSide;
  simUrl: string;
  time: TimeSource;
  batches: DataBatch[];
  pages: WorkPage[];
  telemetry: TelemetryEvent[];
}

/** A simulator, the plan's topics under a fresh prefix, readers of what the loader sends, and the loader itself. */
async function harness(
  t: TestContext,
  config: Partial<LiveJobConfig> & Pick<LiveJobConfig, 'kind' | 'type' | 'symbols'>,
  options: { factor?: number; replay?: ReplayCapture } = {},
): Promise<Harness> {
  // Everything started is closed after the test, newest first, even when the set-up fails half-way.
  const started: Array<() => Promise<unknown>> = [];
  t.after(async () => {
    for (const close of started.reverse()) await close();
  });
  const time = anchoredTime(options.factor ?? 60, START, Date.now());
  // A replayed capture's symbols are listed too (exchangeInfo must know them).
  const sim = await startExchangeSimulator({
    clock: time.now,
    weightLimit: Infinity,
    ...(options.replay ? { symbols: [DEFAULT_SYMBOLS[0]!, ...options.replay.snapshots.map((s) => s.symbol)] } : {}),
  });
  started.push(() => sim.close());
  const side = attachWebSocketSide(sim, options.replay ? { replay: options.replay } : {});
  started.push(() => side.close());
  const prefix = `${uniqueName('lw')}.`;
  const kafka = testKafka();
  await ensureTopics(kafka, { prefix, plan: TOPIC_PLAN.map((spec) => ({ ...spec, partitions: 1 })) });
  const producer = await createEventProducer(kafka, { topicPrefix: prefix });
  started.push(() => producer.disconnect());
  const batches: DataBatch[] = [];
  const pages: WorkPage[] = [];
  const telemetry: TelemetryEvent[] = [];
  const reader = await startEventConsumer({
    connection: kafka,
    groupId: uniqueName('lw-reader'),
    topics: [
      TOPICS.dataKlines,
      TOPICS.dataTrades,
      TOPICS.dataAggTrades,
      TOPICS.dataDepth,
      TOPICS.dataBookTicker,
      TOPICS.loaderWork,
      TOPICS.events,
    ].map((name) => `${prefix}${name}`),
    handle: async (event: DecodedEvent) => {
      if (event.type === 'dev.streamforge.work.page') pages.push(event.data as WorkPage);
      else if (event.type === 'dev.streamforge.telemetry') telemetry.push(event.data as TelemetryEvent);
      else batches.push(event.data as DataBatch);
    },
  });
  started.push(() => reader.stop());
  const exchange = new BinanceRestClient({ baseUrls: { spot: sim.url, usdm: sim.url }, time });
  started.push(() => exchange.close());
  const queueId = uniqueName('wf-live').toLowerCase();
  const full: LiveJobConfig = {
    queueId,
    market: 'spot',
    collectionName: 'live_test',
    kafkaTopic: '',
    telemetryId: 'loader-ws__test',
    depthLevels: 1000,
    depthIntervalMs: 1000,
    depthSnapshotLimit: 1000,
    telemetryIntervalMs: 60_000,
    metricsPort: 0,
    ...config,
  };
  full.kafkaTopic ||= {
    klines: TOPICS.dataKlines,
    trades: TOPICS.dataTrades,
    agg_trades: TOPICS.dataAggTrades,
    depth: TOPICS.dataDepth,
    book_ticker: TOPICS.dataBookTicker,
  }[full.kind];
  const loader = new LiveLoader({
    config: full,
    producer,
    telemetry: createTelemetryEmitter({ producer, service: 'loader-ws' }),
    exchange,
    time,
    logger,
    wsBaseUrl: side.urls[full.market as 'spot' | 'usdm'], // no COIN-M live streams (refused by job-config)
    latencyScale: 1 / (options.factor ?? 60),
    client: { backoff: { baseMs: 100, maxMs: 1_000 } },
  });
  started.push(() => loader.stop('test over'));
  return { loader, side, simUrl: sim.url, time, batches, pages, telemetry };
}

const records = <R>(h: Harness, symbol?: string): R[] =>
  h.batches.filter((b) => symbol === undefined || b.symbol === symbol).flatMap((b) => b.records as unknown as R[]);

/** Stops the loader and waits until the reader has every record Kafka acknowledged. */
async function stopAndDrain(h: Harness): Promise<void> {
  await h.loader.stop('test');
  const published = h.loader.stats().records_published;
  await waitFor(`${published} records read back`, () => records(h).length >= published);
}

/** The trades stored are one unbroken run of trade ids: none missing, none twice. */
function assertEveryTradeIdOnce(h: Harness): void {
  const ids = [...new Set(records<TradeRecord>(h).map((r) => r.trade_id))].sort((a, b) => a - b);
  assert.deepEqual(
    ids,
    Array.from({ length: ids.length }, (_, i) => ids[0]! + i),
    'every trade id once',
  );
}

async function restKlines(h: Harness, symbol: string, from: number, to: number): Promise<KlineRow[]> {
  const rows = (await (
    await fetch(`${h.simUrl}/api/v3/klines?symbol=${symbol}&interval=1m&startTime=${from}&endTime=${to}&limit=1000`)
  ).json()) as KlineRow[];
  return rows;
}

test('one Job streams candles of several symbols: open ones marked closed:false, every final one equal to the REST kline', async (t) => {
  const h = await harness(t, {
    kind: 'klines',
    type: 'ws_candles_1m',
    interval: '1m',
    symbols: ['BTCUSDT', 'ETHUSDT'],
  });
  await h.loader.start();
  const finals = (symbol: string) => records<KlineRecord>(h, symbol).filter((r) => r.closed);
  await waitFor(
    'three final candles per symbol',
    () => finals('BTCUSDT').length >= 3 && finals('ETHUSDT').length >= 3,
    { timeoutMs: 15_000 },
  );
  await stopAndDrain(h);
  for (const symbol of ['BTCUSDT', 'ETHUSDT']) {
    const mine = records<KlineRecord>(h, symbol);
    assert.ok(
      mine.some((r) => r.closed === false),
      'open candles are published, marked as such',
    );
    const closed = finals(symbol);
    const opens = closed.map((r) => r.open_time);
    assert.deepEqual(
      opens,
      opens.map((_, i) => opens[0]! + i * 60_000),
      'every candle, in order',
    );
    const rest = await restKlines(h, symbol, opens[0]!, opens.at(-1)!);
    assert.deepEqual(
      closed.map((r) => rowFromKline(r)),
      rest,
      'the final candles are the REST candles',
    );
  }
  assert.deepEqual(
    h.batches
      .map((b) => [b.queue_id, b.collection_name, b.source, b.kind, b.interval])
      .filter(
        (x, i, all) => JSON.stringify(all.findIndex((y) => JSON.stringify(y) === JSON.stringify(x))) === String(i),
      ),
    [[h.batches[0]!.queue_id, 'live_test', 'ws', 'klines', '1m']],
  );
  await waitFor('started and stopped telemetry', () => h.telemetry.some((e) => e.status === 'stopped'));
  assert.equal(h.telemetry[0]!.status, 'started');
  assert.equal(h.telemetry.at(-1)!.status, 'stopped');
  assert.equal(h.loader.stats().gaps_found, 0);
});

test('a dropped connection and skipped messages leave gaps in candles that become backfill pages of exactly the missing candles', async (t) => {
  const h = await harness(t, { kind: 'klines', type: 'ws_candles_1m', interval: '1m', symbols: ['BNBUSDT'] });
  await h.loader.start();
  const finals = () => records<KlineRecord>(h).filter((r) => r.closed);
  await waitFor('a first final candle', () => finals().length >= 1, { timeoutMs: 10_000 });
  // Lose over a candle's worth of updates (an update every 2 s, 30 a candle), its final message among them.
  h.side.skipMessages(40);
  await waitFor('40 messages skipped', () => h.side.stats().messagesSkipped >= 40, { timeoutMs: 10_000 });
  h.side.dropConnections();
  await waitFor(
    'two more final candles after the reconnect',
    () => finals().filter((r) => r.open_time > finals()[0]!.open_time + 60_000).length >= 2,
    { timeoutMs: 20_000 },
  );
  await stopAndDrain(h);
  await waitFor('gap pages', () => h.pages.length >= 1);
  const stored = new Set(finals().map((r) => r.open_time));
  const first = Math.min(...stored);
  const last = Math.max(...stored);
  const filled = new Set<number>();
  for (const page of h.pages) {
    assert.equal(page.kind, 'klines');
    assert.equal(page.collection_name, 'live_test');
    assert.match(page.queue_id, new RegExp(`^${h.batches[0]!.queue_id.replaceAll('.', '\\.')}\\.gap\\.`));
    for (let open = page.start_ms; open < page.end_ms; open += 60_000) filled.add(open);
  }
  for (let open = first; open <= last; open += 60_000)
    assert.ok(stored.has(open) || filled.has(open), `candle ${new Date(open).toISOString()} streamed or filled`);
  for (const open of filled) assert.ok(!stored.has(open), 'pages ask only for candles whose final message never came');
  assert.ok(h.loader.stats().gaps_found >= 1);
  assert.equal(h.loader.stats().gaps_filled, h.loader.stats().gaps_found);
  assert.ok(h.telemetry.some((e) => /gap found and filled/.test(String(e.message))));
});

test('raw trades missed while disconnected are fetched from REST by id, so the ids have no hole', async (t) => {
  const h = await harness(t, { kind: 'trades', type: 'ws_trades', symbols: ['LTCUSDT'] }, { factor: 20 });
  await h.loader.start();
  await waitFor('trades', () => records<TradeRecord>(h).length >= 50, { timeoutMs: 10_000 });
  h.side.skipMessages(25);
  await waitFor(
    'trades after the skip',
    () => h.side.connections().every((c) => c.skipped === 25) && records<TradeRecord>(h).length >= 120,
    { timeoutMs: 10_000 },
  );
  h.side.dropConnections();
  const count = records<TradeRecord>(h).length;
  await waitFor('trades after the reconnect', () => records<TradeRecord>(h).length >= count + 50, {
    timeoutMs: 10_000,
  });
  await stopAndDrain(h);
  assertEveryTradeIdOnce(h);
  assert.ok(
    h.batches.some((b) => b.source === 'api'),
    'the missing trades came from REST',
  );
  assert.ok(h.loader.stats().gaps_found >= 1);
});

test('a streamed trade is the record a bulk_trades backfill stores for its id (REST and archive rows): same key, same fields', async (t) => {
  const h = await harness(t, { kind: 'trades', type: 'ws_trades', symbols: ['LTCUSDT'] }, { factor: 20 });
  await h.loader.start();
  await waitFor('trades', () => records<TradeRecord>(h).length >= 30, { timeoutMs: 10_000 });
  await stopAndDrain(h);
  const live = new Map(records<TradeRecord>(h).map((r) => [r.key, r]));
  const first = Math.min(...[...live.values()].map((r) => r.trade_id));
  const rows = await (
    await fetch(`${h.simUrl}/api/v3/historicalTrades?symbol=LTCUSDT&fromId=${first}&limit=30`)
  ).json();
  // bulk_trades publishes historicalTrades rows, and archive lines parsed into the same rows, as `binance_trade`.
  const { records: fromRest, invalid } = expandRows({
    queue_id: 'wf-ltcusdt-bulk_trades-x',
    symbol: 'LTCUSDT',
    market: 'spot',
    kind: 'trades',
    collection_name: 'live_test',
    source: 'api',
    rows: rows as unknown[],
    row_format: 'binance_trade',
  });
  assert.deepEqual(invalid, []);
  assert.equal(fromRest.length, 30);
  for (const record of fromRest) assert.deepEqual(record, live.get(record.key), record.key);
});

test('malformed frames and messages are counted and skipped; the Job streams on without a hole', async (t) => {
  const h = await harness(t, { kind: 'trades', type: 'ws_trades', symbols: ['LTCUSDT'] }, { factor: 20 });
  await h.loader.start();
  await waitFor('trades', () => records<TradeRecord>(h).length >= 30, { timeoutMs: 10_000 });
  // Not JSON, JSON that is no object, and stream messages whose data is missing or lacks every field.
  h.side.sendFrames([
    'not json',
    'null',
    '5',
    '[1,2]',
    '{"stream":"ltcusdt@trade"}',
    '{"stream":"ltcusdt@trade","data":null}',
    '{"stream":"ltcusdt@trade","data":{}}',
    '{"stream":"ltcusdt@trade","data":{"e":"trade"}}',
  ]);
  await waitFor('the eight counted', () => h.loader.stats().malformed === 8, { timeoutMs: 10_000 });
  const count = records<TradeRecord>(h).length;
  await waitFor('trades after them', () => records<TradeRecord>(h).length >= count + 30, { timeoutMs: 10_000 });
  await stopAndDrain(h);
  assertEveryTradeIdOnce(h);
  assert.equal(h.loader.stats().malformed, 8);
});

test('aggTrade gaps become hour pages whose time range holds every missing trade', async (t) => {
  const h = await harness(
    t,
    { kind: 'agg_trades', type: 'ws_agg_trades', market: 'usdm', symbols: ['ETHUSDT'] },
    { factor: 20 },
  );
  await h.loader.start();
  await waitFor('trades', () => records(h).length >= 50, { timeoutMs: 10_000 });
  h.side.skipMessages(30);
  await waitFor(
    'trades after the skip',
    () => h.side.connections().every((c) => c.skipped === 30) && records(h).length >= 100,
    { timeoutMs: 10_000 },
  );
  await stopAndDrain(h);
  await waitFor('a gap page', () => h.pages.length === 1);
  const page = h.pages[0]!;
  assert.equal(page.kind, 'agg_trades');
  assert.equal(page.market, 'usdm');
  const rest = new BinanceRestClient({ baseUrls: { usdm: h.simUrl }, time: h.time });
  t.after(() => rest.close());
  const inPage = (
    await rest.aggTrades({
      market: 'usdm',
      symbol: 'ETHUSDT',
      startTime: page.start_ms,
      endTime: page.end_ms - 1,
      limit: 1000,
    })
  ).map((a) => a.a);
  const streamed = new Set(records<{ trade_id: number }>(h).map((r) => r.trade_id));
  const lo = Math.min(...streamed);
  const hi = Math.max(...streamed);
  for (let id = lo; id <= hi; id++)
    assert.ok(streamed.has(id) || inPage.includes(id), `aggTrade ${id} streamed or in the page`);
});

test('order books kept from the real USD-M capture are published with their last update id and equal an independent rebuild', async (t) => {
  const capture = await loadCapture(
    `${WS_FIXTURES}usdm-capture-2021-07-22.jsonl`,
    `${WS_FIXTURES}usdm-depth-snapshots-2021-07-22.jsonl`,
  );
  const symbols = capture.snapshots.map((s) => s.symbol);
  const h = await harness(
    t,
    { kind: 'depth', type: 'ws_depth', market: 'usdm', symbols, depthLevels: 1000 },
    { factor: 10, replay: capture },
  );
  await h.loader.start();
  const lastFrame = capture.frames.at(-1)!.offsetMs;
  const startedAt = h.time.now();
  await waitFor('the whole capture replayed', () => h.time.now() > startedAt + lastFrame + 500, { timeoutMs: 15_000 });
  await stopAndDrain(h);
  for (const symbol of symbols) {
    const snapshot = capture.snapshots.find((s) => s.symbol === symbol)!.body as DepthSnapshot;
    const events = capture.frames
      .filter((f) => f.stream === `${symbol.toLowerCase()}@depth@100ms`)
      .map((f) => JSON.parse(f.raw) as DepthEvent);
    // Independent rebuild: the USD-M rules written out plainly.
    const bids = new Map(snapshot.bids);
    const asks = new Map(snapshot.asks);
    let last = snapshot.lastUpdateId;
    for (const e of events.filter((x) => x.u >= snapshot.lastUpdateId)) {
      for (const [p, q] of e.b) Number(q) === 0 ? bids.delete(p) : bids.set(p, q);
      for (const [p, q] of e.a) Number(q) === 0 ? asks.delete(p) : asks.set(p, q);
      last = e.u;
    }
    // The reader gets the last batch a moment after Kafka acknowledged it to the loader.
    const final = await waitFor(`${symbol}: a record at the last update id ${last}`, () =>
      records<DepthRecord>(h, symbol).find((r) => r.last_update_id === last),
    );
    assert.ok(records<DepthRecord>(h, symbol).length >= 2, `${symbol}: books published as they changed`);
    assert.equal(
      Math.max(...records<DepthRecord>(h, symbol).map((r) => r.last_update_id)),
      last,
      `${symbol}: nothing after the last update id`,
    );
    assert.equal(final.key, `${symbol}:depth:${String(last).padStart(15, '0')}`);
    assert.deepEqual(
      final.bids,
      [...bids].sort((x, y) => Number(y[0]) - Number(x[0])).slice(0, 1000),
      `${symbol}: bids`,
    );
    assert.deepEqual(
      final.asks,
      [...asks].sort((x, y) => Number(x[0]) - Number(y[0])).slice(0, 1000),
      `${symbol}: asks`,
    );
  }
  assert.equal(h.loader.stats().book_resyncs, 0);
});
