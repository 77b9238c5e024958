import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRegistry } from '../../src/telemetry/metrics.ts';
import { consumerLagGauge, trackConsumerLag } from '../../src/telemetry/consumer-lag.ts';
import { createTestTopic, deleteTopics, testKafka, uniqueName, waitFor } from '../../src/testing/index.ts';

test('consumer lag is the records still to read: the backlog while a batch is handled, 0 once caught up', async (t) => {
  const kafka = testKafka();
  const topic = await createTestTopic(kafka, 'lag');
  t.after(() => deleteTopics(kafka, [topic]));
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ value: String(i) })) });
  await producer.disconnect();

  const registry = createRegistry({ service: 'lag-test', defaultMetrics: false });
  const groupId = uniqueName('lag-group');
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const stop = trackConsumerLag(consumer, { registry, groupId });
  t.after(() => consumer.disconnect());
  const lag = async () => (await consumerLagGauge(registry).get()).values.find((v) => v.labels.consumer_group === groupId && v.labels.topic === topic && v.labels.partition === '0')?.value;
  const seenWhileHandling: Array<number | undefined> = [];
  let handled = 0;
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async () => {
      if (handled++ === 0) seenWhileHandling.push(await lag());
    },
  });
  await waitFor('all 20 records handled', () => handled === 20);
  // The first batch began at offset 0 of 20: the whole topic was still to read.
  assert.equal(seenWhileHandling[0], 20);
  await waitFor('lag 0 after the last batch', async () => (await lag()) === 0);

  stop();
  assert.equal(await lag(), undefined, 'stopping removes the series');
});
