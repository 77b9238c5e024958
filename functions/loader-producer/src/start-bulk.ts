/**
 * A `start` command for a bulk workflow becomes pages on loader-producer's work topic:
 * the series' archive files are listed, the range planned over them (plan-bulk.ts), and
 * every page sent, so parallel instances share the work through Kafka.
 */
import { commandTelemetryBase, TOPICS } from '@streamforge/core/bus';
import { parseWorkflowType, type StartCommand } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import { bulkPlanPeriods, isIntervalArchiveKind } from '@streamforge/exchange/archive';
import { backfillRangeOf, sendPages, symbolKnown } from '@streamforge/backfill';
import type { BulkDeps } from './bulk-deps.ts';
import { archiveKindOf, archiveSliceBytesFromEnv, planBulk } from './plan-bulk.ts';

const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
import { SERVICE } from './service.ts';

/** How the large files were split, when some were. */
function sliced(files: number, pages: number, sliceBytes: number): string {
  return pages > files ? `; ${pages} archive pages: files over ${sliceBytes} bytes read in slices` : '';
}

export async function startBulk(deps: BulkDeps, command: StartCommand): Promise<number> {
  const workflow = parseWorkflowType(command.type);
  if (workflow.source !== 'bulk')
    throw new StreamForgeError('SF_CONTRACT_INVALID', `type: loader-producer does not load ${command.type}`);
  const base = commandTelemetryBase(command, SERVICE);
  if (!(await symbolKnown(deps, command, base))) return 0;
  const market = command.market ?? 'spot';
  // The plan's clock is the command's time, not this delivery's: a start delivered again
  // plans the same pages under the same ids (files published since are left out below).
  const now = Math.min((deps.clock ?? Date.now)(), command.timestamp * 1000);
  const { startMs, endMs } = backfillRangeOf(command, now);
  // Listing a long series can take a while: the workflow is taken up before.
  await deps.telemetry.emit({ ...base, status: 'started', message: 'listing the archive files of the range' });
  const kind = archiveKindOf(workflow.kind);
  const listed = await deps.archive.inventory(
    isIntervalArchiveKind(kind)
      ? { market, kind, symbol: command.symbol, interval: workflow.interval! }
      : { market, kind, symbol: command.symbol },
    { start: startMs, end: endMs },
    bulkPlanPeriods(kind),
    now,
  );
  const sliceBytes = archiveSliceBytesFromEnv();
  const plan = planBulk({
    command,
    kind: workflow.kind,
    interval: workflow.interval,
    startMs,
    endMs,
    now,
    listed,
    sliceBytes,
  });
  if (plan.uncovered.length > 0) {
    // REST has only the latest month of metrics, at other resolutions and over several
    // endpoints: a range the archives do not cover ends here, before anything is loaded.
    const days = plan.uncovered.map(([start, end]) => `${dayOf(start)}…${dayOf(end - 1)}`).join(', ');
    const message = `metrics: no daily archive file for ${days} (not published yet, or never); bulk_metrics loads archived days only, so end the range before them`;
    await deps.telemetry.emit({
      ...base,
      status: 'error',
      message,
      error: { code: 'SF_CONTRACT_INVALID', message, retryable: false },
    });
    return 0;
  }
  await sendPages(deps.producer, TOPICS.producerWork, SERVICE, plan.pages);
  await deps.telemetry.emit({
    ...base,
    status: 'started',
    message: `${plan.pages.length} pages planned: ${plan.archives} archive files, ${plan.restPages} REST pages; ${(plan.archiveBytes / 1e6).toFixed(1)} MB of archives${sliced(plan.archives, plan.archivePages, sliceBytes)}`,
    progress: {
      done: 0,
      total: plan.pages.length,
      unit: 'pages',
      ...(plan.archives > 0 ? { bytes: { done: 0, total: plan.archiveBytes } } : {}),
    },
  });
  deps.logger.info(
    { queue_id: command.queue_id, archives: plan.archives, rest_pages: plan.restPages },
    'bulk backfill planned',
  );
  return plan.pages.length;
}
