import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEventProducer, MAX_SEND_BYTES, sliceBySize } from '../../src/bus/index.ts';
import { LOCAL_BROKER_MAX_MESSAGE_BYTES } from '@streamforge/platform';
import { createTestTopic, readTopic, testKafka } from '@streamforge/testing';

test('items are cut in order into runs of at most maxBytes and maxItems; an item above maxBytes runs alone', () => {
  const sizes = [3, 3, 3, 9, 12, 1, 1, 1, 1, 1];
  const runs = sliceBySize(sizes, (size) => size, 10, 4);
  assert.deepEqual(runs, [[3, 3, 3], [9], [12], [1, 1, 1, 1], [1]]);
  assert.deepEqual(runs.flat(), sizes, 'nothing lost, nothing reordered');
  assert.deepEqual(
    sliceBySize(sizes, (size) => size, 10, 4),
    runs,
    'the same items give the same runs',
  );
  assert.deepEqual(
    sliceBySize([], () => 1, 10),
    [],
  );
});

test("one send several times the broker's max message size arrives whole and in order", async (t) => {
  const kafka = testKafka('send-limits-test');
  const topic = await createTestTopic(kafka, 'large-send', 1);
  const producer = await createEventProducer(kafka, { topicPrefix: '' });
  t.after(() => producer.disconnect());
  // 60 events of 100 kB to one partition: 6 MB, three times what the test broker takes in one batch.
  const events = Array.from({ length: 60 }, (_, i) => ({
    id: `e${i}`,
    type: 'dev.streamforge.test',
    source: '/test',
    partitionKey: 'one',
    data: { i, blob: 'x'.repeat(100_000) },
  }));
  assert.ok(60 * 100_000 > 2 * LOCAL_BROKER_MAX_MESSAGE_BYTES && 100_000 < MAX_SEND_BYTES);
  await producer.send(topic, events);
  const ids = (await readTopic(kafka, topic, 60)).map((r) => String(r.headers.ce_id));
  assert.deepEqual(
    ids,
    events.map((e) => e.id),
  );
});
