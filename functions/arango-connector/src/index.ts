/**
 * arango-connector: data batches from the data topics into the store, idempotently (a
 * redelivered batch overwrites itself), bad records kept aside with their reason. It
 * answers 2xx only once the batch is durable, so the KafkaSource commits nothing early.
 */
import type { CloudEvent } from 'cloudevents';
import { connectServiceBus, type ServiceBus } from '@streamforge/core/bus';
import { dataBatchContract, isDataEventType } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import type { Context, FunctionRuntimeInfo } from '@streamforge/core/runtime';
import { openStore, type Store } from '@streamforge/core/store';
import { SERVICE, storeBatch, type ConnectorDeps } from './store-batch.ts';

let bus: ServiceBus;
let store: Store;
let deps: ConnectorDeps;

export async function init(info: FunctionRuntimeInfo): Promise<void> {
  store = await openStore();
  bus = await connectServiceBus(SERVICE, info.logger);
  deps = { store, telemetry: bus.telemetry, metrics: info.metrics };
}

export async function shutdown(): Promise<void> {
  await bus?.close();
  await store?.close();
}

export async function handle(context: Context, event?: CloudEvent<unknown>): Promise<undefined> {
  if (!event)
    throw new StreamForgeError(
      'SF_EVENT_MALFORMED',
      'arango-connector takes data CloudEvents (dev.streamforge.data.*)',
    );
  if (!isDataEventType(event.type))
    throw new StreamForgeError('SF_EVENT_UNKNOWN_TYPE', `arango-connector does not handle ${event.type}`);
  const batch = dataBatchContract.parse(event.data);
  const result = await storeBatch(deps, batch);
  context.log.debug({ written: result.written, rejected: result.rejected }, 'batch stored');
  return undefined;
}
