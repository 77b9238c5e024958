/**
 * loader-api's page loader on its hot path: one work page fetched by the real exchange
 * client from a stand-in for Binance serving real fixture data, published by a real
 * producer to the test broker, counted done in a real SQLite store. Exact events out, the
 * empty and one-row pages, hours of trades spooled to disk, and the coded errors a bad
 * exchange answer becomes.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createTelemetryEmitter, decodeRecord, TOPICS, type DecodedEvent } from '@streamforge/core/bus';
import type { DataBatch, KlineRow, TelemetryEvent, WorkPage } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import { openStore, type Store } from '@streamforge/core/store';
import { createLogger } from '@streamforge/core/telemetry';
import { BinanceRestClient } from '@streamforge/exchange';
import { plannedTestTopics, readTopic, testKafka, topicMessageCount, uniqueName, waitFor } from '@streamforge/testing';
import { loadPage, type BackfillDeps } from '../src/load-page.ts';
import {
  aggTradesAnswer,
  fixtureKlines,
  fixtureUsdmAggTrades,
  klinesAnswer,
  startBinanceStandin,
  type BinanceStandin,
  type StandinAnswer,
  type StandinRequest,
} from './binance-standin.ts';

const HOUR_MS = 3_600_000;
const DAY = Date.UTC(2022, 8, 7);
/** BTCUSDT spot 1h candles of 2022-09-07, as data.binance.vision published them. */
const DAY_OF_CANDLES = fixtureKlines('spot/BTCUSDT-1h-2022-09-07.csv');
/** CTKUSDT USD-M aggTrades captured on 2021-07-22, all in the 22:00 hour. */
const CTK_TRADES = fixtureUsdmAggTrades('CTKUSDT');
const CTK_HOUR = Math.floor(CTK_TRADES[0]!.T / HOUR_MS) * HOUR_MS;

interface Loader {
  deps: BackfillDeps;
  exchange: BinanceRestClient;
  standin: BinanceStandin;
  store: Store;
  /** Data events on a data topic (`data-klines`, `data-agg-trades`), read back from the broker. */
  published(topic: string, count: number): Promise<Array<DecodedEvent<DataBatch>>>;
  /** The same records' values as text, as the connector receives them. */
  publishedText(topic: string, count: number): Promise<string[]>;
  /** Telemetry on queue-events, read back from the broker. */
  telemetry(count: number): Promise<TelemetryEvent[]>;
  /** Records on a topic now. */
  count(topic: string): Promise<number>;
}

/** loader-api's dependencies, all real but Binance: the client, a producer to topics of this test, SQLite, telemetry. */
async function startLoader(
  t: TestContext,
  answer: (request: StandinRequest) => StandinAnswer | Promise<StandinAnswer>,
  clock = () => Date.UTC(2026, 0, 1),
): Promise<Loader> {
  const standin = await startBinanceStandin(answer);
  t.after(() => standin.close());
  // Two attempts with a 1 ms backoff: a transient failure is still retried once, quickly. The weight
  // budget is lifted, as against the simulator: the governor (tested on its own) would otherwise
  // send one probe per minute window before any other request.
  const exchange = new BinanceRestClient({
    baseUrls: { spot: standin.url, usdm: standin.url },
    weightLimits: { spot: Infinity, usdm: Infinity },
    maxAttempts: 2,
    backoff: { baseMs: 1, maxMs: 1 },
    env: {},
  });
  t.after(() => exchange.close());
  const kafka = testKafka('load-page-test');
  const { prefix, producer } = await plannedTestTopics(t, kafka, 'load-page', [
    TOPICS.events,
    TOPICS.dataKlines,
    TOPICS.dataAggTrades,
  ]);
  const store = await openStore('sqlite::memory:');
  t.after(() => store.close());
  const telemetry = createTelemetryEmitter({ producer, service: 'loader-api' });
  const logger = createLogger({ service: 'load-page-test', level: 'silent' });
  return {
    deps: { service: 'loader-api', exchange, producer, telemetry, store, logger, clock },
    exchange,
    standin,
    store,
    published: async (topic, count) =>
      (await readTopic(kafka, `${prefix}${topic}`, count)).map((record) => decodeRecord<DataBatch>(record)),
    publishedText: async (topic, count) =>
      (await readTopic(kafka, `${prefix}${topic}`, count)).map((record) => record.value?.toString() ?? ''),
    telemetry: async (count) =>
      (await readTopic(kafka, `${prefix}${TOPICS.events}`, count)).map(
        (record) => decodeRecord<TelemetryEvent>(record).data!,
      ),
    count: (topic) => topicMessageCount(kafka, `${prefix}${topic}`),
  };
}

