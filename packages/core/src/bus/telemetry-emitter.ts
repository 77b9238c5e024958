/**
 * Writes telemetry to queue-events: what a service reports about a workflow. One shape for
 * every service (one reader for all); never infrastructure details (brokers, DB URLs, users).
 */
import { EVENT_TYPES, sourceOf } from '../contracts/event-types.ts';
import { telemetryEventContract, type TelemetryEvent, type TelemetryFields } from '../contracts/telemetry-event.ts';
import type { EventProducer } from './producer.ts';
import { TOPICS } from './topics.ts';

export type TelemetryInput = Omit<TelemetryFields, 'producer' | 'timestamp'> & {
  producer?: string;
  timestamp?: number;
} & Record<string, unknown>;

export interface TelemetryEmitter {
  /** Validates and publishes; resolves once Kafka acknowledged it. */
  emit(event: TelemetryInput): Promise<void>;
  emitMany(events: TelemetryInput[]): Promise<void>;
}

export interface TelemetryEmitterOptions {
  producer: EventProducer;
  /** The emitting service; also the producer id when an event names none. */
  service: string;
  clock?: () => number;
}

export function createTelemetryEmitter(options: TelemetryEmitterOptions): TelemetryEmitter {
  const clock = options.clock ?? Date.now;
  const build = (input: TelemetryInput) => {
    const data: TelemetryEvent = {
      ...input,
      producer: input.producer ?? options.service,
      timestamp: input.timestamp ?? clock() / 1000,
      finished:
        input.finished ?? (input.status === 'finished' || input.status === 'error' || input.status === 'stopped'),
    };
    telemetryEventContract.parse(data);
    return {
      type: EVENT_TYPES.telemetry,
      source: sourceOf(options.service),
      subject: data.queue_id,
      partitionKey: data.symbol ?? data.queue_id,
      data,
    };
  };
  return {
    emit: (event) => options.producer.send(TOPICS.events, [build(event)]),
    emitMany: (events) => options.producer.send(TOPICS.events, events.map(build)),
  };
}
