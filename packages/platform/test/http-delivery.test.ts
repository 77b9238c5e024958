/**
 * How the local KafkaSource dispatcher delivers one record over HTTP (http-delivery.ts and the
 * dispatcher's attempt), against a real HTTP server started here: what is sent, what a 2xx
 * commits, and what a failed attempt (a timeout, a refused connection, a 4xx or 5xx) leaves
 * in the dead letter. Every source here has `retry: 0`: one attempt, then the outcome,
 * whichever statuses a KafkaSource retries.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeEvent, headersToStrings, type EventProducer } from '@streamforge/core/bus';
import { createLogger } from '@streamforge/core/telemetry';
import {
  createTestTopic,
  listenForTest,
  readTopic,
  testKafka,
  topicMessageCount,
  uniqueName,
  waitFor,
  waitForGroupCaughtUp,
} from '@streamforge/testing';
import { startTestDispatcher, writeSourceManifest } from './source-manifests.ts';

const logger = createLogger({ service: 'http-delivery-test', level: 'silent' });

interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Hold the answer until this resolves (a slow sink). */
  after?: Promise<void>;
}

/** A sink: a real HTTP server that keeps every request and answers as the test says. */
async function startSink(
  t: TestContext,
  answer: (request: Received) => Answer,
): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { headers: req.headers, body: Buffer.concat(chunks) };
      received.push(request);
      const { status, headers, body, after } = answer(request);
      void (after ?? Promise.resolve()).then(() => {
        if (!res.destroyed) res.writeHead(status, headers).end(body ?? '');
      });
    });
  });
  return { url: `${await listenForTest(t, server)}/`, received };
}

interface Source {
  producer: EventProducer;
  topic: string;
  deadLetterTopic: string;
  groupId: string;
  /** The dead letters, as raw Kafka headers and value. */
  deadLetters(count: number): Promise<Array<{ headers: Record<string, string>; value: string }>>;
}

/** A KafkaSource (one attempt, `timeout`) from its topic to `sinkUrl`, dead letters to a KafkaSink: the dispatcher running it. */
async function startSource(t: TestContext, sinkUrl: string, timeout = 'PT5S'): Promise<Source> {
  const kafka = testKafka('http-delivery-test');
  const topic = await createTestTopic(kafka, 'delivery', 1);
  const deadLetterTopic = await createTestTopic(kafka, 'delivery-dlq', 1);
  const groupId = uniqueName('delivery-group');
  const dir = mkdtempSync(join(tmpdir(), 'sf-delivery-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeSourceManifest(dir, {
    name: 'delivery-source',
    topic,
    groupId,
    delivery: `{ retry: 0, timeout: ${timeout}, deadLetterSink: { ref: { apiVersion: eventing.knative.dev/v1alpha1, kind: KafkaSink, name: delivery-dlq } } }`,
    sink: 'sink',
    deadLetter: { name: 'delivery-dlq', topic: deadLetterTopic },
  });
  const producer = await startTestDispatcher(t, {
    kafka,
    dir,
    logger,
    namespace: 'streamforge',
    resolveSink: async () => sinkUrl,
  });
  return {
    producer,
    topic,
    deadLetterTopic,
    groupId,
    deadLetters: async (count) =>
      (await readTopic(kafka, deadLetterTopic, count)).map((record) => ({
        headers: headersToStrings(record.headers),
        value: record.value?.toString() ?? '',
      })),
  };
}

const klines = (id: string, data: unknown = { n: 1 }) => ({
  id,
  type: 'dev.streamforge.data.klines',
  source: '/streamforge/loader-api',
  subject: 'wf-btcusdt-test-1',
  partitionKey: 'BTCUSDT:0',
  data,
});