function klinePage(startMs: number, endMs: number, page = { index: 0, count: 1 }): WorkPage {
  return {
    queue_id: uniqueName('wf-btcusdt-api_candles_1h-20220907'),
    type: 'api_candles_1h',
    symbol: 'BTCUSDT',
    market: 'spot',
    kind: 'klines',
    interval: '1h',
    start_ms: startMs,
    end_ms: endMs,
    page,
    collection_name: 'klines_btcusdt_1h',
    kafka_topic: TOPICS.dataKlines,
    telemetry_id: 'loader-api',
  };
}

function aggTradesPage(
  startMs: number,
  page = { index: 0, count: 1 },
  queueId = uniqueName('wf-ctkusdt-api_agg_trades-20210722'),
): WorkPage {
  return {
    queue_id: queueId,
    type: 'api_agg_trades',
    symbol: 'CTKUSDT',
    market: 'usdm',
    kind: 'agg_trades',
    start_ms: startMs,
    end_ms: startMs + HOUR_MS,
    page,
    collection_name: 'trades_ctkusdt',
    kafka_topic: TOPICS.dataAggTrades,
    telemetry_id: 'loader-api',
  };
}

/** The stand-in serving the fixture klines at `/api/v3/klines`. */
const servingCandles =
  (rows: readonly KlineRow[]) =>
  (request: StandinRequest): StandinAnswer =>
    request.path === '/api/v3/klines'
      ? { status: 200, body: klinesAnswer(rows, request.query) }
      : { status: 404, body: '{"code":-1,"msg":"not in this stand-in"}' };

test("a past page of spot 1h candles is published as the exchange's own bytes: one data event with the 24 candles of the day, and the page counted done", async (t) => {
  // The answer spaced out between rows, so bytes passed on differ from rows decoded and re-encoded.
  const spaced = (query: URLSearchParams) => klinesAnswer(DAY_OF_CANDLES, query).replaceAll('],[', '], [');
  const loader = await startLoader(t, (request) => ({ status: 200, body: spaced(request.query) }));
  const page = klinePage(DAY, DAY + 24 * HOUR_MS, { index: 0, count: 2 });

  assert.equal(await loadPage(loader.deps, page), 'loaded');

  const [request] = loader.standin.requests;
  assert.equal(request!.path, '/api/v3/klines');
  assert.deepEqual(Object.fromEntries(request!.query), {
    symbol: 'BTCUSDT',
    interval: '1h',
    startTime: String(DAY),
    endTime: String(DAY + 24 * HOUR_MS - 1),
    limit: '1000',
  });
  const [event] = await loader.published(TOPICS.dataKlines, 1);
  assert.equal(await loader.count(TOPICS.dataKlines), 1);
  assert.equal(event!.id, `${page.queue_id}:page:0:0`);
  assert.equal(event!.type, 'dev.streamforge.data.klines');
  assert.equal(event!.subject, page.queue_id);
  assert.equal(
    event!.partitionkey,
    'BTCUSDT:0:0',
    'each part keyed on its own: a page of many parts spreads over partitions',
  );
  const { rows, ...envelope } = event!.data!;
  assert.deepEqual(envelope, {
    queue_id: page.queue_id,
    symbol: 'BTCUSDT',
    market: 'spot',
    kind: 'klines',
    interval: '1h',
    collection_name: 'klines_btcusdt_1h',
    source: 'api',
    telemetry_id: 'loader-api',
    page: { index: 0, count: 2, part: 0, parts: 1 },
    row_format: 'binance_kline',
  });
  assert.deepEqual(rows, DAY_OF_CANDLES, "every candle, prices as the exchange's strings");
  const [value] = await loader.publishedText(TOPICS.dataKlines, 1);
  assert.ok(
    value!.endsWith(`"rows":${spaced(request!.query)}}`),
    "the rows are the exchange's text, not decoded and re-encoded",
  );

  assert.deepEqual(
    await loader.store.workflowProgress(`loader-api:${page.queue_id}`).then((p) => [p.pagesDone, p.pagesTotal]),
    [1, 2],
  );
  const [report] = await loader.telemetry(1);
  assert.equal(report!.status, 'loading');
  assert.equal(report!.message, 'page 1/2: 24 records');
  assert.deepEqual(report!.progress, { done: 1, total: 2, unit: 'pages' });
});

