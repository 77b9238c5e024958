/**
 * The record consumer on the test run's real broker: commits after the outcome, order per
 * partition, bounded in-flight work, group membership through a long handler, lag, a
 * group that refuses the member, and a handler's error whose disposition says not to retry.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  createEventProducer,
  startRecordConsumer,
  withAdmin,
  type ConsumedRecord,
  type RecordConsumerOptions,
} from '../../src/bus/index.ts';
import { StreamForgeError } from '../../src/errors.ts';
import { consumerLagGauge } from '../../src/telemetry/consumer-lag.ts';
import { createRegistry } from '../../src/telemetry/metrics.ts';
import { createTestTopic, deleteTopics, testKafka, uniqueName, waitFor } from '@streamforge/testing';

const kafka = testKafka('record-consumer-test');

async function produce(topic: string, values: string[], key = 'k'): Promise<void> {
  const producer = await createEventProducer(kafka, { topicPrefix: '' });
  try {
    await producer.sendRecords(
      topic,
      values.map((value) => ({ key, value })),
    );
  } finally {
    await producer.disconnect();
  }
}

/** `count` record values: the prefix and their index. */
const numbered = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

/** Two fresh topics, deleted after the test. */
async function topics(t: TestContext, first: string, second: string): Promise<[string, string]> {
  const created: [string, string] = [await createTestTopic(kafka, first), await createTestTopic(kafka, second)];
  t.after(() => deleteTopics(kafka, created));
  return created;
}

/** A handler holds on `held` until the test calls `release`. */
function gate(): { held: Promise<void>; release: () => void } {
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => {
    release = r;
  });
  return { held, release };
}

/** A committing member of `groupId` reading `topic` from the start, with the options a test sets. */
const consume = (
  topic: string,
  groupId: string,
  options: Pick<RecordConsumerOptions, 'handle'> & Partial<RecordConsumerOptions>,
) => startRecordConsumer({ connection: kafka, groupId, topics: [topic], from: 'earliest', commit: true, ...options });

const committedOf = (groupId: string, topic: string) =>
  withAdmin(
    kafka,
    async (admin) => (await admin.groupOffsets(groupId, [topic])).get(topic) ?? new Map<number, string>(),
  );

