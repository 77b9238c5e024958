/**
 * What most functions need from Kafka, built once in `init()`: the connection, an idempotent
 * producer and a telemetry emitter for the service.
 */
import { createTelemetryEmitter, type TelemetryEmitter } from './telemetry-emitter.ts';
import type { Logger } from '../telemetry/logger.ts';
import { createBusConnection } from './connection.ts';
import { createEventProducer, type EventProducer } from './producer.ts';
import type { BusConnection } from './records.ts';

export interface ServiceBus {
  connection: BusConnection;
  producer: EventProducer;
  telemetry: TelemetryEmitter;
  close(): Promise<void>;
}

export async function connectServiceBus(
  service: string,
  logger?: Logger,
  connection?: BusConnection,
): Promise<ServiceBus> {
  const bus = connection ?? createBusConnection({ clientId: service, ...(logger ? { logger } : {}) });
  const producer = await createEventProducer(bus);
  return {
    connection: bus,
    producer,
    telemetry: createTelemetryEmitter({ producer, service }),
    close: () => producer.disconnect(),
  };
}
