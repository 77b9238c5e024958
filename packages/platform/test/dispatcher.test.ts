import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BusConnection } from '@streamforge/core/bus';
import { decodeRecord, encodeEvent } from '@streamforge/core/bus';
import type { EventProducer } from '@streamforge/core/bus';
import { createLogger } from '@streamforge/core/telemetry';
import { StreamForgeError } from '@streamforge/core/errors';
import { serveFunction } from '@streamforge/core/runtime';
import { startTestDispatcher, writeSourceManifest } from './source-manifests.ts';
import {
  createTestTopic,
  readTopic,
  startRecordingSink,
  testKafka,
  uniqueName,
  waitFor,
  waitForGroupCaughtUp,
  type RecordingSink,
  type Responder,
} from '@streamforge/testing';

const logger = createLogger({ service: 'dispatcher-test', level: 'warn' });

interface Setup {
  kafka: BusConnection;
  groupId: string;
  producer: EventProducer;
  topic: string;
  deadLetterTopic: string;
  sink: RecordingSink;
}

/** A KafkaSource manifest, read by the same parser the platform uses, pointing at a recording sink. */
async function startSource(
  t: TestContext,
  respond: Responder,
  delivery: string,
  options: { partitions?: number; ordering?: string; sinkUrl?: string } = {},
): Promise<Setup> {
  const kafka = testKafka();
  const topic = await createTestTopic(kafka, 'dispatch', options.partitions ?? 1);
  const deadLetterTopic = await createTestTopic(kafka, 'dispatch-dlq', 1);
  const sink = await startRecordingSink(respond);
  const groupId = uniqueName('group');
  const dir = mkdtempSync(join(tmpdir(), 'sf-sources-'));
  writeSourceManifest(dir, {
    name: 'test-source',
    topic,
    groupId,
    ordering: options.ordering ?? 'ordered',
    delivery,
    sink: 'recorder',
    deadLetter: { name: 'test-dlq', topic: deadLetterTopic },
  });
  const producer = await startTestDispatcher(t, {
    kafka,
    dir,
    logger,
    resolveSink: async () => options.sinkUrl ?? sink.url,
  });
  t.after(async () => {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { kafka, groupId, producer, topic, deadLetterTopic, sink };
}

const FAST_RETRY =
  '{ retry: 3, backoffPolicy: exponential, backoffDelay: PT0.01S, timeout: PT5S, deadLetterSink: { ref: { apiVersion: eventing.knative.dev/v1alpha1, kind: KafkaSink, name: test-dlq } } }';

function klineEvent(i: number, key = 'BTCUSDT') {
  return {
    id: `evt-${i}`,
    type: 'dev.streamforge.data.klines',
    source: '/streamforge/test',
    subject: 'wf-btcusdt-test-1',
    partitionKey: key,
    data: { n: i },
  };
}

test('a CloudEvent produced to Kafka reaches the sink with the same id, type, source, subject and data', async (t) => {
  const { producer, topic, sink } = await startSource(t, () => 204, FAST_RETRY);
  await producer.send(topic, [klineEvent(1)]);
  const [request] = await waitFor('the event at the sink', () => sink.accepted.length === 1 && sink.accepted);
  assert.equal(request?.headers['ce-id'], 'evt-1');
  assert.equal(request?.headers['ce-type'], 'dev.streamforge.data.klines');
  assert.equal(request?.headers['ce-source'], '/streamforge/test');
  assert.equal(request?.headers['ce-subject'], 'wf-btcusdt-test-1');
  assert.equal(request?.headers['ce-specversion'], '1.0');
  assert.equal(request?.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(request?.body ?? ''), { n: 1 });
  // As Knative's dispatcher does, the partition and offset travel as extensions.
  assert.equal(request?.headers['ce-knativekafkapartition'], '0');
  assert.equal(request?.headers['ce-knativekafkaoffset'], '0');
});

test('a delivery that takes 30 s keeps the dispatcher in its group: each event delivered once, in order, then committed', async (t) => {
  // Three times the 10 s session: a consumer that heartbeats only between records would be thrown out and the record redelivered.
  const { producer, topic, sink, kafka, groupId } = await startSource(
    t,
    (_r, n) => (n === 0 ? { status: 204, delayMs: 30_000 } : 204),
    FAST_RETRY.replace('timeout: PT5S', 'timeout: PT60S'),
  );
  await producer.send(topic, [klineEvent(1), klineEvent(2)]);
  await waitFor('both delivered', () => sink.accepted.length === 2, { timeoutMs: 60_000 });
  await waitForGroupCaughtUp(kafka, groupId, topic);
  assert.deepEqual(
    sink.requests.map((r) => r.headers['ce-id']),
    ['evt-1', 'evt-2'],
    'each once, the slow one first',
  );
});

test('a sink that fails the first 2 times gets the event after retries, once', async (t) => {
  const { producer, topic, sink, kafka, deadLetterTopic } = await startSource(
    t,
    (_r, _n, attempt) => (attempt < 2 ? 503 : 202),
    FAST_RETRY,
  );
  await producer.send(topic, [klineEvent(7)]);
  await waitFor('delivery after two failures', () => sink.accepted.length === 1);
  assert.equal(sink.requests.length, 3);
  assert.equal(sink.requests.filter((r) => r.headers['ce-id'] === 'evt-7').length, 3);
  await assert.rejects(readTopic(kafka, deadLetterTopic, 1, 1_500), /timed out/);
});

test('a sink that always fails sends the event to the dead-letter topic with the reason once retries are exhausted', async (t) => {
  const { producer, topic, sink, kafka, deadLetterTopic } = await startSource(
    t,
    () => ({ status: 500, body: 'store is down', headers: { 'kne-streamforgeerror': 'SF_DEPENDENCY_UNAVAILABLE' } }),
    FAST_RETRY,
  );
  await producer.send(topic, [klineEvent(9)]);
  const [dead] = await readTopic(kafka, deadLetterTopic, 1);
  assert.equal(sink.requests.length, 4, 'one attempt and three retries');
  const event = decodeRecord(dead!);
  assert.equal(event.id, 'evt-9');
  assert.deepEqual(event.data, { n: 9 });
  assert.equal(event.knativeerrorcode, '500');
  assert.equal(event.knativeerrordest, sink.url);
  assert.equal(Buffer.from(String(event.knativeerrordata), 'base64').toString(), 'store is down');
  assert.equal(event.streamforgeerror, 'SF_DEPENDENCY_UNAVAILABLE');
});

test('a sink that answers 400 is not retried: the event goes straight to the dead-letter topic', async (t) => {
  const { producer, topic, sink, kafka, deadLetterTopic } = await startSource(
    t,
    () => ({ status: 400, body: '{"error":"SF_CONTRACT_INVALID"}' }),
    FAST_RETRY,
  );
  await producer.send(topic, [klineEvent(3)]);
  const [dead] = await readTopic(kafka, deadLetterTopic, 1);
  assert.equal(sink.requests.length, 1);
  assert.equal(decodeRecord(dead!).knativeerrorcode, '400');
});

test('a record that is not a CloudEvent arrives as dev.knative.kafka.event with its key and headers as extensions', async (t) => {
  const { producer, topic, sink } = await startSource(t, () => 204, FAST_RETRY);
  await producer.sendRecords(topic, [
    {
      key: 'ETHUSDT',
      value: '{"price":"1.5"}',
      headers: { 'content-type': 'application/json', 'X-Correlation-Id': 'c-1' },
    },
  ]);
  const [request] = await waitFor('the plain record at the sink', () => sink.accepted.length === 1 && sink.accepted);
  assert.equal(request?.headers['ce-type'], 'dev.knative.kafka.event');
  assert.equal(request?.headers['ce-id'], 'partition:0/offset:0');
  assert.match(String(request?.headers['ce-source']), new RegExp(`/kafkasources/test-source#${topic}$`));
  assert.equal(request?.headers['ce-key'], 'ETHUSDT');
  assert.equal(request?.headers['ce-partitionkey'], 'ETHUSDT');
  assert.equal(request?.headers['ce-kafkaheaderxcorrelationid'], 'c-1');
  assert.equal(request?.body, '{"price":"1.5"}');
});

test('per-partition order holds while deliveries fail and are retried', async (t) => {
  // Every third attempt fails with a retryable status; order must still be 0..59 per symbol.
  const { producer, topic, sink } = await startSource(
    t,
    (_r, n) => (n % 3 === 1 ? 503 : 204),
    '{ retry: 5, backoffPolicy: linear, backoffDelay: PT0.005S }',
    { partitions: 3 },
  );
  const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
  const events = symbols.flatMap((symbol) =>
    Array.from({ length: 60 }, (_, i) => ({ ...klineEvent(i, symbol), id: `${symbol}-${i}`, data: { symbol, n: i } })),
  );
  await producer.send(topic, events);
  await waitFor('all 180 events delivered', () => sink.accepted.length >= 180, { timeoutMs: 60_000 });
  for (const symbol of symbols) {
    const seen = sink.accepted
      .map((r) => JSON.parse(r.body) as { symbol: string; n: number })
      .filter((d) => d.symbol === symbol)
      .map((d) => d.n);
    assert.deepEqual(
      seen,
      Array.from({ length: 60 }, (_, i) => i),
      `${symbol} delivered in order, each once`,
    );
  }
});

test('unordered delivery overlaps requests but still delivers every record', async (t) => {
  const { producer, topic, sink } = await startSource(t, () => 204, FAST_RETRY, { ordering: 'unordered' });
  await producer.send(
    topic,
    Array.from({ length: 100 }, (_, i) => klineEvent(i)),
  );
  await waitFor('100 deliveries', () => sink.accepted.length === 100);
  assert.equal(new Set(sink.accepted.map((r) => r.headers['ce-id'])).size, 100);
});

test('the record value is forwarded byte for byte, without re-encoding', async (t) => {
  const { producer, topic, sink } = await startSource(t, () => 204, FAST_RETRY);
  const message = encodeEvent(klineEvent(5));
  message.value = Buffer.from('{"n": 5,  "spacing":"kept"}');
  await producer.sendRecords(topic, [message]);
  const [request] = await waitFor('the event', () => sink.accepted.length === 1 && sink.accepted);
  assert.equal(request?.body, '{"n": 5,  "spacing":"kept"}');
});

test("unordered: one workflow's events answered 503 and retried for minutes, more of them than places in flight, never hold up another workflow's on the same partition", async (t) => {
  // loader-api-work's delivery: 10 retries, 0.5 s doubling (17 minutes for a record that keeps failing).
  const delivery =
    '{ retry: 10, backoffPolicy: exponential, backoffDelay: PT0.5S, timeout: PT120S, deadLetterSink: { ref: { apiVersion: eventing.knative.dev/v1alpha1, kind: KafkaSink, name: test-dlq } } }';
  const { producer, topic, sink } = await startSource(
    t,
    (r) => (r.headers['ce-subject'] === 'wf-poison' ? 503 : 204),
    delivery,
    { ordering: 'unordered' },
  );
  const workflow = (subject: string, count: number) =>
    Array.from({ length: count }, (_, i) => ({ ...klineEvent(i), id: `${subject}-${i}`, subject }));
  // One partition: the poison's 60 pages (more than the 50 places) come first.
  await producer.send(topic, workflow('wf-poison', 60));
  await waitFor(
    "the poison's events failing and being retried",
    () => new Set(sink.requests.map((r) => r.headers['ce-id'])).size >= 45 && sink.requests.length > 60,
  );
  await producer.send(topic, workflow('wf-normal', 20));
  await waitFor("the other workflow's events delivered meanwhile", () => sink.accepted.length === 20);
  assert.ok(sink.accepted.every((r) => r.headers['ce-subject'] === 'wf-normal'));
});

test('the dispatcher acts on the disposition the function runtime names: a reject is dead-lettered at once, SF_BUSY is retried until it succeeds', async (t) => {
  const attempts = new Map<string, number>();
  const running = await serveFunction(
    {
      handle: (_context, event) => {
        const id = String(event?.id);
        attempts.set(id, (attempts.get(id) ?? 0) + 1);
        if (id === 'evt-1') throw new StreamForgeError('SF_NOT_FOUND', 'no workflow wf-btcusdt-test-1');
        if (id === 'evt-2' && attempts.get(id)! < 3)
          throw new StreamForgeError('SF_BUSY', 'graph set g1 is still being built');
        return undefined;
      },
    },
    {
      name: 'disposition-sink',
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ service: 'disposition-sink', level: 'silent' }),
    },
  );
  t.after(() => running.close());
  const { producer, topic, kafka, deadLetterTopic } = await startSource(t, () => 204, FAST_RETRY, {
    sinkUrl: running.url,
  });
  await producer.send(topic, [klineEvent(1), klineEvent(2)]);
  const [dead] = await readTopic(kafka, deadLetterTopic, 1);
  await waitFor('the second event delivered after its retries', () => attempts.get('evt-2') === 3);
  const letter = decodeRecord(dead!);
  assert.equal(letter.id, 'evt-1');
  assert.equal(attempts.get('evt-1'), 1, 'a reject is not retried, though Knative would retry its REST status 404');
  assert.equal(letter.knativeerrorcode, '422');
  assert.equal(letter.streamforgeerror, 'SF_NOT_FOUND');
  assert.equal(letter.streamforgedisposition, 'reject');
  assert.equal(letter.streamforgeretryable, 'false');
  await assert.rejects(
    readTopic(kafka, deadLetterTopic, 2, 1_500),
    /timed out/,
    'the busy event was not dead-lettered',
  );
});
