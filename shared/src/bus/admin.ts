/**
 * Creates the topics of the topic plan (idempotent: existing topics are left as they are).
 */
import type { Admin, Kafka } from 'kafkajs';
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
    const planned = plan.map((spec) => ({ spec, name: options.prefix === undefined ? topicName(spec.name) : topicName(spec.name, options.prefix) }));
    const created: string[] = [];
    // Right after creation the metadata may not know a topic yet (UNKNOWN_TOPIC_OR_PARTITION,
    // retriable); kafkajs only retries LEADER_NOT_AVAILABLE there, so retry the rest here.
    for (let attempt = 0; ; attempt++) {
      try {
        created.push(...(await createMissing(admin, planned, options)));
        return created;
      } catch (error) {
        if (!(error as { retriable?: boolean }).retriable || attempt >= 10) throw error;
        await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** attempt)));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

async function createMissing(admin: Admin, planned: Array<{ spec: TopicSpec; name: string }>, options: EnsureTopicsOptions): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = planned.filter(({ name }) => !existing.has(name));
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
}
