/**
 * Names of files on Binance's public archive (docs/binance.md, public data files):
 * `data/<spot|futures/um|futures/cm>/<daily|monthly>/<klines|aggTrades|trades>/SYMBOL[/INTERVAL]/<name>.zip`
 * and its `.CHECKSUM` sidecar; the futures add the price series (`markPriceKlines`,
 * `indexPriceKlines`, `premiumIndexKlines`, named and foldered like klines), `fundingRate`
 * (monthly files only) and `metrics` (daily files only). The month interval is written `1mo` (REST says `1M`); daily
 * kline files stop at `1d`. The local simulator serves the same names; the archive client's
 * tests check that both sides agree.
 */
import {
  INTERVAL_ARCHIVE_TYPES,
  type Interval,
  type IntervalArchiveType,
  type Market,
} from '@streamforge/core/contracts';

export const ARCHIVE_FILE_PERIODS = ['daily', 'monthly'] as const;
export type ArchiveFilePeriod = (typeof ARCHIVE_FILE_PERIODS)[number];

interface ArchiveFileBase {
  market: Market;
  period: ArchiveFilePeriod;
  symbol: string;
  /** First millisecond (UTC) of the file's day or month. */
  start: number;
}

/** Archive kinds whose files are per interval: trade candles and the futures price series (named in PAGE_KIND_NAMES). */
export const INTERVAL_ARCHIVE_KINDS = INTERVAL_ARCHIVE_TYPES;
export type IntervalArchiveKind = IntervalArchiveType;

export function isIntervalArchiveKind(kind: string): kind is IntervalArchiveKind {
  return (INTERVAL_ARCHIVE_KINDS as readonly string[]).includes(kind);
}

/** A day or a month of one kline series (trade candles, or a futures price series). */
export interface KlineArchiveFile extends ArchiveFileBase {
  kind: IntervalArchiveKind;
  interval: Interval;
}

/** A month of one futures symbol's funding rates (`BTCUSDT-fundingRate-2024-01`); there are no daily files. */
export interface FundingRateArchiveFile extends ArchiveFileBase {
  kind: 'fundingRate';
}

/** A day of one USD-M symbol's metrics (`BTCUSDT-metrics-2024-01-01`); there are no monthly files. */
export interface MetricsArchiveFile extends ArchiveFileBase {
  kind: 'metrics';
}

/** A day or a month of one symbol's aggregate trades. */
export interface AggTradeArchiveFile extends ArchiveFileBase {
  kind: 'aggTrades';
}

/** A day of one symbol's raw trades (`BTCUSDT-trades-2024-03-05`); read by day only, like aggTrades. */
export interface TradeArchiveFile extends ArchiveFileBase {
  kind: 'trades';
}

export type ArchiveFileRef =
  | KlineArchiveFile
  | AggTradeArchiveFile
  | TradeArchiveFile
  | FundingRateArchiveFile
  | MetricsArchiveFile;

/** One series of files (a symbol's klines of one interval, its aggTrades or its trades, …), of either period. */
export type ArchiveSeries =
  | Omit<KlineArchiveFile, 'start' | 'period'>
  | Omit<AggTradeArchiveFile, 'start' | 'period'>
  | Omit<TradeArchiveFile, 'start' | 'period'>
  | Omit<FundingRateArchiveFile, 'start' | 'period'>
  | Omit<MetricsArchiveFile, 'start' | 'period'>;

const MARKET_FOLDERS: Record<Market, string> = { spot: 'spot', usdm: 'futures/um', coinm: 'futures/cm' };
const MONTHLY_ONLY: readonly Interval[] = ['3d', '1w', '1M'];

/** Spot archive files of days from then on write times in microseconds; REST answers in milliseconds. */
export const SPOT_MICROSECONDS_FROM = Date.UTC(2025, 0, 1);

/** An interval as the archive writes it: `1M` is `1mo`. */
export function archiveIntervalName(interval: Interval): string {
  return interval === '1M' ? '1mo' : interval;
}

/** Whether a kline interval has files of this period (3d, 1w and 1M are monthly only). */
export function hasArchiveFiles(period: ArchiveFilePeriod, interval: Interval): boolean {
  return period === 'monthly' || !MONTHLY_ONLY.includes(interval);
}

