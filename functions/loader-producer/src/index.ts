/**
 * loader-producer: bulk history. A `start` command for a `bulk_*` workflow is planned over
 * the series' public archive files and pages on the work topic; each page, delivered back by
 * its own KafkaSource, is read from its archive file (verified against its CHECKSUM) or, for
 * what no archive holds yet, fetched over REST like loader-api's pages, and published as
 * data batches with the same record keys as every other path.
 */
import type { CloudEvent } from 'cloudevents';
import { loadPage, registerExchangeMetrics } from '@streamforge/backfill';
import { connectServiceBus, type ServiceBus } from '@streamforge/core/bus';
import { EVENT_TYPES, parseCommandFor, workPageContract, type StartCommand } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import type { Context, FunctionRuntimeInfo } from '@streamforge/core/runtime';
import { openStore, type Store } from '@streamforge/core/store';
import { BinanceRestClient } from '@streamforge/exchange';
import { ArchiveClient } from '@streamforge/exchange/archive';
import { loadArchivePage } from './archive-page.ts';
import type { BulkDeps } from './bulk-deps.ts';
import { SERVICE } from './service.ts';
import { startBulk } from './start-bulk.ts';

let bus: ServiceBus;
let store: Store;
let exchange: BinanceRestClient;
let archive: ArchiveClient;
let deps: BulkDeps;

export async function init(info: FunctionRuntimeInfo): Promise<void> {
  store = await openStore();
  bus = await connectServiceBus(SERVICE, info.logger);
  exchange = new BinanceRestClient({ logger: info.logger });
  archive = new ArchiveClient({ logger: info.logger });
  registerExchangeMetrics(info.metrics.registry, () => exchange.stats());
  deps = {
    service: SERVICE,
    exchange,
    archive,
    producer: bus.producer,
    telemetry: bus.telemetry,
    store,
    logger: info.logger,
  };
}

export async function shutdown(): Promise<void> {
  await bus?.close();
  await archive?.close();
  await exchange?.close();
  await store?.close();
}

export async function handle(context: Context, event?: CloudEvent<unknown>): Promise<undefined> {
  if (!event)
    throw new StreamForgeError(
      'SF_EVENT_MALFORMED',
      'loader-producer takes CloudEvents: commands from queue-control.loader-producer and bulk pages',
    );
  if (event.type === EVENT_TYPES.workPage) {
    const page = workPageContract.parse(event.data);
    const outcome = page.archive ? await loadArchivePage(deps, page) : await loadPage(deps, page);
    context.log.debug({ outcome, archive: page.archive }, 'page handled');
    return undefined;
  }
  const command = parseCommandFor(SERVICE, event.data);
  // A stop needs no action here: pages of a stopped workflow are skipped when they arrive.
  if (command.command === 'start') await startBulk(deps, command as StartCommand);
  return undefined;
}
