/**
 * The topic plan: every Kafka topic StreamForge uses, with partitions and retention, in one
 * place. `ensureTopics` creates them locally; knative/topics.yaml (Strimzi KafkaTopic
 * resources) is generated from the same plan for a cluster.
 *
 * Data topics are per data kind, not per workflow: a KafkaSource lists its topics
 * statically, so per-workflow topics could never reach the connector without a new manifest
 * each time. The workflow travels in the CloudEvent
 * subject and the batch's `queue_id` / `collection_name` instead.
 *
 * Commands go to one topic per service (`queue-control.<service>`), not to one shared
 * queue-control: a KafkaSource cannot filter, so on a shared topic every command would wake
 * every commanded service from zero (a single ping would cold-start four functions). The
 * payload is the queue-control command in the seed wire format.
 */
import { env } from '../config.ts';
import type { DataKind } from '../contracts/workflow-type.ts';

const DAY_MS = 86_400_000;

export interface TopicSpec {
  /** The name before the environment's prefix (KAFKA_TOPIC_PREFIX). */
  name: string;
  partitions: number;
  retentionMs: number;
  purpose: string;
}

/** The services that take commands, each on its own topic. */
export const COMMAND_TARGETS = [
  'loader-api',
  'loader-producer',
  'loader-ws',
  'graph-builder',
  'gnn-trainer',
  'dummy-service',
] as const;
export type CommandTarget = (typeof COMMAND_TARGETS)[number];

/** The command topic of a service, without prefix. */
export function controlTopicOf(target: CommandTarget): `queue-control.${CommandTarget}` {
  return `queue-control.${target}`;
}

export const TOPICS = {
  events: 'queue-events',
  loaderWork: 'loader-api-work',
  producerWork: 'loader-producer-work',
  dataKlines: 'data-klines',
  dataAggTrades: 'data-agg-trades',
  dataTrades: 'data-trades',
  dataDepth: 'data-depth',
  dataBookTicker: 'data-book-ticker',
  deadLetterControl: 'queue-control-dlq',
  deadLetterEvents: 'queue-events-dlq',
  deadLetterWork: 'loader-api-work-dlq',
  deadLetterProducerWork: 'loader-producer-work-dlq',
  deadLetterData: 'data-dlq',
  /** Dead letters the manager itself could not take: the last resort, read by no source. */
  deadLetterUnread: 'dead-letters-dlq',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS] | ReturnType<typeof controlTopicOf>;

// Partitions bound the parallelism of consumers (KEDA never scales a KafkaSource past them).
export const TOPIC_PLAN: readonly TopicSpec[] = [
  ...COMMAND_TARGETS.map((target) => ({
    name: controlTopicOf(target),
    partitions: 3,
    retentionMs: 7 * DAY_MS,
    purpose: `start, stop and ping commands for ${target} (keyed by symbol)`,
  })),
  {
    name: TOPICS.events,
    partitions: 3,
    retentionMs: 7 * DAY_MS,
    purpose: 'telemetry from every service to the manager (keyed by symbol)',
  },
  {
    name: TOPICS.loaderWork,
    partitions: 6,
    retentionMs: 1 * DAY_MS,
    purpose: 'backfill pages fanned out to loader-api instances',
  },
  {
    name: TOPICS.producerWork,
    partitions: 6,
    retentionMs: 1 * DAY_MS,
    purpose:
      'bulk pages (an archive file, or a REST page for what no archive holds) fanned out to loader-producer instances',
  },
  { name: TOPICS.dataKlines, partitions: 6, retentionMs: 7 * DAY_MS, purpose: 'kline batches (keyed by symbol)' },
  { name: TOPICS.dataAggTrades, partitions: 6, retentionMs: 7 * DAY_MS, purpose: 'aggTrade batches' },
  { name: TOPICS.dataTrades, partitions: 6, retentionMs: 7 * DAY_MS, purpose: 'trade batches' },
  { name: TOPICS.dataDepth, partitions: 6, retentionMs: 3 * DAY_MS, purpose: 'order-book batches' },
  { name: TOPICS.dataBookTicker, partitions: 6, retentionMs: 3 * DAY_MS, purpose: 'best bid/ask batches' },
  {
    name: TOPICS.deadLetterControl,
    partitions: 1,
    retentionMs: 30 * DAY_MS,
    purpose: 'commands that could not be delivered, with the reason',
  },
  {
    name: TOPICS.deadLetterEvents,
    partitions: 1,
    retentionMs: 30 * DAY_MS,
    purpose: 'telemetry that could not be delivered',
  },
  {
    name: TOPICS.deadLetterWork,
    partitions: 1,
    retentionMs: 30 * DAY_MS,
    purpose: 'backfill pages that failed for good',
  },
  {
    name: TOPICS.deadLetterProducerWork,
    partitions: 1,
    retentionMs: 30 * DAY_MS,
    purpose: 'bulk pages that failed for good (an archive that does not verify or read, with the reason)',
  },
  {
    name: TOPICS.deadLetterData,
    partitions: 1,
    retentionMs: 30 * DAY_MS,
    purpose: 'data batches that could not be stored',
  },
  {
    name: TOPICS.deadLetterUnread,
    partitions: 1,
    retentionMs: 30 * DAY_MS,
    purpose: 'dead letters the manager could not record (read them with a Kafka console consumer)',
  },
];

const DATA_TOPICS: Record<DataKind, TopicName> = {
  klines: TOPICS.dataKlines,
  agg_trades: TOPICS.dataAggTrades,
  trades: TOPICS.dataTrades,
  depth: TOPICS.dataDepth,
  book_ticker: TOPICS.dataBookTicker,
};

/** The data topic of a kind, without prefix (as it appears in commands and manifests). */
export function dataTopicOf(kind: DataKind): TopicName {
  return DATA_TOPICS[kind];
}

/** The actual topic name in this environment (the plan's name with KAFKA_TOPIC_PREFIX). */
export function topicName(name: string, prefix: string = env('KAFKA_TOPIC_PREFIX')): string {
  return prefix === '' || name.startsWith(prefix) ? name : `${prefix}${name}`;
}
