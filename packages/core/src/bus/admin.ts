/**
 * Cluster administration the project needs, in its own terms: the topic plan (created
 * idempotently, ready only once every partition has a leader), topic and group offsets
 * (what lag is made of), the cluster's description for diagnostics.
 */
import { Admin, ListOffsetTimestamps } from '@platformatic/kafka';
import { StreamForgeError } from '../errors.ts';
import { backoffDelay, mayRetry, sleep, type Backoff } from '../retry/backoff.ts';
import { clientOptions } from './connection.ts';
import { isRetriableKafkaError, kafkaFailure } from './kafka-errors.ts';
import type { BusConnection } from './records.ts';
import { TOPIC_PLAN, topicName, type TopicSpec } from './topics.ts';

export interface PartitionOffsets {
  partition: number;
  /** The first offset still in the log. */
  low: string;
  /** The high watermark: the offset the next record will get. */
  high: string;
}

export interface ClusterDescription {
  clusterId: string;
  controller: number | null;
  brokers: Array<{ nodeId: number; host: string; port: number }>;
}

export interface BusAdmin {
  listTopics(): Promise<string[]>;
  /** Partition count of each named topic that exists and has a leader for every partition. */
  readyTopics(topics: string[]): Promise<Map<string, number>>;
  describeCluster(): Promise<ClusterDescription>;
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** Committed offsets of a group per topic and partition; a partition without a commit is absent. */
  groupOffsets(groupId: string, topics: string[]): Promise<Map<string, Map<number, string>>>;
  setGroupOffsets(
    groupId: string,
    topic: string,
    partitions: Array<{ partition: number; offset: string }>,
  ): Promise<void>;
  createTopics(
    specs: Array<{ name: string; partitions: number; replicationFactor: number; configs: Record<string, string> }>,
  ): Promise<void>;
  deleteTopics(topics: string[]): Promise<void>;
  close(): Promise<void>;
}

export function openAdmin(connection: BusConnection): BusAdmin {
  const admin = new Admin(clientOptions(connection, 3));
  const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw kafkaFailure(what, error);
    }
  };
  const metadata = (topics: string[]) => admin.metadata({ topics, forceUpdate: true });

  const self: BusAdmin = {
    listTopics: () => call('listing Kafka topics', () => admin.listTopics()),
    readyTopics: (topics) =>
      call('reading Kafka topic metadata', async () => {
        const existing = new Set(await admin.listTopics());
        const present = topics.filter((t) => existing.has(t));
        const ready = new Map<string, number>();
        if (present.length === 0) return ready;
        const { topics: described } = await metadata(present);
        for (const [name, topic] of described) {
          if (topic.partitionsCount > 0 && topic.partitions.every((p) => p !== undefined && p.leader >= 0))
            ready.set(name, topic.partitionsCount);
        }
        return ready;
      }),
    describeCluster: () =>
      call('describing the Kafka cluster', async () => {
        const described = await metadata([]);
        return {
          clusterId: described.id,
          controller: described.controllerId >= 0 ? described.controllerId : null,
          brokers: [...described.brokers].map(([nodeId, b]) => ({ nodeId, host: b.host, port: b.port })),
        };
      }),
    topicOffsets: (topic) =>
      call(`reading offsets of ${topic}`, async () => {
        const { topics } = await metadata([topic]);
        const count = topics.get(topic)?.partitionsCount ?? 0;
        const request = (timestamp: bigint) =>
          admin.listOffsets({
            topics: [
              {
                name: topic,
                partitions: Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp })),
              },
            ],
          });
        const [lows, highs] = await Promise.all([
          request(ListOffsetTimestamps.EARLIEST),
          request(ListOffsetTimestamps.LATEST),
        ]);
        const low = new Map(lows[0]?.partitions.map((p) => [p.partitionIndex, p.offset]) ?? []);
        return (highs[0]?.partitions ?? [])
          .map((p) => ({
            partition: p.partitionIndex,
            low: String(low.get(p.partitionIndex) ?? 0n),
            high: String(p.offset),
          }))
          .sort((a, b) => a.partition - b.partition);
      }),
    groupOffsets: (groupId, topics) =>
      call(`reading offsets of group ${groupId}`, async () => {
        const { topics: described } = await metadata(topics);
        const request = topics.map((name) => ({
          name,
          partitionIndexes: Array.from({ length: described.get(name)?.partitionsCount ?? 0 }, (_, i) => i),
        }));
        const [group] = await admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: request }] });
        const out = new Map<string, Map<number, string>>();
        for (const topic of group?.topics ?? []) {
          const partitions = new Map<number, string>();
          for (const p of topic.partitions)
            if (p.committedOffset >= 0n) partitions.set(p.partitionIndex, String(p.committedOffset));
          out.set(topic.name, partitions);
        }
        return out;
      }),
    setGroupOffsets: (groupId, topic, partitions) =>
      call(`setting offsets of group ${groupId}`, () =>
        admin.alterConsumerGroupOffsets({
          groupId,
          topics: [
            {
              name: topic,
              partitionOffsets: partitions.map((p) => ({ partition: p.partition, offset: BigInt(p.offset) })),
            },
          ],
        }),
      ),
    createTopics: (specs) =>
      call('creating Kafka topics', async () => {
        // Configs apply to every topic of one request, and topics differ in retention: one request each.
        for (const spec of specs) {
          await admin.createTopics({
            topics: [spec.name],
            partitions: spec.partitions,
            replicas: spec.replicationFactor,
            configs: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
          });
        }
      }),
    deleteTopics: (topics) => call(`deleting ${topics.join(', ')}`, () => admin.deleteTopics({ topics })),
    close: () => admin.close().catch(() => undefined),
  };
  return self;
}

