/**
 * Real-broker helpers for tests: the broker the test run started (KAFKA_BROKERS), topics and
 * consumer groups unique to each test, and reading a topic back.
 */
import type { Kafka, KafkaMessage } from 'kafkajs';
import { ensureTopics } from '../bus/admin.ts';
import { createKafka } from '../bus/kafka.ts';
import { uniqueName } from './unique.ts';
import { waitFor } from './wait-for.ts';

export function testBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('this test needs a Kafka broker: run it through `node test/run.ts` (or `make test`), which starts one, or set KAFKA_BROKERS');
  return brokers.split(',');
}

export function testKafka(clientId = 'streamforge-test'): Kafka {
  return createKafka({ brokers: testBrokers(), clientId });
}

export async function createTestTopic(kafka: Kafka, prefix = 'test', partitions = 1): Promise<string> {
  const topic = uniqueName(prefix);
  await ensureTopics(kafka, { prefix: '', plan: [{ name: topic, partitions, retentionMs: 86_400_000, purpose: 'test' }] });
  return topic;
}

export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics, timeout: 10_000 });
  } catch {
    // A topic that is already gone is fine at clean-up.
  } finally {
    await admin.disconnect();
  }
}

export interface ReadRecord {
  partition: number;
  offset: string;
  message: KafkaMessage;
}

/** Reads a topic from the beginning until `count` records arrived (or the timeout says how many did). */
export async function readTopic(kafka: Kafka, topic: string, count: number, timeoutMs = 20_000): Promise<ReadRecord[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 250 });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ partition, message }) => { records.push({ partition, offset: message.offset, message }); } });
    await waitFor(`${count} records on ${topic}`, () => records.length >= count, { timeoutMs });
    return records;
  } finally {
    await consumer.disconnect();
  }
}

/** Waits until a consumer group has committed everything on a topic (its lag is 0). */
export async function waitForGroupCaughtUp(kafka: Kafka, groupId: string, topic: string, timeoutMs = 60_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(`consumer group ${groupId} caught up on ${topic}`, async () => {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return ends.every((end) => {
        const at = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
        return end.high === '0' || at === end.high;
      });
    }, { timeoutMs, intervalMs: 200 });
  } finally {
    await admin.disconnect();
  }
}

/** Records on a topic now (high minus low watermark, summed over partitions). */
export async function topicMessageCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}
