/**
 * Writes telemetry to queue-events: what a service reports about a workflow. One shape for
 * every service (one reader for all); never infrastructure details (brokers, DB URLs, users).
 */
import type { StartCommand } from '../contracts/control-command.ts';
import { EVENT_TYPES, sourceOf } from '../contracts/event-types.ts';
import { telemetryEventContract, type TelemetryEvent, type TelemetryFields } from '../contracts/telemetry-event.ts';
import { toStreamForgeError } from '../errors.ts';
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

/** What every report about a start command's workflow carries; the producer is the command's telemetry_id, else the service. */
export function commandTelemetryBase(command: StartCommand, service: string) {
  return {
    queue_id: command.queue_id,
    producer: command.telemetry_id ?? service,
    symbol: command.symbol,
    type: command.type,
  };
}

/**
 * Reports a failure that trying again cannot fix (its code's disposition is not `retry`, e.g.
 * input that can never work) as the workflow's `error`, which ends it. A failure that is
 * retried reports nothing: the workflow waits for the retry.
 */
export async function reportFinalFailure(
  telemetry: TelemetryEmitter,
  base: Pick<TelemetryFields, 'queue_id'> & Partial<Omit<TelemetryFields, 'status'>>,
  error: unknown,
): Promise<void> {
  const failure = toStreamForgeError(error);
  if (failure.disposition === 'retry') return;
  await telemetry.emit({
    ...base,
    status: 'error',
    message: failure.message,
    error: { code: failure.code, message: failure.message, retryable: false },
  });
}
