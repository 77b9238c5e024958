/**
 * Kafka consumer lag as a Prometheus gauge, for every process that consumes Kafka directly
 * (the local KafkaSource dispatcher, loader-ws Jobs, the console's event tail):
 * `streamforge_kafka_consumer_lag_messages{consumer_group, topic, partition}`, the records
 * between the partition's high watermark and the consumer's position. It is the number KEDA's
 * Kafka scaler acts on to scale a KafkaSource, so a dashboard shows what the autoscaler sees.
 * The bus's record consumer keeps it current for the partitions it owns.
 */
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
