/**
 * queue-manager: the REST API to start, stop and list workflows, and the consumer of
 * queue-events (telemetry) that moves each workflow's status and keeps its trail.
 */
import type { CloudEvent } from 'cloudevents';
import type { FastifyInstance } from 'fastify';
import { connectServiceBus, type ServiceBus } from '@streamforge/shared/bus';
import { env } from '@streamforge/shared/config';
import { EVENT_TYPES } from '@streamforge/shared/contracts';
import { StreamForgeError } from '@streamforge/shared/errors';
import type { Context, FunctionRuntimeInfo } from '@streamforge/shared/runtime';
import { openStore, type Store } from '@streamforge/shared/store';
import { registerApi } from './api.ts';
import { createManager, type Manager } from './manager.ts';

let bus: ServiceBus;
let store: Store;
let manager: Manager;

export async function init(info: FunctionRuntimeInfo): Promise<void> {
  store = await openStore();
  bus = await connectServiceBus('queue-manager', info.logger);
  manager = createManager({ store, producer: bus.producer, logger: info.logger });
}

export async function routes(app: FastifyInstance): Promise<void> {
  await registerApi(app, { manager, store, token: env('STREAMFORGE_API_TOKEN') });
}

export async function shutdown(): Promise<void> {
  await bus?.close();
  await store?.close();
}

/** queue-events, delivered by its KafkaSource: one telemetry event per call. */
export async function handle(_context: Context, event?: CloudEvent<unknown>): Promise<undefined> {
  if (!event) throw new StreamForgeError('SF_EVENT_MALFORMED', 'queue-manager takes telemetry CloudEvents at /; the REST API is under /workflows');
  if (event.type !== EVENT_TYPES.telemetry) throw new StreamForgeError('SF_EVENT_UNKNOWN_TYPE', `queue-manager does not handle ${event.type}`);
  await manager.recordTelemetry(event.id, event.data);
  return undefined;
}
