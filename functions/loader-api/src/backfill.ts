/**
 * loader-api's two steps. `startBackfill`: a start command becomes pages on the work topic
 * (parallel instances share them through Kafka). `loadPage`: one page is fetched from the
 * exchange and published as data batches, then counted done in the store — exactly once,
 * however often the page is delivered (`@streamforge/backfill`).
 */
import { commandTelemetryBase, TOPICS } from '@streamforge/core/bus';
import { parseWorkflowType, type StartCommand, type WorkPage } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import {
  loadPage as loadBackfillPage,
  planPages,
  sendPages,
  symbolKnown,
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
  if (!(await symbolKnown(deps, command, base))) return 0;
  const pages = planPages(command, plan.kind, plan.interval, {
    service: SERVICE,
    now: (deps.clock ?? Date.now)(),
    ...deps.plan,
  });
  await sendPages(deps.producer, TOPICS.loaderWork, SERVICE, pages);
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
