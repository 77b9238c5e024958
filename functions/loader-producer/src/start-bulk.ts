/**
 * A `start` command for a bulk workflow becomes pages on loader-producer's work topic:
 * the series' archive files are listed, the range planned over them (plan-bulk.ts), and
 * every page sent, so parallel instances share the work through Kafka.
 */
import { commandTelemetryBase, TOPICS } from '@streamforge/core/bus';
import { EVENT_TYPES, parseWorkflowType, sourceOf, type StartCommand } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import { backfillRangeOf } from '@streamforge/backfill';
import type { BulkDeps } from './bulk-deps.ts';
import { planBulk } from './plan-bulk.ts';
import { SERVICE } from './service.ts';

export async function startBulk(deps: BulkDeps, command: StartCommand): Promise<number> {
  const workflow = parseWorkflowType(command.type);
  if (workflow.source !== 'bulk')
    throw new StreamForgeError('SF_CONTRACT_INVALID', `type: loader-producer does not load ${command.type}`);
  const base = commandTelemetryBase(command, SERVICE);
  const market = command.market ?? 'spot';
  // One cheap request proves the symbol exists before the archive is listed and pages planned.
  try {
    await deps.exchange.exchangeInfo({ market, symbol: command.symbol });
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
  const now = (deps.clock ?? Date.now)();
  const { startMs, endMs } = backfillRangeOf(command, now);
  const listed = await deps.archive.inventory(
    workflow.kind === 'klines'
      ? { market, kind: 'klines', symbol: command.symbol, interval: workflow.interval! }
      : { market, kind: 'aggTrades', symbol: command.symbol },
    { start: startMs, end: endMs },
  );
  const plan = planBulk({ command, kind: workflow.kind, interval: workflow.interval, startMs, endMs, now, listed });
  await deps.producer.send(
    TOPICS.producerWork,
    plan.pages.map((page) => ({
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
    message: `${plan.pages.length} pages planned: ${plan.archives} archive files, ${plan.restPages} REST pages`,
    progress: { done: 0, total: plan.pages.length, unit: 'pages' },
  });
  deps.logger.info(
    { queue_id: command.queue_id, archives: plan.archives, rest_pages: plan.restPages },
    'bulk backfill planned',
  );
  return plan.pages.length;
}
