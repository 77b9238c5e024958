/**
 * `@streamforge/exchange/archive`: Binance's public archive files (data.binance.vision), apart
 * from the REST and WebSocket clients so that a function that never reads archives does not
 * load the zip reader.
 */
export {
  ARCHIVE_PLAN_PERIODS,
  bulkPlanPeriods,
  hasDailyArchives,
  nextMonth,
  planArchiveRange,
  type ArchiveInventory,
  type ArchivePlanPeriod,
  type ArchivePlanRequest,
  type PlannedPart,
} from './archive-plan.ts';
export {
  ArchiveClient,
  type ArchiveClientOptions,
  type ArchiveListing,
  type ArchiveReadResult,
  type VerifiedArchive,
} from './archive-client.ts';
export type { ArchiveListEntry } from './archive-listing.ts';
export {
  ARCHIVE_FILE_PERIODS,
  SPOT_MICROSECONDS_FROM,
  archiveFileName,
  archiveFileProblem,
  archiveFileStart,
  archiveIntervalName,
  archivePeriodEnd,
  archiveSeriesFolder,
  archiveUsesMicroseconds,
  archiveZipPath,
  hasArchiveFiles,
  isIntervalArchiveKind,
  seriesHasPeriod,
  INTERVAL_ARCHIVE_KINDS,
  type AggTradeArchiveFile,
  type FundingRateArchiveFile,
  type IntervalArchiveKind,
  type MetricsArchiveFile,
  type ArchiveFilePeriod,
  type ArchiveFileRef,
  type ArchiveSeries,
  type KlineArchiveFile,
  type TradeArchiveFile,
} from './archive-paths.ts';
export { archiveRowTime, type ArchiveRow } from './archive-rows.ts';
