/**
 * One backfill page loaded: fetched, published as data events, then counted done in the
 * store for the loading service — exactly once, however often the page is delivered — with
 * the workflow's progress reported from the store's count.
 */
import { reportFinalFailure, type EventProducer, type TelemetryEmitter } from '@streamforge/core/bus';
import type { WorkPage } from '@streamforge/core/contracts';
import type { Store } from '@streamforge/core/store';
import { createReportThrottle, type Logger } from '@streamforge/core/telemetry';
import type { BinanceRestClient } from '@streamforge/exchange';
import { dataEventsOf } from './data-events.ts';
import { createGate } from './page-gate.ts';
import { fetchRestPage, type FetchedPage } from './rest-page.ts';

export interface BackfillDeps {
  /** The loading service: its page ledger, its telemetry, its events' source. */
  service: string;
  exchange: BinanceRestClient;
  producer: EventProducer;
  telemetry: TelemetryEmitter;
  store: Store;
  logger: Logger;
  clock?: () => number;
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

/** Pages of trades at once per instance: 4 × ~30 MB stays well inside an instance's memory. */
const wholePages = createGate(4);

/** A REST page: fetched within the weight budget, published, counted. */
export async function loadPage(deps: BackfillDeps, page: WorkPage): Promise<'loaded' | 'skipped'> {
  if (await workflowEnded(deps.store, page)) return 'skipped';
  const load = async (): Promise<number> => {
    let fetched: FetchedPage | undefined;
    try {
      fetched = await fetchRestPage(deps.exchange, page, (deps.clock ?? Date.now)());
    } catch (error) {
      // A page the exchange refuses for good (its code's disposition) ends the workflow; the rest is retried.
      await reportFinalFailure(deps.telemetry, pageTelemetryBase(page), error);
      throw error;
    }
    const { count } = fetched;
    const events = dataEventsOf(page, fetched, { service: deps.service, source: 'api' });
    // The decoded rows are free to go while the events' text is sent: an hour of trades is most of a page's memory.
    fetched = undefined;
    await deps.producer.send(page.kafka_topic, events);
    return count;
  };
  // Kline pages hold at most 1000 rows; a page of trades holds an hour of them until sent.
  const count = page.kind === 'klines' ? await load() : await wholePages(load);
  await finishPage(deps, page, `${count} records`);
  return 'loaded';
}