test('a CloudEvent record is POSTed in binary mode: each ce_ header a ce- header, the content type, the value byte for byte, and the partition and offset', async (t) => {
  const sink = await startSink(t, () => ({ status: 204 }));
  const source = await startSource(t, sink.url);
  const record = encodeEvent({ ...klines('evt-binary'), time: '2022-09-07T00:00:00.000Z' });
  record.value = Buffer.from('{"rows": [[1662508800000,"18790.61000000"]],  "spacing":"kept"}');
  record.headers = { ...record.headers, ce_streamforgenote: 'prix en €' };

  await source.producer.sendRecords(source.topic, [record]);

  const [request] = await waitFor('the event at the sink', () => sink.received.length === 1 && sink.received);
  assert.equal(request!.headers['ce-specversion'], '1.0');
  assert.equal(request!.headers['ce-id'], 'evt-binary');
  assert.equal(request!.headers['ce-type'], 'dev.streamforge.data.klines');
  assert.equal(request!.headers['ce-source'], '/streamforge/loader-api');
  assert.equal(request!.headers['ce-subject'], 'wf-btcusdt-test-1');
  assert.equal(request!.headers['ce-time'], '2022-09-07T00:00:00.000Z');
  assert.equal(request!.headers['ce-partitionkey'], 'BTCUSDT:0');
  // Header values are visible ASCII: anything else is percent-encoded, as the CloudEvents HTTP binding requires.
  assert.equal(request!.headers['ce-streamforgenote'], 'prix%20en%20%E2%82%AC');
  assert.equal(request!.headers['ce-datacontenttype'], undefined, 'the data content type travels as content-type');
  assert.equal(request!.headers['content-type'], 'application/json');
  assert.equal(request!.headers['ce-knativekafkapartition'], '0');
  assert.equal(request!.headers['ce-knativekafkaoffset'], '0');
  assert.equal(request!.headers['kn-namespace'], 'streamforge');
  assert.equal(request!.headers.prefer, 'reply');
  assert.equal(request!.body.toString(), '{"rows": [[1662508800000,"18790.61000000"]],  "spacing":"kept"}');
});

test('a structured-mode CloudEvent record is POSTed in binary mode, its data as the body', async (t) => {
  const sink = await startSink(t, () => ({ status: 204 }));
  const source = await startSource(t, sink.url);
  const structured = {
    specversion: '1.0',
    id: 'evt-structured',
    source: '/streamforge/queue-manager',
    type: 'dev.streamforge.command',
    subject: 'wf-a',
    datacontenttype: 'application/json',
    data: { command: 'stop' },
  };

  await source.producer.sendRecords(source.topic, [
    {
      key: 'BTCUSDT',
      value: JSON.stringify(structured),
      headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
    },
  ]);

  const [request] = await waitFor('the event at the sink', () => sink.received.length === 1 && sink.received);
  assert.deepEqual(
    [
      request!.headers['ce-id'],
      request!.headers['ce-type'],
      request!.headers['ce-source'],
      request!.headers['ce-subject'],
      request!.headers['ce-specversion'],
      request!.headers['content-type'],
    ],
    ['evt-structured', 'dev.streamforge.command', '/streamforge/queue-manager', 'wf-a', '1.0', 'application/json'],
  );
  assert.deepEqual(JSON.parse(request!.body.toString()), { command: 'stop' });
});

test('a 2xx answer commits the record: the group catches up and nothing is dead-lettered, whatever the 2xx', async (t) => {
  const statuses = [200, 202, 204];
  const sink = await startSink(t, (request) => ({
    status: statuses[Number(String(request.headers['ce-id']).slice(4))]!,
    body: 'ignored reply',
  }));
  const source = await startSource(t, sink.url);

  await source.producer.send(
    source.topic,
    statuses.map((_, n) => klines(`evt-${n}`)),
  );

  await waitForGroupCaughtUp(testKafka(), source.groupId, source.topic);
  assert.deepEqual(
    sink.received.map((request) => request.headers['ce-id']),
    ['evt-0', 'evt-1', 'evt-2'],
    'each delivered once, in order',
  );
  // The offset is committed only after the outcome, so a dead letter would already be there.
  assert.equal(await topicMessageCount(testKafka(), source.deadLetterTopic), 0);
});