test('a handler that takes 30 s keeps its member in the group: one join, the record handled once, its offset committed after', async (t) => {
  const topic = await createTestTopic(kafka, 'long-handler');
  t.after(() => deleteTopics(kafka, [topic]));
  await produce(topic, ['slow', 'next']);
  const groupId = uniqueName('long-handler');
  const joins: number[] = [];
  const handled: string[] = [];
  const consumer = await consume(topic, groupId, {
    // Three sessions' worth of handler: without heartbeats of its own the member would be dropped.
    sessionTimeoutMs: 10_000,
    onAssigned: () => joins.push(Date.now()),
    handle: async (record) => {
      handled.push(String(record.value));
      if (String(record.value) === 'slow') {
        assert.equal((await committedOf(groupId, topic)).get(0), undefined, 'nothing committed while the handler runs');
        await new Promise((r) => setTimeout(r, 30_000));
      }
    },
  });
  t.after(() => consumer.stop());
  await waitFor(
    'both records handled and committed',
    async () => handled.length === 2 && (await committedOf(groupId, topic)).get(0) === '2',
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  assert.deepEqual(handled, ['slow', 'next'], 'each record once, in order');
  assert.equal(joins.length, 1, 'no rebalance while the handler ran');
});

test('unordered: records run side by side, but the commit never passes one still running', async (t) => {
  const topic = await createTestTopic(kafka, 'unordered');
  t.after(() => deleteTopics(kafka, [topic]));
  await produce(topic, ['0', '1', '2', '3', '4']);
  const groupId = uniqueName('unordered');
  let release: () => void = () => undefined;
  const first = new Promise<void>((r) => {
    release = r;
  });
  const done: string[] = [];
  const consumer = await consume(topic, groupId, {
    ordering: 'unordered',
    inFlight: 10,
    handle: async (record) => {
      if (String(record.value) === '0') await first;
      done.push(String(record.value));
    },
  });
  t.after(() => {
    release();
    return consumer.stop();
  });
  await waitFor('records 1 to 4 handled while 0 runs', () => done.length === 4);
  assert.deepEqual(done.sort(), ['1', '2', '3', '4']);
  // Give a wrong commit every chance to happen, then check none did.
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal((await committedOf(groupId, topic)).get(0), undefined, 'no offset committed past the running record');
  release();
  await waitFor('all committed once 0 is done', async () => (await committedOf(groupId, topic)).get(0) === '5');
});

test('ordered: one partition in order, and a record whose handler throws is tried again, never skipped', async (t) => {
  const topic = await createTestTopic(kafka, 'ordered', 2);
  t.after(() => deleteTopics(kafka, [topic]));
  await produce(topic, ['a1', 'a2', 'a3'], 'a');
  await produce(topic, ['b1', 'b2', 'b3'], 'b');
  const seen: ConsumedRecord[] = [];
  let failures = 0;
  const consumer = await consume(topic, uniqueName('ordered'), {
    retryInitialMs: 20,
    handle: async (record) => {
      if (String(record.value) === 'a2' && failures++ < 2) throw new Error('not yet');
      seen.push(record);
    },
  });
  t.after(() => consumer.stop());
  await waitFor('six records handled', () => seen.length === 6);
  const values = (key: string) => seen.filter((r) => String(r.key) === key).map((r) => String(r.value));
  assert.deepEqual(values('a'), ['a1', 'a2', 'a3']);
  assert.deepEqual(values('b'), ['b1', 'b2', 'b3']);
  assert.equal(failures, 3, 'a2 failed twice, then succeeded');
});

test('a record whose handler had no outcome when the consumer stopped comes again to the next member', async (t) => {
  const topic = await createTestTopic(kafka, 'redeliver');
  t.after(() => deleteTopics(kafka, [topic]));
  await produce(topic, ['done', 'interrupted']);
  const groupId = uniqueName('redeliver');
  let stopping = false;
  const first = await consume(topic, groupId, {
    handle: async (record) => {
      if (String(record.value) === 'done') return;
      await waitFor('the stop', () => stopping);
      return false;
    },
  });
  await waitFor('the first record committed', async () => (await committedOf(groupId, topic)).get(0) === '1');
  stopping = true;
  await first.stop();
  const again: string[] = [];
  const second = await consume(topic, groupId, {
    handle: async (record) => {
      again.push(String(record.value));
    },
  });
  t.after(() => second.stop());
  await waitFor('the interrupted record handled by the next member', () => again.length === 1);
  assert.deepEqual(again, ['interrupted']);
});

test('consumer lag is the records still to read while the first is handled, 0 once caught up, and gone after stop', async (t) => {
  const topic = await createTestTopic(kafka, 'lag');
  t.after(() => deleteTopics(kafka, [topic]));
  await produce(topic, numbered('', 20));
  const registry = createRegistry({ service: 'lag-test', defaultMetrics: false });
  const groupId = uniqueName('lag-group');
  const lag = async () =>
    (await consumerLagGauge(registry).get()).values.find(
      (v) => v.labels.consumer_group === groupId && v.labels.topic === topic && v.labels.partition === '0',
    )?.value;
  const { held, release } = gate();
  const consumer = await consume(topic, groupId, {
    registry,
    lagIntervalMs: 100,
    handle: async (record) => {
      if (record.offset === '0') await held;
    },
  });
  await waitFor('the lag of the whole topic while the first record is held', async () => (await lag()) === 20);
  release();
  await waitFor('lag 0 once every record is committed', async () => (await lag()) === 0);
  await consumer.stop();
  assert.equal(await lag(), undefined, 'stopping removes the series');
});

test("a group that refuses the member for good fails the start with the broker's reason: a session timeout below its minimum", async (t) => {
  const topic = await createTestTopic(kafka, 'refused');
  t.after(() => deleteTopics(kafka, [topic]));
  const reasons: Error[] = [];
  // Kafka's group.min.session.timeout.ms is 6 s: joining with 1 s is refused (INVALID_SESSION_TIMEOUT, not retriable).
  await assert.rejects(
    consume(topic, uniqueName('refused'), {
      sessionTimeoutMs: 1_000,
      heartbeatIntervalMs: 300,
      onGaveUp: (e) => reasons.push(e),
      handle: async () => undefined,
    }),
    (error: Error & { details?: Record<string, unknown> }) => error.details?.kafka_error === 'INVALID_SESSION_TIMEOUT',
  );
  assert.equal(reasons.length, 1);
});

// ---- isolation: one partition's failing or stuck records hold up no other ----------

/** A committing member reading several topics (one partition each: a lane each) from the start. */
const consumeAll = (
  topics: string[],
  groupId: string,
  options: Pick<RecordConsumerOptions, 'handle'> & Partial<RecordConsumerOptions>,
) => startRecordConsumer({ connection: kafka, groupId, topics, from: 'earliest', commit: true, ...options });

test('ordered: a partition stuck on a record, with more records behind it than the whole buffer, leaves the others read, handled and committed; once it moves, every record of it comes once, in order', async (t) => {
  const [stuck, other] = await topics(t, 'stuck', 'other');
  // More than the 1000 records a consumer holds at most: enough to fill its buffer alone.
  const behind = numbered('s', 1500);
  await produce(stuck, behind);
  const groupId = uniqueName('stuck');
  const { held, release } = gate();
  const seen = new Map<string, string[]>([
    [stuck, []],
    [other, []],
  ]);
  const consumer = await consumeAll([stuck, other], groupId, {
    handle: async (record) => {
      if (record.topic === stuck && record.offset === '0') await held;
      seen.get(record.topic)?.push(String(record.value));
    },
  });
  t.after(() => {
    release();
    return consumer.stop();
  });
  await produce(other, numbered('o', 100));
  await waitFor(
    'the other partition handled and committed while the first is stuck',
    async () => seen.get(other)?.length === 100 && (await committedOf(groupId, other)).get(0) === '100',
    { timeoutMs: 30_000 },
  );
  assert.deepEqual(seen.get(stuck), [], 'the stuck partition waited');
  assert.equal((await committedOf(groupId, stuck)).get(0), undefined, 'and nothing of it was committed');
  release();
  await waitFor(
    'the stuck partition handled and committed once it moves',
    async () =>
      seen.get(stuck)?.length === behind.length && (await committedOf(groupId, stuck)).get(0) === String(behind.length),
    { timeoutMs: 60_000 },
  );
  assert.deepEqual(seen.get(stuck), behind, 'each record once, in order (records set aside were read again)');
  assert.deepEqual(seen.get(other), numbered('o', 100));
});

test("unordered: a partition whose records hang never takes every in-flight place; another partition's records are handled and committed meanwhile", async (t) => {
  const [slow, other] = await topics(t, 'hanging', 'flowing');
  await produce(slow, numbered('h', 30));
  const groupId = uniqueName('hanging');
  const { held, release } = gate();
  let hanging = 0;
  const done: string[] = [];
  const consumer = await consumeAll([slow, other], groupId, {
    ordering: 'unordered',
    inFlight: 10,
    handle: async (record) => {
      if (record.topic === slow) {
        hanging++;
        await held;
      }
      done.push(String(record.value));
    },
  });
  t.after(() => {
    release();
    return consumer.stop();
  });
  await waitFor('the hanging records took what they may', () => hanging > 0);
  await produce(other, numbered('f', 20));
  await waitFor(
    'the other partition handled and committed beside them',
    async () => done.length === 20 && (await committedOf(groupId, other)).get(0) === '20',
  );
  assert.ok(hanging < 10, `the hanging partition left a place free (it holds ${hanging} of 10)`);
  release();
  await waitFor(
    'the hanging partition handled and committed once released',
    async () => done.length === 50 && (await committedOf(groupId, slow)).get(0) === '30',
  );
});

test('unordered: a record waiting to be tried again holds no in-flight place, so records that keep failing hold up no other partition', async (t) => {
  const [failing, other] = await topics(t, 'failing', 'passing');
  await produce(failing, numbered('x', 10));
  const groupId = uniqueName('failing');
  let healed = false;
  let failures = 0;
  const done: string[] = [];
  const consumer = await consumeAll([failing, other], groupId, {
    ordering: 'unordered',
    // Two places and no reserve (fewer than 10): only giving the place up while waiting lets others in.
    inFlight: 2,
    retryInitialMs: 300,
    retryMaxMs: 300,
    handle: async (record) => {
      if (record.topic === failing && !healed) {
        failures++;
        throw new Error('the sink is down for this one');
      }
      done.push(String(record.value));
    },
  });
  t.after(() => consumer.stop());
  await waitFor('the failing records tried more than once each', () => failures > 20);
  await produce(other, numbered('p', 20));
  await waitFor(
    'the other partition handled and committed while they are retried',
    async () => done.length === 20 && (await committedOf(groupId, other)).get(0) === '20',
  );
  healed = true;
  await waitFor(
    'the failing records handled and committed once the sink heals',
    async () => done.length === 30 && (await committedOf(groupId, failing)).get(0) === '10',
  );
  assert.equal(new Set(done).size, 30, 'each record once');
});

test('a handler failing with a dead-letter or reject disposition is not tried again: onFailed gets the record and the partition goes on', async (t) => {
  const topic = await createTestTopic(kafka, 'disposition');
  t.after(() => deleteTopics(kafka, [topic]));
  await produce(topic, ['ok1', 'bad', 'missing', 'flaky', 'ok2']);
  const groupId = uniqueName('disposition');
  const attempts = new Map<string, number>();
  const failed: Array<{ value: string; code: string }> = [];
  const handled: string[] = [];
  const consumer = await consume(topic, groupId, {
    retryInitialMs: 20,
    handle: async (record) => {
      const value = String(record.value);
      attempts.set(value, (attempts.get(value) ?? 0) + 1);
      if (value === 'bad') throw new StreamForgeError('SF_CONTRACT_INVALID', 'symbol: must match pattern');
      if (value === 'missing') throw new StreamForgeError('SF_NOT_FOUND', 'no workflow wf-x');
      // Retried whatever its HTTP status would be: the disposition decides.
      if (value === 'flaky' && attempts.get(value)! < 3) throw new StreamForgeError('SF_BUSY', 'still being built');
      handled.push(value);
    },
    onFailed: (error, record) => {
      failed.push({ value: String(record.value), code: error.code });
    },
  });
  t.after(() => consumer.stop());
  await waitFor(
    'all five records with an outcome, committed',
    async () => handled.length === 3 && (await committedOf(groupId, topic)).get(0) === '5',
  );
  assert.deepEqual(handled, ['ok1', 'flaky', 'ok2']);
  assert.deepEqual(failed, [
    { value: 'bad', code: 'SF_CONTRACT_INVALID' },
    { value: 'missing', code: 'SF_NOT_FOUND' },
  ]);
  assert.deepEqual(Object.fromEntries(attempts), { ok1: 1, bad: 1, missing: 1, flaky: 3, ok2: 1 });
});

test('a record whose onFailed throws is tried again, never passed over unrecorded', async (t) => {
  const topic = await createTestTopic(kafka, 'dead-letter-down');
  t.after(() => deleteTopics(kafka, [topic]));
  await produce(topic, ['bad', 'next']);
  let tries = 0;
  let recorded = 0;
  const handled: string[] = [];
  const consumer = await consume(topic, uniqueName('dead-letter-down'), {
    retryInitialMs: 20,
    handle: async (record) => {
      if (String(record.value) === 'bad') throw new StreamForgeError('SF_EXCHANGE_REJECTED', 'Invalid symbol.');
      handled.push(String(record.value));
    },
    onFailed: () => {
      if (++tries < 3) throw new Error('dead-letter topic unreachable');
      recorded++;
    },
  });
  t.after(() => consumer.stop());
  await waitFor('the next record handled', () => handled.length === 1);
  assert.equal(tries, 3);
  assert.equal(recorded, 1);
});
