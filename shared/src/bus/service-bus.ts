/**
 * What most functions need from Kafka, built once in `init()`: the client, an idempotent
 * producer and a telemetry emitter for the service.
 */
import type { Kafka } from 'kafkajs';
import { createTelemetryEmitter, type TelemetryEmitter } from '../telemetry/emitter.ts';
import type { Logger } from '../telemetry/logger.ts';
import { createKafka } from './kafka.ts';
import { createEventProducer, type EventProducer } from './producer.ts';

export interface ServiceBus {
  kafka: Kafka;
  producer: EventProducer;
  telemetry: TelemetryEmitter;
  close(): Promise<void>;
}

export async function connectServiceBus(service: string, logger?: Logger, kafka?: Kafka): Promise<ServiceBus> {
  const client = kafka ?? createKafka({ clientId: service, ...(logger ? { logger } : {}) });
  const producer = await createEventProducer(client);
  return {
    kafka: client,
    producer,
    telemetry: createTelemetryEmitter({ producer, service }),
    close: () => producer.disconnect(),
  };
}
