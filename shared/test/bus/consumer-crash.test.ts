/**
 * A consumer that kafkajs will not restart, on the test run's real broker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onConsumerGaveUp } from '../../src/bus/consumer-crash.ts';
import { createTestTopic, testKafka, uniqueName, waitFor } from '../../src/testing/index.ts';

test('a consumer the broker refuses for good is reported, not left idle: a session timeout below the broker minimum', async (t) => {
  const kafka = testKafka();
  const topic = await createTestTopic(kafka, 'crash');
  // Kafka's group.min.session.timeout.ms is 6 s: joining with 1 s is refused (INVALID_SESSION_TIMEOUT, not retriable).
  const consumer = kafka.consumer({ groupId: uniqueName('crash'), sessionTimeout: 1_000, heartbeatInterval: 300 });
  t.after(() => consumer.disconnect());
  const reasons: Error[] = [];
  onConsumerGaveUp(consumer, (error) => reasons.push(error));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  await consumer.run({ eachMessage: async () => undefined });
  await waitFor('the consumer given up', () => reasons.length > 0);
  assert.equal(reasons.length, 1);
  assert.equal((reasons[0] as Error & { type?: string }).type, 'INVALID_SESSION_TIMEOUT');
});