test('a page reaching now publishes only the candles already closed, and reports the workflow finished', async (t) => {
  const now = DAY + 12 * HOUR_MS + 30 * 60_000;
  const loader = await startLoader(t, servingCandles(DAY_OF_CANDLES), () => now);
  const page = klinePage(DAY, DAY + 24 * HOUR_MS);

  await loadPage(loader.deps, page);

  const [event] = await loader.published(TOPICS.dataKlines, 1);
  // 12:00's candle closes at 12:59:59.999, after now: it is not final yet.
  assert.deepEqual(event!.data!.rows, DAY_OF_CANDLES.slice(0, 12));
  assert.deepEqual(event!.data!.page, { index: 0, count: 1, part: 0, parts: 1 });
  const [report] = await loader.telemetry(1);
  assert.deepEqual([report!.status, report!.message, report!.finished], ['finished', 'all 1 pages loaded', true]);
});

test('a page the exchange has no candles for is one data event with no rows, so the page is still counted done', async (t) => {
  const loader = await startLoader(t, servingCandles(DAY_OF_CANDLES));
  const dayBefore = DAY - 24 * HOUR_MS;
  const page = klinePage(dayBefore, DAY);

  assert.equal(await loadPage(loader.deps, page), 'loaded');

  const [event] = await loader.published(TOPICS.dataKlines, 1);
  assert.deepEqual(event!.data!.rows, []);
  assert.deepEqual(event!.data!.page, { index: 0, count: 1, part: 0, parts: 1 });
  assert.equal((await loader.store.workflowProgress(`loader-api:${page.queue_id}`)).pagesDone, 1);
});

test('a page of one candle publishes that candle alone', async (t) => {
  const loader = await startLoader(t, servingCandles(DAY_OF_CANDLES));
  const page = klinePage(DAY + 5 * HOUR_MS, DAY + 6 * HOUR_MS, { index: 1, count: 3 });

  await loadPage(loader.deps, page);

  const [event] = await loader.published(TOPICS.dataKlines, 1);
  assert.deepEqual(event!.data!.rows, [DAY_OF_CANDLES[5]]);
  assert.equal(event!.id, `${page.queue_id}:page:1:0`);
  const [report] = await loader.telemetry(1);
  assert.equal(report!.message, 'page 2/3: 1 records');
});

test('an hour of USD-M aggTrades captured from the exchange is published as it came, in trade-id order', async (t) => {
  const loader = await startLoader(t, (request) =>
    request.path === '/fapi/v1/aggTrades'
      ? { status: 200, body: aggTradesAnswer(CTK_TRADES, request.query) }
      : { status: 404, body: '{}' },
  );
  const page = aggTradesPage(CTK_HOUR);

  assert.equal(await loadPage(loader.deps, page), 'loaded');

  assert.deepEqual(Object.fromEntries(loader.standin.requests[0]!.query), {
    symbol: 'CTKUSDT',
    startTime: String(CTK_HOUR),
    endTime: String(CTK_HOUR + HOUR_MS - 1),
    limit: '1000',
  });
  const [event] = await loader.published(TOPICS.dataAggTrades, 1);
  assert.equal(event!.type, 'dev.streamforge.data.agg_trades');
  assert.equal(event!.data!.row_format, 'binance_agg_trade');
  assert.equal(CTK_TRADES.length, 38);
  assert.deepEqual(event!.data!.rows, CTK_TRADES);
  assert.equal(event!.data!.interval, undefined, 'aggTrades have no interval');
});

