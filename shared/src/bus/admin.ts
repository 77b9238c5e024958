/**
 * Creates the topics of the topic plan (idempotent: existing topics are left as they are).
 */
import type { Kafka } from 'kafkajs';
import { TOPIC_PLAN, topicName, type TopicSpec } from './topics.ts';

export interface EnsureTopicsOptions {
  prefix?: string;
  plan?: readonly TopicSpec[];
  /** Replication factor; 1 on one broker, 3 in a production cluster. */
  replicationFactor?: number;
}

export async function ensureTopics(kafka: Kafka, options: EnsureTopicsOptions = {}): Promise<string[]> {
  const plan = options.plan ?? TOPIC_PLAN;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = plan
      .map((spec) => ({ spec, name: options.prefix === undefined ? topicName(spec.name) : topicName(spec.name, options.prefix) }))
      .filter(({ name }) => !existing.has(name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map(({ spec, name }) => ({
          topic: name,
          numPartitions: spec.partitions,
          replicationFactor: options.replicationFactor ?? 1,
          configEntries: [
            { name: 'retention.ms', value: String(spec.retentionMs) },
            { name: 'cleanup.policy', value: 'delete' },
          ],
        })),
      });
    }
    return missing.map((m) => m.name);
  } finally {
    await admin.disconnect();
  }
}
