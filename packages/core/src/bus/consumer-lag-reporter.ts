/**
 * Keeps `streamforge_kafka_consumer_lag_messages` of a record consumer's group current
 * (record-consumer.ts): per owned partition, the records between its end and where the member
 * stands, measured on a timer, and removed when the consumer stops.
 */
import type { Consumer } from '@platformatic/kafka';
import { consumerLagGauge } from '../telemetry/consumer-lag.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Registry } from '../telemetry/metrics.ts';
import { laneKey } from './partition-lanes.ts';

const LAG_INTERVAL_MS = 2_000;

export interface ConsumerLagReporter {
  /** No more measures. */
  stop(): void;
  /** Removes the gauge's series of this group (after the member left it). */
  remove(): void;
}

export function reportConsumerLag(
  consumer: Consumer,
  options: {
    registry: Registry;
    groupId: string;
    topics: string[];
    /** How often the lag is measured (default 2 s). */
    intervalMs: number | undefined;
    logger: Logger | undefined;
    /** Where the member stands in a partition (the next offset to commit), if known. */
    positionOf(key: string): bigint | undefined;
  },
): ConsumerLagReporter {
  const { groupId, logger } = options;
  const gauge = consumerLagGauge(options.registry);
  const lagSeen = new Set<string>();
  let stopped = false;
  let lagTimer: NodeJS.Timeout | undefined;
  const measure = async () => {
    if (stopped || !consumer.isActive()) return;
    const highs = await consumer.listOffsets({ topics: options.topics });
    for (const assignment of consumer.assignments ?? []) {
      const partitionHighs = highs.get(assignment.topic) ?? [];
      for (const partition of assignment.partitions) {
        const key = laneKey(assignment.topic, partition);
        const high = partitionHighs[partition];
        const position = options.positionOf(key);
        if (high === undefined || position === undefined) continue;
        lagSeen.add(key);
        gauge.set(
          { consumer_group: groupId, topic: assignment.topic, partition: String(partition) },
          Math.max(0, Number(high - position)),
        );
      }
    }
  };
  const tick = () => {
    void measure()
      .catch((error: unknown) => logger?.debug({ groupId, err: error }, 'consumer lag not measured'))
      .finally(() => {
        if (!stopped) lagTimer = setTimeout(tick, options.intervalMs ?? LAG_INTERVAL_MS).unref();
      });
  };
  lagTimer = setTimeout(tick, 0).unref();
  return {
    stop() {
      stopped = true;
      clearTimeout(lagTimer);
    },
    remove() {
      const current = consumerLagGauge(options.registry);
      for (const key of lagSeen) {
        const at = key.lastIndexOf(':');
        current.remove({ consumer_group: groupId, topic: key.slice(0, at), partition: key.slice(at + 1) });
      }
    },
  };
}