test('a sink slower than the delivery timeout is a failed attempt: the record is dead-lettered with the timeout as the reason, and then committed', async (t) => {
  let answerLate: () => void = () => undefined;
  const late = new Promise<void>((resolve) => {
    answerLate = resolve;
  });
  t.after(() => answerLate());
  const sink = await startSink(t, () => ({ status: 204, after: late }));
  const source = await startSource(t, sink.url, 'PT0.5S');

  await source.producer.send(source.topic, [klines('evt-slow')]);

  const [dead] = await source.deadLetters(1);
  assert.equal(dead!.headers.ce_id, 'evt-slow');
  assert.match(dead!.headers.ce_streamforgedispatchreason!, /^delivery failed: .*timeout/i);
  assert.equal(dead!.headers.ce_knativeerrorcode, undefined, 'no status: the sink never answered');
  assert.equal(dead!.headers.ce_knativeerrordest, sink.url);
  assert.equal(dead!.value, JSON.stringify({ n: 1 }), 'the record as it was');
  await waitForGroupCaughtUp(testKafka(), source.groupId, source.topic);
});

test('a sink that is not listening is a failed attempt whose reason is the connection error', async (t) => {
  // A port that was just free: nothing listens there once this server is gone.
  const gone = await new Promise<string>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(`http://127.0.0.1:${port}/`));
    });
  });
  const source = await startSource(t, gone);

  await source.producer.send(source.topic, [klines('evt-unreachable')]);

  const [dead] = await source.deadLetters(1);
  assert.match(dead!.headers.ce_streamforgedispatchreason!, /^delivery failed: .*ECONNREFUSED/);
  assert.equal(dead!.headers.ce_knativeerrordest, gone);
});

test('the reason a sink gives with a 4xx or 5xx is kept: its status, its body, and its kne- headers travel with the dead letter', async (t) => {
  const refusal = '{"error":"SF_CONTRACT_INVALID","message":"rows: must be an array"}';
  const sink = await startSink(
    t,
    (request): Answer =>
      request.headers['ce-id'] === 'evt-400'
        ? {
            status: 400,
            headers: {
              'content-type': 'application/json',
              'kne-streamforgeerror': 'SF_CONTRACT_INVALID',
              'kne-streamforgereason': encodeURIComponent('rows: must be an array'),
            },
            body: refusal,
          }
        : { status: 503, headers: { 'content-type': 'text/plain' }, body: 'store is down' },
  );
  const source = await startSource(t, sink.url);

  await source.producer.send(source.topic, [klines('evt-400'), klines('evt-503')]);

  const dead = await source.deadLetters(2);
  const byId = new Map(dead.map((letter) => [letter.headers.ce_id, letter.headers]));
  const refused = byId.get('evt-400')!;
  assert.equal(refused.ce_knativeerrorcode, '400');
  assert.equal(Buffer.from(refused.ce_knativeerrordata!, 'base64').toString(), refusal);
  assert.equal(refused.ce_streamforgeerror, 'SF_CONTRACT_INVALID');
  assert.equal(decodeURIComponent(refused.ce_streamforgereason!), 'rows: must be an array');
  assert.equal(refused.ce_streamforgedispatchreason, 'sink answered 400');
  const failed = byId.get('evt-503')!;
  assert.equal(failed.ce_knativeerrorcode, '503');
  assert.equal(Buffer.from(failed.ce_knativeerrordata!, 'base64').toString(), 'store is down');
  assert.equal(failed.ce_streamforgedispatchreason, 'sink answered 503');
  // The dead letter is the event as it was: its attributes and data.
  assert.deepEqual(
    [failed.ce_type, failed.ce_subject, failed['content-type']],
    ['dev.streamforge.data.klines', 'wf-btcusdt-test-1', 'application/json'],
  );
});

test('a long failure body is kept up to its first 1024 bytes', async (t) => {
  const page = `<html>${'x'.repeat(5000)}</html>`;
  const sink = await startSink(t, () => ({ status: 502, headers: { 'content-type': 'text/html' }, body: page }));
  const source = await startSource(t, sink.url);

  await source.producer.send(source.topic, [klines('evt-502')]);

  const [dead] = await source.deadLetters(1);
  assert.equal(Buffer.from(dead!.headers.ce_knativeerrordata!, 'base64').toString(), page.slice(0, 1024));
});
