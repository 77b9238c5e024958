/**
 * The main job end to end on real components: `streamforge up` with the exchange simulator
 * (a stand-in for Binance), the queue-manager API, loader-api pages through Kafka, the
 * KafkaSource dispatcher, arango-connector, the SQLite store.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOPICS, createEventProducer } from '@streamforge/core/bus';
import { rowFromKline, type KlineRecord } from '@streamforge/core/contracts';
import { PROJECT_ROOT } from '@streamforge/platform';
import {
  readTopic,
  stackApi,
  startTestStack,
  testKafka,
  topicMessageCount,
  waitForGroupCaughtUp,
  type TestStack,
  type WorkflowView,
} from '@streamforge/testing';

const KLINES_DIR = join(PROJECT_ROOT, 'test', 'fixtures', 'binance', 'klines');
let stack: TestStack;

before(async () => {
  stack = await startTestStack({ EXCHANGE: 'simulator', SIM_KLINES_DIR: KLINES_DIR, SIM_WEIGHT_LIMIT: 'Infinity' });
});
after(() => stack?.down());

const api = stackApi(() => stack.state.api_url);
const { call, allRecords } = api;
const backfill = (symbol: string, type: string, timeRange: string, extra: Record<string, unknown> = {}) =>
  api.start({ symbol, type, time_range: timeRange, ...extra });
const finalState = (queueId: string, timeoutMs = 60_000) => api.final(queueId, timeoutMs);
type Workflow = WorkflowView;

test('one day of BTCUSDT api_candles_5m gives exactly 288 records, each equal to the exchange candle', async () => {
  const workflow = await backfill('BTCUSDT', 'api_candles_5m', '2024-08-01:2024-08-02');
  const done = await finalState(workflow.queue_id);
  assert.equal(done.status, 'completed', done.error);
  assert.equal(done.stored?.records_written, 288);
  const records = await allRecords<KlineRecord>(workflow.collection_name);
  assert.equal(records.length, 288);
  const exchange = await fetch(
    `${stack.state.exchange_url}/api/v3/klines?symbol=BTCUSDT&interval=5m&startTime=${Date.UTC(2024, 7, 1)}&endTime=${Date.UTC(2024, 7, 2) - 1}&limit=1000`,
  );
  const rows = (await exchange.json()) as unknown[];
  assert.deepEqual(records.map(rowFromKline), rows);
});

test('the event trail read one event per page with `next` is the whole trail, and a bodiless stop with a JSON content type is accepted', async () => {
  const workflow = await backfill('ETHUSDT', 'api_candles_5m', '2024-08-02:2024-08-03');
  await finalState(workflow.queue_id);
  type Page = { events: Array<{ event_id: string }>; next: string | null };
  const whole = await call<Page>('GET', `/workflows/${workflow.queue_id}/events?limit=5000`);
  const paged: string[] = [];
  let page = await call<Page>('GET', `/workflows/${workflow.queue_id}/events?limit=1`);
  while (page.body.events.length > 0) {
    paged.push(...page.body.events.map((e) => e.event_id));
    page = await call<Page>(
      'GET',
      `/workflows/${workflow.queue_id}/events?limit=1&after=${encodeURIComponent(String(page.body.next))}`,
    );
  }
  assert.ok(whole.body.events.length > 2);
  assert.deepEqual(
    paged,
    whole.body.events.map((e) => e.event_id),
  );
  assert.equal(page.body.next, whole.body.next, 'past the end, the cursor stays where it was');
  const bad = await call<{ error: string; message: string }>(
    'GET',
    `/workflows/${workflow.queue_id}/events?after=12345`,
  );
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /querystring\.after/);

  const stop = await fetch(`${stack.state.api_url}/workflows/${workflow.queue_id}/stop`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
  });
  assert.notEqual(stop.status, 400, await stop.text());
});

test('a year of 1h candles for three symbols in parallel completes with exact counts', async () => {
  const symbols = ['ETHUSDT', 'SOLUSDT', 'BNBUSDT'];
  const workflows = await Promise.all(symbols.map((s) => backfill(s, 'api_candles_1h', '2024-01-01:2025-01-01')));
  const done = await Promise.all(workflows.map((w) => finalState(w.queue_id, 120_000)));
  for (const w of done) {
    assert.equal(w.status, 'completed', w.error);
    assert.equal(w.stored?.records_written, 366 * 24);
    const { body } = await call<{ count: number }>('GET', `/collections/${w.collection_name}`);
    assert.equal(body.count, 366 * 24);
  }
});

test('real klines from data.binance.vision files come back bit-identical', async () => {
  const workflow = await backfill('BTCUSDT', 'api_candles_1h', '2023-01-01:2023-02-01');
  const done = await finalState(workflow.queue_id);
  assert.equal(done.status, 'completed', done.error);
  const csv = readFileSync(join(KLINES_DIR, 'spot', 'BTCUSDT-1h-2023-01.csv'), 'utf8')
    .trim()
    .split('\n')
    .filter((line) => /^\d/.test(line));
  const records = await allRecords<KlineRecord>(workflow.collection_name);
  assert.equal(records.length, csv.length);
  records.forEach((record, i) => {
    const cells = csv[i]!.split(',');
    assert.deepEqual(rowFromKline(record).map(String), cells, `row ${i} differs`);
  });
});

test('redelivering every data event stores no duplicate', async () => {
  const workflow = await backfill('XRPUSDT', 'api_candles_15m', '2024-03-01:2024-03-15');
  const done = await finalState(workflow.queue_id);
  assert.equal(done.status, 'completed', done.error);
  const expected = 14 * 96;
  assert.equal(done.stored?.records_written, expected);

  // Publish every data event of this workflow a second time, byte for byte.
  const kafka = testKafka();
  const topic = `${stack.prefix}${TOPICS.dataKlines}`;
  const mine = (await readTopic(kafka, topic, await topicMessageCount(kafka, topic))).filter(
    (r) => r.headers.ce_subject?.toString() === workflow.queue_id,
  );
  assert.ok(mine.length >= 2);
  const producer = await createEventProducer(kafka, { topicPrefix: '' });
  await producer.sendRecords(
    topic,
    mine.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
  );
  await producer.disconnect();
  await waitForGroupCaughtUp(kafka, `${stack.prefix}arango-connector-data`, topic);

  const again = await call<Workflow>('GET', `/workflows/${workflow.queue_id}`);
  assert.equal(again.body.stored?.records_written, expected);
  const { body } = await call<{ count: number }>('GET', `/collections/${workflow.collection_name}`);
  assert.equal(body.count, expected);
  assert.equal((await allRecords<KlineRecord>(workflow.collection_name)).length, expected);
});

test('an invalid symbol ends in status error with the exchange message', async () => {
  const workflow = await backfill('NOPEUSDT', 'api_candles_1h', '2024-01-01:2024-01-02');
  const done = await finalState(workflow.queue_id);
  assert.equal(done.status, 'error');
  assert.match(done.error ?? '', /Invalid symbol/);
});

test('a malformed request gets 400 with a JSON reason and registers nothing', async () => {
  const before = await call<{ workflows: Workflow[] }>('GET', '/workflows?limit=1000');
  for (const [body, reason] of [
    [{ symbol: 'BTC-USDT', type: 'api_candles_1h', time_range: '2024-01-01:2024-01-02' }, /symbol/],
    [{ symbol: 'BTCUSDT', type: 'api_candles_7m', time_range: '2024-01-01:2024-01-02' }, /unknown interval "7m"/],
    [{ symbol: 'BTCUSDT', type: 'api_candles_1h', time_range: '2024-01-02:2024-01-01' }, /reversed/],
    [{ symbol: 'BTCUSDT', type: 'api_candles_1h', time_range: '2024-01-01:2024-01-01' }, /empty/],
    [{ symbol: 'BTCUSDT', type: 'api_candles_1h', time_range: '2024-01-01:2024-01-02', colour: 'red' }, /colour/],
    // Each of these was taken (201) and then left pending or running for ever, or left a pending workflow behind a 400.
    [{ symbol: 'BTCUSDT', type: 'api_candles_1d', time_range: '1969-12-01:1970-01-10' }, /before spot had data/],
    [{ symbol: 'BTCUSDT', type: 'dummy_x', params: { reason: 1 } }, /params\.reason/],
    [
      { symbol: 'BTCUSDT', type: 'api_candles_1h', time_range: '2024-01-01:2024-01-02', collection_name: 'workflows' },
      /reserved/,
    ],
  ] as const) {
    const response = await call<{ error: string; message: string }>('POST', '/workflows', body);
    assert.equal(response.status, 400);
    assert.equal(response.body.error, 'SF_CONTRACT_INVALID');
    assert.match(response.body.message, reason);
  }
  const afterwards = await call<{ workflows: Workflow[] }>('GET', '/workflows?limit=1000');
  assert.equal(afterwards.body.workflows.length, before.body.workflows.length);
});

test('the API documents itself at /openapi.json', async () => {
  const { status, body } = await call<{ openapi: string; paths: Record<string, unknown> }>('GET', '/openapi.json');
  assert.equal(status, 200);
  assert.match(body.openapi, /^3\./);
  for (const path of [
    '/workflows',
    '/workflows/{id}',
    '/workflows/{id}/events',
    '/workflows/{id}/stop',
    '/collections/{name}',
    '/collections/{name}/records',
  ]) {
    assert.ok(body.paths[path], `${path} is documented`);
  }
});
