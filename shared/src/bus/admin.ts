/**
 * Creates the topics of the topic plan (idempotent: existing topics are left as they are).
 */
import type { Admin, Kafka } from 'kafkajs';
import { StreamForgeError } from '../errors.ts';
import { TOPIC_PLAN, topicName, type TopicSpec } from './topics.ts';

/** About 20 s of waiting for new topics, backing off to 2 s. */
const READY_ATTEMPTS = 14;

export interface EnsureTopicsOptions {
  prefix?: string;
  plan?: readonly TopicSpec[];
  /** Replication factor; 1 on one broker, 3 in a production cluster. */
  replicationFactor?: number;
}

/** Creates what is missing, waits until every planned topic has its leaders, and returns the names it created. */
export async function ensureTopics(kafka: Kafka, options: EnsureTopicsOptions = {}): Promise<string[]> {
  const plan = options.plan ?? TOPIC_PLAN;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const planned = plan.map((spec) => ({ spec, name: options.prefix === undefined ? topicName(spec.name) : topicName(spec.name, options.prefix) }));
    const names = planned.map((p) => p.name);
    // What was missing at the start: a retry below may find a topic made by an attempt whose wait failed.
    let created: string[] | undefined;
    // Right after creation the metadata may not know a topic yet (UNKNOWN_TOPIC_OR_PARTITION,
    // retriable; kafkajs's createTopics only waits out LEADER_NOT_AVAILABLE), so the topics
    // count as ready only once a metadata request names each of them with its leaders: the
    // next client to subscribe or send then finds them.
    for (let attempt = 0; ; attempt++) {
      try {
        const absent = await missingOf(admin, names);
        created ??= absent;
        await createTopics(admin, planned.filter(({ name }) => absent.includes(name)), options);
        const waiting = await withoutLeaders(admin, names);
        if (waiting.length === 0) return created;
        if (attempt >= READY_ATTEMPTS) throw new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', `Kafka topics have no leader yet: ${waiting.join(', ')}`);
      } catch (error) {
        if (!(error as { retriable?: boolean }).retriable || attempt >= READY_ATTEMPTS) throw error;
      }
      await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** attempt)));
    }
  } finally {
    await admin.disconnect();
  }
}

async function missingOf(admin: Admin, names: string[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  return names.filter((name) => !existing.has(name));
}

async function createTopics(admin: Admin, missing: Array<{ spec: TopicSpec; name: string }>, options: EnsureTopicsOptions): Promise<void> {
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
}

/** The topics whose metadata lacks a leader for some partition (throws, retriable, for an unknown one). */
async function withoutLeaders(admin: Admin, names: string[]): Promise<string[]> {
  const { topics } = await admin.fetchTopicMetadata({ topics: names });
  const led = new Set(topics.filter((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)).map((t) => t.name));
  return names.filter((name) => !led.has(name));
}
