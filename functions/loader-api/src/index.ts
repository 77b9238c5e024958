/**
 * loader-api: historical REST download. A `start` command for an `api_*` workflow is split
 * into pages on the work topic; each page, delivered back by its own KafkaSource, is
 * fetched from the exchange within its weight budget and published as data batches.
 */
import type { CloudEvent } from 'cloudevents';
import { connectServiceBus, type ServiceBus } from '@streamforge/shared/bus';
import { EVENT_TYPES, controlCommandContract, serviceOf, workPageContract, type StartCommand } from '@streamforge/shared/contracts';
import { StreamForgeError } from '@streamforge/shared/errors';
import { BinanceRestClient } from '@streamforge/shared/exchange';
import type { Context, FunctionRuntimeInfo } from '@streamforge/shared/runtime';
import { openStore, type Store } from '@streamforge/shared/store';
import { SERVICE, loadPage, startBackfill, type LoaderDeps } from './backfill.ts';
import { registerExchangeMetrics } from './exchange-metrics.ts';

let bus: ServiceBus;
let store: Store;
let exchange: BinanceRestClient;
let deps: LoaderDeps;

export async function init(info: FunctionRuntimeInfo): Promise<void> {
  store = await openStore();
  bus = await connectServiceBus(SERVICE, info.logger);
  exchange = new BinanceRestClient({ logger: info.logger });
  registerExchangeMetrics(info.metrics.registry, () => exchange.stats());
  deps = { exchange, producer: bus.producer, telemetry: bus.telemetry, store, logger: info.logger };
}

export async function shutdown(): Promise<void> {
  await bus?.close();
  await exchange?.close();
  await store?.close();
}

export async function handle(context: Context, event?: CloudEvent<unknown>): Promise<undefined> {
  if (!event) throw new StreamForgeError('SF_EVENT_MALFORMED', 'loader-api takes CloudEvents: queue-control commands and backfill pages');
  if (event.type === EVENT_TYPES.workPage) {
    const outcome = await loadPage(deps, workPageContract.parse(event.data));
    context.log.debug({ outcome }, 'page handled');
    return undefined;
  }
  const command = controlCommandContract.parse(event.data);
  // Every queue-control command reaches every consumer: act on the starts addressed to us.
  if (command.command === 'start' && command.target !== undefined && serviceOf(command.target) === SERVICE) {
    await startBackfill(deps, command as StartCommand);
  }
  return undefined;
}
