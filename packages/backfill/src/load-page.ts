/**
 * One backfill page loaded: fetched, published as data events, then counted done in the
 * store for the loading service — exactly once, however often the page is delivered — with
 * the workflow's progress reported from the store's count.
 */
import { reportFinalFailure, type EventProducer, type TelemetryEmitter } from '@streamforge/core/bus';
import { PAGE_KIND_NAMES, type WorkPage } from '@streamforge/core/contracts';
import type { Store } from '@streamforge/core/store';
import { createReportThrottle, type Logger } from '@streamforge/core/telemetry';
import type { BinanceRestClient } from '@streamforge/exchange';
import { dataEventsOf, type PageOrigin } from './data-events.ts';
import { fetchRestPage, isTradePage, restTradeBatches, type TradePageKind } from './rest-page.ts';
import { publishSpooledRows, readBatches } from './spooled-page.ts';

export interface BackfillDeps {
  /** The loading service: its page ledger, its telemetry, its events' source. */
  service: string;
  exchange: BinanceRestClient;
  producer: EventProducer;
  telemetry: TelemetryEmitter;
  store: Store;
  logger: Logger;
  clock?: () => number;
  /** Where a page of trades is spooled while it is fetched; the OS's temporary folder by default. */
  tempDir?: string;
}

export function pageTelemetryBase(page: WorkPage): {
  queue_id: string;
  producer: string;
  symbol: string;
  type: string;
} {
  return { queue_id: page.queue_id, producer: page.telemetry_id, symbol: page.symbol, type: page.type };
}

/** Whether a page's workflow has ended, so the page takes no more of the exchange's (or the archive's) budget. */
export async function workflowEnded(store: Store, page: WorkPage): Promise<boolean> {
  const workflow = await store.getWorkflow(page.queue_id);
  return workflow !== undefined && (workflow.status === 'stopped' || workflow.status === 'error');
}

/** Progress is cumulative (from the store), so reporting it a few times a second loses nothing. */
const reports = createReportThrottle(250);

/**
 * Counts a published page done for its service and reports the workflow's progress; `detail`
 * says what the page held, `bytes` what it moved (an archive file's size), reported beside the
 * pages when the plan says how many bytes it has in all.
 */
export async function finishPage(
  deps: Pick<BackfillDeps, 'service' | 'store' | 'telemetry'>,
  page: WorkPage,
  detail: string,
  bytes = 0,
): Promise<void> {
  const progress = await deps.store.markPageDone(deps.service, page.queue_id, page.page.index, page.page.count, bytes);
  const finished = progress.done >= progress.total;
  const total = page.page.archive_bytes;
  if (!reports.due(page.queue_id, finished)) return;
  await deps.telemetry.emit({
    ...pageTelemetryBase(page),
    status: finished ? 'finished' : 'loading',
    message: finished
      ? `all ${progress.total} pages loaded`
      : `page ${page.page.index + 1}/${page.page.count}: ${detail}`,
    progress: {
      done: progress.done,
      total: progress.total,
      unit: 'pages',
      ...(total === undefined ? {} : { bytes: { done: progress.bytes, total } }),
    },
  });
}

/** A REST page: fetched within the weight budget, published, counted. */
export async function loadPage(deps: BackfillDeps, page: WorkPage): Promise<'loaded' | 'skipped'> {
  if (await workflowEnded(deps.store, page)) return 'skipped';
  let count: number;
  try {
    count = isTradePage(page) ? await publishTrades(deps, page) : await publishWhole(deps, page);
  } catch (error) {
    // A page the exchange refuses for good (its code's disposition) ends the workflow; the rest is retried.
    await reportFinalFailure(deps.telemetry, pageTelemetryBase(page), error);
    throw error;
  }
  await finishPage(deps, page, `${count} records`);
  return 'loaded';
}

/** A page of at most one answer (candles, funding rates): fetched whole, sent in one go. */
async function publishWhole(deps: BackfillDeps, page: WorkPage): Promise<number> {
  const fetched = await fetchRestPage(deps.exchange, page, (deps.clock ?? Date.now)());
  await deps.producer.send(page.kafka_topic, dataEventsOf(page, fetched, origin(deps)));
  return fetched.count;
}

/** An hour of trades, as many as the symbol made: spooled to disk answer by answer, then sent in parts. */
async function publishTrades(deps: BackfillDeps, page: WorkPage & { kind: TradePageKind }): Promise<number> {
  return await publishSpooledRows(
    page,
    origin(deps),
    PAGE_KIND_NAMES[page.kind].rowFormat,
    readBatches(restTradeBatches(deps.exchange, page)),
    (events) => deps.producer.send(page.kafka_topic, events),
    { tempDir: deps.tempDir },
  );
}

const origin = (deps: BackfillDeps): PageOrigin => ({ service: deps.service, source: 'api' });