/** Whether a series has files of this period: funding rates monthly only, metrics daily only, klines by interval. */
export function seriesHasPeriod(series: ArchiveSeries, period: ArchiveFilePeriod): boolean {
  if (series.kind === 'fundingRate') return period === 'monthly';
  if (series.kind === 'metrics') return period === 'daily';
  return !isIntervalArchiveKind(series.kind) || hasArchiveFiles(period, (series as { interval: Interval }).interval);
}

/** The first millisecond of the day or month holding `time`. */
export function archivePeriodStart(period: ArchiveFilePeriod, time: number): number {
  const d = new Date(time);
  return period === 'daily'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** First millisecond after the file's day or month. */
export function archivePeriodEnd(file: Pick<ArchiveFileRef, 'period' | 'start'>): number {
  if (file.period === 'daily') return file.start + 86_400_000;
  const d = new Date(file.start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Whether the file writes its times in microseconds (spot, from 2025-01-01 on). */
export function archiveUsesMicroseconds(file: Pick<ArchiveFileRef, 'market' | 'start'>): boolean {
  return file.market === 'spot' && file.start >= SPOT_MICROSECONDS_FROM;
}

/** The file name without extension: `BTCUSDT-1m-2023-03`, `BTCUSDT-aggTrades-2023-03-05`. */
export function archiveFileName(file: ArchiveFileRef): string {
  const iso = new Date(file.start).toISOString();
  const date = file.period === 'daily' ? iso.slice(0, 10) : iso.slice(0, 7);
  const what = isIntervalArchiveKind(file.kind) ? archiveIntervalName((file as KlineArchiveFile).interval) : file.kind;
  return `${file.symbol}-${what}-${date}`;
}

/** The folder of a file's series, without leading slash, ending with `/` (what `list` takes). */
export function archiveSeriesFolder(
  file: ArchiveFileRef extends infer F ? (F extends unknown ? Omit<F, 'start'> : never) : never,
): string {
  const base = `data/${MARKET_FOLDERS[file.market]}/${file.period}/${file.kind}/${file.symbol}/`;
  return isIntervalArchiveKind(file.kind)
    ? `${base}${archiveIntervalName((file as { interval: Interval }).interval)}/`
    : base;
}

/** The key of a file's zip, without leading slash: `data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2023-03-05.zip`. */
export function archiveZipPath(file: ArchiveFileRef): string {
  return `${archiveSeriesFolder(file)}${archiveFileName(file)}.zip`;
}

/** Checks what a name cannot show: a start that is not the first millisecond of its day or month, a daily file of a monthly-only interval. */
export function archiveFileProblem(file: ArchiveFileRef): string | undefined {
  const d = new Date(file.start);
  const first =
    file.period === 'daily'
      ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
      : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  if (!Number.isInteger(file.start) || first !== file.start)
    return `start: ${file.start} is not the first millisecond of a ${file.period === 'daily' ? 'day' : 'month'}`;
  if (!/^[A-Z0-9._-]{1,30}$/.test(file.symbol)) return `symbol: ${JSON.stringify(file.symbol)} is not a symbol`;
  if (isIntervalArchiveKind(file.kind) && !hasArchiveFiles(file.period, (file as KlineArchiveFile).interval))
    return `interval: ${(file as KlineArchiveFile).interval} has monthly files only`;
  if (!seriesHasPeriod(file, file.period)) return `kind: ${file.kind} has no ${file.period} files`;
  if (file.market === 'spot' && !['klines', 'aggTrades', 'trades'].includes(file.kind))
    return `kind: ${file.kind} exists on the futures markets only`;
  return undefined;
}

/** The first millisecond of a zip named in a series folder (`BTCUSDT-1m-2023-03.zip`), or undefined for anything else (a CHECKSUM). */
export function archiveFileStart(name: string, period: ArchiveFilePeriod): number | undefined {
  const match = (period === 'daily' ? /-(\d{4})-(\d{2})-(\d{2})\.zip$/ : /-(\d{4})-(\d{2})\.zip$/).exec(name);
  if (match === null) return undefined;
  const [, year, month, day] = match;
  return Date.UTC(Number(year), Number(month) - 1, day === undefined ? 1 : Number(day));
}
