/**
 * Kafka consumer lag as a Prometheus gauge, for every process that consumes Kafka directly
 * (the local KafkaSource dispatcher, loader-ws Jobs, the console's event tail):
 * `streamforge_kafka_consumer_lag_messages{consumer_group, topic, partition}`, the records
 * between the partition's high watermark and the consumer's position. It is what KEDA's
 * Kafka scaler reads to scale a KafkaSource (knative.md §5), so a dashboard shows the same
 * number the autoscaler acts on.
 *
 * It is fed by kafkajs's instrumentation events, not by admin requests per scrape: at the
 * start of each batch the lag is the watermark minus the batch's first offset, at its end
 * the watermark minus the next offset. A consumer that has nothing to read keeps its last
 * value (0 once it caught up).
 */
import type { Consumer } from 'kafkajs';
import { Gauge, type Registry } from 'prom-client';

export const CONSUMER_LAG_METRIC = 'streamforge_kafka_consumer_lag_messages';

type LagLabels = 'consumer_group' | 'topic' | 'partition';

/** The lag gauge of a registry (one per registry, shared by all its consumers). */
export function consumerLagGauge(registry: Registry): Gauge<LagLabels> {
  const existing = registry.getSingleMetric(CONSUMER_LAG_METRIC);
  if (existing) return existing as Gauge<LagLabels>;
  return new Gauge({
    name: CONSUMER_LAG_METRIC,
    help: 'Records a Kafka consumer group still has to read per partition (high watermark minus position).',
    labelNames: ['consumer_group', 'topic', 'partition'],
    registers: [registry],
  });
}

export interface ConsumerLagOptions {
  registry: Registry;
  /** The group as Kafka knows it (with the environment's topic prefix). */
  groupId: string;
}

/** Keeps the lag gauge of `consumer`'s partitions current; returns a function that stops it and removes its series. */
export function trackConsumerLag(consumer: Consumer, options: ConsumerLagOptions): () => void {
  const gauge = consumerLagGauge(options.registry);
  const seen = new Set<string>();
  const set = (topic: string, partition: number, lag: number | string) => {
    const value = Number(lag);
    if (!Number.isFinite(value)) return;
    seen.add(`${topic}\u0000${partition}`);
    gauge.set({ consumer_group: options.groupId, topic, partition: String(partition) }, Math.max(0, value));
  };
  // kafkajs counts lag from the batch's first offset excluding that record (high watermark - 1 - first): add it back.
  const offStart = consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => set(payload.topic, payload.partition, payload.batchSize > 0 ? Number(payload.offsetLagLow) + 1 : 0));
  const offEnd = consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => set(payload.topic, payload.partition, payload.offsetLag));
  return () => {
    offStart();
    offEnd();
    for (const key of seen) {
      const [topic, partition] = key.split('\u0000') as [string, string];
      gauge.remove({ consumer_group: options.groupId, topic, partition });
    }
  };
}
