/**
 * loader-api's two steps. `startBackfill`: a start command becomes pages on the work topic
 * (parallel instances share them through Kafka). `loadPage`: one page is fetched from the
 * exchange and published as data batches, then counted done in the store — exactly once,
 * however often the page is delivered (`@streamforge/backfill`).
 */
import { commandTelemetryBase, TOPICS } from '@streamforge/core/bus';
import {
  EVENT_TYPES,
  parseWorkflowType,
  sourceOf,
  type StartCommand,
  type WorkPage,
} from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import {
  loadPage as loadBackfillPage,
  planPages,
  type BackfillDeps,
  type PagePlanOptions,
} from '@streamforge/backfill';
import { SERVICE } from './service.ts';

export interface LoaderDeps extends Omit<BackfillDeps, 'service'> {
  plan?: Omit<PagePlanOptions, 'service'>;
}

export async function startBackfill(deps: LoaderDeps, command: StartCommand): Promise<number> {
  const plan = parseWorkflowType(command.type);
  if (plan.source !== 'api')
    throw new StreamForgeError('SF_CONTRACT_INVALID', `type: loader-api does not load ${command.type}`);
  const base = commandTelemetryBase(command, SERVICE);
  // One cheap request proves the symbol exists before hundreds of pages are planned.
  try {
    await deps.exchange.exchangeInfo({ market: command.market ?? 'spot', symbol: command.symbol });
  } catch (error) {
    if (StreamForgeError.is(error) && error.code === 'SF_EXCHANGE_REJECTED') {
      await deps.telemetry.emit({
        ...base,
        status: 'error',
        message: error.message,
        error: { code: error.code, message: error.message, retryable: false },
      });
      return 0;
    }
    throw error;
  }
  const pages = planPages(command, plan.kind, plan.interval, {
    service: SERVICE,
    now: (deps.clock ?? Date.now)(),
    ...deps.plan,
  });
  // However many pages (a 31-day month of 1s candles is 2679), the producer sends them in requests of at most MAX_SEND_BYTES.
  await deps.producer.send(
    TOPICS.loaderWork,
    pages.map((page) => ({
      id: `${page.queue_id}:page:${page.page.index}`,
      type: EVENT_TYPES.workPage,
      source: sourceOf(SERVICE),
      subject: page.queue_id,
      // Spread pages over the work topic's partitions, so instances share one workflow.
      partitionKey: `${page.symbol}:${page.page.index}`,
      data: page,
    })),
  );
  await deps.telemetry.emit({
    ...base,
    status: 'started',
    message: `${pages.length} pages planned`,
    progress: { done: 0, total: pages.length, unit: 'pages' },
  });
  deps.logger.info({ queue_id: command.queue_id, pages: pages.length }, 'backfill planned');
  return pages.length;
}

export function loadPage(deps: LoaderDeps, page: WorkPage): Promise<'loaded' | 'skipped'> {
  return loadBackfillPage({ ...deps, service: SERVICE }, page);
}