/** Runs `work` with an admin client that is closed afterwards. */
export async function withAdmin<T>(connection: BusConnection, work: (admin: BusAdmin) => Promise<T>): Promise<T> {
  const admin = openAdmin(connection);
  try {
    return await work(admin);
  } finally {
    await admin.close();
  }
}

/** 15 attempts for new topics, backing off from 0.1 s to 2 s: 10 to 20 s of waiting. */
const READY_BACKOFF: Backoff = { baseMs: 100, maxMs: 2_000, attempts: 15 };

export interface EnsureTopicsOptions {
  prefix?: string;
  plan?: readonly TopicSpec[];
  /** Replication factor; 1 on one broker, 3 in a production cluster. */
  replicationFactor?: number;
}

/** Creates what is missing, waits until every planned topic has its leaders, and returns the names it created. */
export async function ensureTopics(connection: BusConnection, options: EnsureTopicsOptions = {}): Promise<string[]> {
  const plan = options.plan ?? TOPIC_PLAN;
  const planned = plan.map((spec) => ({
    spec,
    name: options.prefix === undefined ? topicName(spec.name) : topicName(spec.name, options.prefix),
  }));
  const names = planned.map((p) => p.name);
  return await withAdmin(connection, async (admin) => {
    // What was missing at the start: a retry below may find a topic made by an attempt whose wait failed.
    let created: string[] | undefined;
    // Right after creation the metadata may not name a topic or its leaders yet: the topics
    // count as ready only once a metadata request names each with a leader for every
    // partition, so the next client to subscribe or send finds them.
    for (let attempt = 0; ; attempt++) {
      try {
        const existing = new Set(await admin.listTopics());
        const absent = names.filter((name) => !existing.has(name));
        created ??= absent;
        await admin.createTopics(
          planned
            .filter(({ name }) => absent.includes(name))
            .map(({ spec, name }) => ({
              name,
              partitions: spec.partitions,
              replicationFactor: options.replicationFactor ?? 1,
              configs: { 'retention.ms': String(spec.retentionMs), 'cleanup.policy': 'delete' },
            })),
        );
        const ready = await admin.readyTopics(names);
        const waiting = names.filter((name) => !ready.has(name));
        if (waiting.length === 0) return created;
        if (!mayRetry(READY_BACKOFF, attempt + 1))
          throw new StreamForgeError(
            'SF_DEPENDENCY_UNAVAILABLE',
            `Kafka topics have no leader yet: ${waiting.join(', ')}`,
          );
      } catch (error) {
        const exists = (error as StreamForgeError).details?.kafka_error === 'TOPIC_ALREADY_EXISTS';
        if (
          !exists &&
          (!isRetriableKafkaError((error as Error).cause ?? error) || !mayRetry(READY_BACKOFF, attempt + 1))
        )
          throw error;
      }
      await sleep(backoffDelay(READY_BACKOFF, attempt + 1));
    }
  });
}
