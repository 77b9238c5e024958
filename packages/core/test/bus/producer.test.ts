/**
 * The event producer on a real broker, behind a proxy that loses the answer to a produce the
 * broker did write: the ambiguous failure that a broker restart or a network cut causes.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBusConnection, createEventProducer, waitForKafka } from '../../src/bus/index.ts';
import { freePort } from '@streamforge/platform';
import { startLocalBroker } from '@streamforge/platform';
import { createTestTopic, readTopic } from '@streamforge/testing';
import { startKafkaFaultProxy, type KafkaFaultProxy } from '@streamforge/testing';

/** A broker of its own that clients reach only through the fault proxy. */
async function brokerBehindProxy(t: TestContext): Promise<{ proxy: KafkaFaultProxy; brokers: string }> {
  const brokerPort = await freePort();
  const proxy = await startKafkaFaultProxy(brokerPort);
  const dataDir = mkdtempSync(join(tmpdir(), 'sf-broker-'));
  const broker = await startLocalBroker({ dataDir, port: brokerPort, advertisedPort: proxy.port });
  t.after(async () => {
    await proxy.close();
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { proxy, brokers: broker.brokers };
}

/**
 * A producer that gives up quickly (a lost answer fails a request after 2 s, a lost broker after
 * two retries), on a broker behind a proxy that can lose its answers; the caller disconnects it.
 */
async function impatientProducer(t: TestContext) {
  const { proxy, brokers } = await brokerBehindProxy(t);
  const kafka = createBusConnection({ brokers: [brokers], clientId: 'producer-test' });
  await waitForKafka(kafka);
  const producer = await createEventProducer(kafka, { topicPrefix: '', requestTimeoutMs: 2_000, retries: 2 });
  return { proxy, kafka, producer };
}

const event = (id: string) => ({ id, type: 'dev.streamforge.test', source: '/test', data: { id } });

test('a send whose answer was lost is retried before any other send: an acknowledged event is never dropped as a duplicate', async (t) => {
  const { proxy, kafka, producer } = await impatientProducer(t);
  const topic = await createTestTopic(kafka, 'lost-answer', 1);
  t.after(() => producer.disconnect());
  await producer.send(topic, [event('first')]);

  proxy.swallowNextProduceResponse();
  // `second` is written but its answer lost, while `third` is under way too. Were `third` to
  // take second's sequence number while `second` is retried, the broker would acknowledge it
  // as a duplicate without writing it (what kafkajs did).
  await Promise.all([producer.send(topic, [event('second')]), producer.send(topic, [event('third')])]);
  assert.equal(proxy.swallowed(), 1, 'the broker wrote a batch whose answer the producer never saw');

  await producer.send(topic, [event('fourth')]);
  const ids = (await readTopic(kafka, topic, 4)).map((r) => String(r.headers.ce_id));
  assert.deepEqual(ids, ['first', 'second', 'third', 'fourth'], 'each event once, in the order sent');
});

test('after a send failed for good, the next one goes under a new producer id, so the broker cannot take it for the failed one', async (t) => {
  const { proxy, kafka, producer } = await impatientProducer(t);
  const topic = await createTestTopic(kafka, 'failed-send', 1);
  t.after(() => producer.disconnect());
  await producer.send(topic, [event('first')]);

  // The broker writes `second`, then is gone before it answers, for longer than the retries.
  proxy.swallowNextProduceResponse({ thenCut: true });
  await assert.rejects(
    producer.send(topic, [event('second')]),
    (error: Error & { code?: string }) => error.code === 'SF_DEPENDENCY_UNAVAILABLE',
  );
  proxy.restore();

  await producer.send(topic, [event('third')]);
  const ids = (await readTopic(kafka, topic, 3)).map((r) => String(r.headers.ce_id));
  assert.deepEqual(
    ids,
    ['first', 'second', 'third'],
    'the failed send was written once; the next one was not taken for it',
  );
});

test('a disconnected producer refuses new sends with a clear error', async (t) => {
  const { producer } = await impatientProducer(t);
  await producer.disconnect();
  await assert.rejects(producer.send('any-topic', [event('late')]), /the producer is closed/);
});
