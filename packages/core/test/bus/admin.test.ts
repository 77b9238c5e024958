/**
 * Creating the topic plan on the test run's real broker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPIC_PLAN, ensureTopics, startRecordConsumer, topicName } from '../../src/bus/index.ts';
import { deleteTopics, testKafka, uniqueName } from '@streamforge/testing';

test('ensureTopics returns once every topic has a leader: a client that subscribes right after finds them all', async (t) => {
  const kafka = testKafka();
  // Several rounds: the broker's metadata lagging behind a creation is a race, not a rule.
  for (let round = 0; round < 3; round++) {
    const prefix = `${uniqueName('admin')}.`;
    const names = TOPIC_PLAN.map((spec) => topicName(spec.name, prefix));
    t.after(() => deleteTopics(kafka, names));
    assert.deepEqual(new Set(await ensureTopics(kafka, { prefix })), new Set(names));
    // A consumer joins and fixes its start offsets on every partition: this fails if one is not ready.
    const consumer = await startRecordConsumer({
      connection: kafka,
      groupId: uniqueName('admin-reader'),
      topics: names,
      from: 'earliest',
      commit: false,
      handle: async () => undefined,
    });
    try {
      await consumer.ready();
    } finally {
      await consumer.stop();
    }
  }
});

test('ensureTopics leaves existing topics as they are and creates only the missing ones', async (t) => {
  const kafka = testKafka();
  const prefix = `${uniqueName('admin')}.`;
  const [first, ...rest] = TOPIC_PLAN;
  t.after(() =>
    deleteTopics(
      kafka,
      TOPIC_PLAN.map((spec) => topicName(spec.name, prefix)),
    ),
  );
  assert.deepEqual(await ensureTopics(kafka, { prefix, plan: [first!] }), [topicName(first!.name, prefix)]);
  const created = await ensureTopics(kafka, { prefix });
  assert.deepEqual(new Set(created), new Set(rest.map((spec) => topicName(spec.name, prefix))));
  assert.deepEqual(await ensureTopics(kafka, { prefix }), [], 'a second run creates nothing');
});