test('an hour of aggTrades in three answers is spooled to disk and published once the last is in; the spool is removed', async (t) => {
  // 2500 trades a second apart from the captured hour's start: answers of 1000, 1000 and 500.
  const trades = Array.from({ length: 2500 }, (_, i) => ({ ...CTK_TRADES[0]!, a: 1_000 + i, T: CTK_HOUR + i * 1000 }));
  let answers = 0;
  let publishedDuringFetch = 0;
  const loader = await startLoader(t, async (request) => {
    answers++;
    publishedDuringFetch += await loader.count(TOPICS.dataAggTrades);
    return { status: 200, body: aggTradesAnswer(trades, request.query) };
  });
  const spool = await mkdtemp(join(tmpdir(), 'load-page-test-'));
  t.after(() => rm(spool, { recursive: true, force: true }));
  const page = aggTradesPage(CTK_HOUR);

  assert.equal(await loadPage({ ...loader.deps, tempDir: spool }, page), 'loaded');

  assert.equal(answers, 3);
  assert.equal(publishedDuringFetch, 0, 'nothing is sent before the last answer is in');
  const events = await loader.published(TOPICS.dataAggTrades, 3);
  assert.deepEqual(
    events.map((event) => event.data!.page),
    [0, 1, 2].map((part) => ({ index: 0, count: 1, part, parts: 3 })),
  );
  assert.deepEqual(
    events.flatMap((event) => event.data!.rows),
    trades,
    'every trade once, in order',
  );
  assert.deepEqual(await readdir(spool), [], 'the spooled file is gone');
  assert.equal((await loader.store.workflowProgress(`loader-api:${page.queue_id}`)).pagesDone, 1);
});

test('a page of trades whose exchange fails after two answers publishes nothing, is not counted done, and leaves no spool', async (t) => {
  const trades = Array.from({ length: 2500 }, (_, i) => ({ ...CTK_TRADES[0]!, a: 1_000 + i, T: CTK_HOUR + i * 1000 }));
  const loader = await startLoader(t, (request) =>
    request.query.get('fromId') === '3000'
      ? { status: 503, body: 'Service Unavailable', contentType: 'text/plain' }
      : { status: 200, body: aggTradesAnswer(trades, request.query) },
  );
  const spool = await mkdtemp(join(tmpdir(), 'load-page-test-'));
  t.after(() => rm(spool, { recursive: true, force: true }));
  const page = aggTradesPage(CTK_HOUR);

  await assert.rejects(
    loadPage({ ...loader.deps, tempDir: spool }, page),
    (error: unknown) => StreamForgeError.is(error) && error.code === 'SF_DEPENDENCY_UNAVAILABLE',
  );

  assert.equal(await loader.count(TOPICS.dataAggTrades), 0);
  assert.deepEqual(await readdir(spool), []);
  assert.equal((await loader.store.workflowProgress(`loader-api:${page.queue_id}`)).pagesDone, 0);
});

test('pages are not gated: six pages of aggTrades and six of candles are all fetched at once', async (t) => {
  const held: Array<() => void> = [];
  const loader = await startLoader(
    t,
    (request) =>
      new Promise<StandinAnswer>((resolve) => {
        held.push(() =>
          resolve({
            status: 200,
            body:
              request.path === '/fapi/v1/aggTrades'
                ? aggTradesAnswer(CTK_TRADES, request.query)
                : klinesAnswer(DAY_OF_CANDLES, request.query),
          }),
        );
      }),
  );
  const queueId = uniqueName('wf-ctkusdt-api_agg_trades-20210722');
  const hours = Array.from({ length: 6 }, (_, index) => CTK_HOUR - 5 * HOUR_MS + index * HOUR_MS);
  const loads = [
    ...hours.map((start, index) => loadPage(loader.deps, aggTradesPage(start, { index, count: 6 }, queueId))),
    ...Array.from({ length: 6 }, (_, hour) =>
      loadPage(loader.deps, klinePage(DAY + hour * HOUR_MS, DAY + (hour + 1) * HOUR_MS)),
    ),
  ];

  await waitFor('twelve pages at the exchange at once', () => held.length === 12);
  for (const answer of held) answer();

  assert.deepEqual(await Promise.all(loads), Array(12).fill('loaded'));
  const events = await loader.published(TOPICS.dataAggTrades, 6);
  assert.deepEqual(
    events.map((event) => event.data!.rows!.length).sort((a, b) => a - b),
    [0, 0, 0, 0, 0, 38],
    'every hour published, the captured one with its trades',
  );
  assert.equal((await loader.store.workflowProgress(`loader-api:${queueId}`)).pagesDone, 6);
});

