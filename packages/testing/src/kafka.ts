/**
 * Real-broker helpers for tests: the broker the test run started (KAFKA_BROKERS), topics and
 * consumer groups unique to each test, and reading a topic back.
 */
import type { TestContext } from 'node:test';
import { createEventProducer, ensureTopics, TOPIC_PLAN, withAdmin } from '@streamforge/core/bus';
import { createBusConnection } from '@streamforge/core/bus';
import { startRecordConsumer } from '@streamforge/core/bus';
import type { BusConnection, ConsumedRecord, EventProducer } from '@streamforge/core/bus';
import { uniqueName } from './unique.ts';
import { waitFor } from './wait-for.ts';

export function testBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers)
    throw new Error(
      'this test needs a Kafka broker: run it through `node test/run.ts` (or `make test`), which starts one, or set KAFKA_BROKERS',
    );
  return brokers.split(',');
}

export function testKafka(clientId = 'streamforge-test'): BusConnection {
  return createBusConnection({ brokers: testBrokers(), clientId });
}

export async function createTestTopic(connection: BusConnection, prefix = 'test', partitions = 1): Promise<string> {
  const topic = uniqueName(prefix);
  await ensureTopics(connection, {
    prefix: '',
    plan: [{ name: topic, partitions, retentionMs: 86_400_000, purpose: 'test' }],
  });
  return topic;
}

/**
 * The topic plan's topics named `names`, created under a prefix of this test's own (`label`)
 * and deleted after it, and a producer that sends to them by their plan names.
 */
export async function plannedTestTopics(
  t: TestContext,
  connection: BusConnection,
  label: string,
  names: readonly string[],
): Promise<{ prefix: string; producer: EventProducer }> {
  const prefix = `${uniqueName(label)}.`;
  const topics = await ensureTopics(connection, {
    prefix,
    plan: TOPIC_PLAN.filter((spec) => names.includes(spec.name)),
  });
  t.after(() => deleteTopics(connection, topics));
  const producer = await createEventProducer(connection, { topicPrefix: prefix });
  t.after(() => producer.disconnect());
  return { prefix, producer };
}

export async function deleteTopics(connection: BusConnection, topics: string[]): Promise<void> {
  // A topic that is already gone is fine at clean-up.
  await withAdmin(connection, (admin) => admin.deleteTopics(topics)).catch(() => undefined);
}

/** Reads a topic from the beginning until `count` records arrived (or the timeout says how many did). */
export async function readTopic(
  connection: BusConnection,
  topic: string,
  count: number,
  timeoutMs = 20_000,
): Promise<ConsumedRecord[]> {
  const records: ConsumedRecord[] = [];
  const reader = await startRecordConsumer({
    connection,
    groupId: uniqueName('reader'),
    topics: [topic],
    from: 'earliest',
    commit: false,
    ordering: 'ordered',
    maxWaitMs: 250,
    handle: async (record) => {
      records.push(record);
    },
  });
  try {
    await waitFor(`${count} records on ${topic}`, () => records.length >= count, { timeoutMs });
    return records;
  } finally {
    await reader.stop();
  }
}

/** Waits until a consumer group has committed everything on a topic (its lag is 0). */
export async function waitForGroupCaughtUp(
  connection: BusConnection,
  groupId: string,
  topic: string,
  timeoutMs = 60_000,
): Promise<void> {
  await withAdmin(connection, (admin) =>
    waitFor(
      `consumer group ${groupId} caught up on ${topic}`,
      async () => {
        const ends = await admin.topicOffsets(topic);
        const committed = (await admin.groupOffsets(groupId, [topic])).get(topic);
        return ends.every((end) => end.high === '0' || committed?.get(end.partition) === end.high);
      },
      { timeoutMs, intervalMs: 200 },
    ),
  );
}

/** Records on a topic now (high minus low watermark, summed over partitions). */
export async function topicMessageCount(connection: BusConnection, topic: string): Promise<number> {
  const offsets = await withAdmin(connection, (admin) => admin.topicOffsets(topic));
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}
