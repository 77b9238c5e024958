/**
 * loader-api: historical REST download. A `start` command for an `api_*` workflow is split
 * into pages on the work topic; each page, delivered back by its own KafkaSource, is
 * fetched from the exchange within its weight budget and published as data batches.
 */
import type { CloudEvent } from 'cloudevents';
import { connectServiceBus, type ServiceBus } from '@streamforge/core/bus';
import { EVENT_TYPES, parseCommandFor, workPageContract, type StartCommand } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import { BinanceRestClient } from '@streamforge/exchange';
import type { Context, FunctionRuntimeInfo } from '@streamforge/core/runtime';
import { openStore, type Store } from '@streamforge/core/store';
import { registerExchangeMetrics } from '@streamforge/backfill';
import { loadPage, startBackfill, type LoaderDeps } from './backfill.ts';
import { SERVICE } from './service.ts';

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
  if (!event)
    throw new StreamForgeError(
      'SF_EVENT_MALFORMED',
      'loader-api takes CloudEvents: commands from queue-control.loader-api and backfill pages',
    );
  if (event.type === EVENT_TYPES.workPage) {
    const outcome = await loadPage(deps, workPageContract.parse(event.data));
    context.log.debug({ outcome }, 'page handled');
    return undefined;
  }
  const command = parseCommandFor(SERVICE, event.data);
  // A stop needs no action here: pages of a stopped workflow are skipped when they arrive.
  if (command.command === 'start') await startBackfill(deps, command as StartCommand);
  return undefined;
}