test("a symbol the exchange refuses fails the page for good: SF_EXCHANGE_REJECTED quoting Binance's msg, an error report, nothing published, the page not counted done", async (t) => {
  const loader = await startLoader(t, () => ({ status: 400, body: '{"code":-1121,"msg":"Invalid symbol."}' }));
  const page = klinePage(DAY, DAY + 24 * HOUR_MS);

  await assert.rejects(loadPage(loader.deps, page), (error: unknown) => {
    assert.ok(StreamForgeError.is(error));
    assert.equal(error.code, 'SF_EXCHANGE_REJECTED');
    assert.equal(error.status, 422);
    assert.match(
      error.message,
      /^binance spot GET \/api\/v3\/klines\?symbol=BTCUSDT&interval=1h&.*: Invalid symbol\. \(code -1121, HTTP 400\)$/,
    );
    assert.deepEqual([error.details?.code, error.details?.msg], [-1121, 'Invalid symbol.']);
    return true;
  });

  assert.equal(loader.standin.requests.length, 1, 'a refusal is not retried');
  const [report] = await loader.telemetry(1);
  assert.equal(report!.status, 'error');
  assert.deepEqual(report!.error, { code: 'SF_EXCHANGE_REJECTED', message: report!.message, retryable: false });
  assert.equal(await loader.count(TOPICS.dataKlines), 0);
  assert.equal((await loader.store.workflowProgress(`loader-api:${page.queue_id}`)).pagesDone, 0);
});

test("an answer that is not a JSON array (a proxy's page) fails the page with SF_DEPENDENCY_UNAVAILABLE saying what came back, after the client's retries", async (t) => {
  const loader = await startLoader(t, () => ({
    status: 200,
    body: '<html><body>Gateway says hello</body></html>',
    contentType: 'text/html',
  }));
  const page = klinePage(DAY, DAY + 24 * HOUR_MS);

  await assert.rejects(loadPage(loader.deps, page), (error: unknown) => {
    assert.ok(StreamForgeError.is(error));
    assert.equal(error.code, 'SF_DEPENDENCY_UNAVAILABLE');
    assert.match(
      error.message,
      /: expected a JSON array of rows, got "<html><body>Gateway says hello<\/body><\/html>" \(gave up after 2 attempts\)$/,
    );
    return true;
  });
  assert.equal(loader.standin.requests.length, 2);
  assert.equal(await loader.count(TOPICS.dataKlines), 0);
});

test('an exchange failing with 503 and a text body fails the page with SF_DEPENDENCY_UNAVAILABLE quoting the body', async (t) => {
  const loader = await startLoader(t, () => ({ status: 503, body: 'Service Unavailable', contentType: 'text/plain' }));
  const page = aggTradesPage(CTK_HOUR);

  await assert.rejects(loadPage(loader.deps, page), (error: unknown) => {
    assert.ok(StreamForgeError.is(error));
    assert.equal(error.code, 'SF_DEPENDENCY_UNAVAILABLE');
    assert.match(
      error.message,
      /^binance usdm GET \/fapi\/v1\/aggTrades\?symbol=CTKUSDT&.*: HTTP 503: Service Unavailable \(gave up after 2 attempts\)$/,
    );
    return true;
  });
  assert.equal(await loader.count(TOPICS.dataAggTrades), 0);
});

test('a kline answer cut short after a whole row is refused like any malformed answer, not forwarded as broken JSON', async (t) => {
  // `[[row],[row]` starts with `[` and ends with `]`: the fast path takes it as the page's rows.
  const cut = (query: URLSearchParams) => klinesAnswer(DAY_OF_CANDLES, query).slice(0, -1);
  const loader = await startLoader(t, (request) => ({ status: 200, body: cut(request.query) }));
  const page = klinePage(DAY, DAY + 24 * HOUR_MS);

  await assert.rejects(
    loadPage(loader.deps, page),
    (error: unknown) => StreamForgeError.is(error) && error.code === 'SF_DEPENDENCY_UNAVAILABLE',
  );
  assert.equal(await loader.count(TOPICS.dataKlines), 0);
});

test('an aggTrades answer that is JSON but not an array fails the page with a coded error', async (t) => {
  const loader = await startLoader(t, () => ({ status: 200, body: '{"code":0,"msg":"maintenance"}' }));
  await assert.rejects(loadPage(loader.deps, aggTradesPage(CTK_HOUR)), (error: unknown) => StreamForgeError.is(error));
});
