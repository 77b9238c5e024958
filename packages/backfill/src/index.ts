/**
 * `@streamforge/backfill`: backfill pages over the exchange's REST API, shared by loader-api
 * (REST backfills) and loader-producer (the stretches of a bulk backfill no archive holds).
 */
export { dataEventOf, dataEventsOf, rowBytesOf, type PageOrigin } from './data-events.ts';
export { finishPage, loadPage, pageTelemetryBase, workflowEnded, type BackfillDeps } from './load-page.ts';
export { createGate } from './page-gate.ts';
export { PartCutter, partsOfRows, partsOfText, RECORDS_PER_PART, type PagePart } from './page-parts.ts';
export {
  backfillRangeOf,
  pageBaseOf,
  planPages,
  restPageBounds,
  type PageBase,
  type PagePlanOptions,
} from './plan-pages.ts';
export { fetchRestPage, type FetchedPage } from './rest-page.ts';
export { publishSpooledRows, readBatches, type ReadRows, type SpoolOptions } from './spooled-page.ts';
export { registerExchangeMetrics } from './exchange-metrics.ts';
export { sendPages, symbolKnown } from './start-pages.ts';
