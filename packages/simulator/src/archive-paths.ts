/**
 * Names on the simulator's stand-in for Binance's public archive (docs/binance.md, public data
 * files): `data/<market folder>/<daily|monthly>/<klines|aggTrades|trades>/SYMBOL[/INTERVAL]/<file>.zip`
 * and its `.CHECKSUM` sidecar. Spot lives under `spot`, USD-M under `futures/um`, COIN-M under `futures/cm`; the month
 * interval is written `1mo` (REST says `1M`); daily kline files exist for intervals up to `1d`.
 * The futures add the price series (named and foldered like klines), `fundingRate` (monthly
 * files only) and, on USD-M, `metrics` (daily files only).
 */
import {
  INTERVAL_ARCHIVE_TYPES,
  PAGE_KIND_NAMES,
  marketIntervals,
  type Interval,
  type Market,
  type PageKind,
} from '@streamforge/core/contracts';

export const ARCHIVE_PERIODS = ['daily', 'monthly'] as const;
export type ArchivePeriod = (typeof ARCHIVE_PERIODS)[number];
/** A series the archive holds: a page kind's archive type. */
export type ArchiveKind = (typeof PAGE_KIND_NAMES)[PageKind]['archive'];
/** Every page kind's series, named in PAGE_KIND_NAMES, sorted by name. */
export const ARCHIVE_KINDS: readonly ArchiveKind[] = Object.values(PAGE_KIND_NAMES)
  .map((names) => names.archive)
  .sort();

/** Kinds whose files are per interval. */
const INTERVAL_KINDS: readonly ArchiveKind[] = INTERVAL_ARCHIVE_TYPES;

export function hasInterval(kind: ArchiveKind): boolean {
  return INTERVAL_KINDS.includes(kind);
}

/**
 * The kinds of a market's folders in a period: spot has trade data only; COIN-M's index price
 * files are per pair (not served here) and it has no metrics; funding rates are monthly only,
 * metrics daily only.
 */
export function archiveKinds(market: Market, period: ArchivePeriod): ArchiveKind[] {
  // Which markets and periods have a series is the archive's layout, modelled here, not in the table.
  if (market === 'spot') return ['aggTrades', 'klines', 'trades'];
  return ARCHIVE_KINDS.filter(
    (kind) =>
      !(market === 'coinm' && (kind === 'indexPriceKlines' || kind === 'metrics')) &&
      !(kind === 'fundingRate' && period === 'daily') &&
      !(kind === 'metrics' && period === 'monthly'),
  );
}

/** The folder below `data/` of each market. */
export const ARCHIVE_MARKET_FOLDERS: Record<Market, string> = { spot: 'spot', usdm: 'futures/um', coinm: 'futures/cm' };

/** The market of a folder below `data/` (`spot`, `futures/um`, `futures/cm`), if any. */
export function marketOfFolder(folder: string): Market | undefined {
  return (Object.keys(ARCHIVE_MARKET_FOLDERS) as Market[]).find((m) => ARCHIVE_MARKET_FOLDERS[m] === folder);
}

/** One archive file: a day or a month of one series. */
export interface ArchiveFile {
  market: Market;
  period: ArchivePeriod;
  kind: ArchiveKind;
  symbol: string;
  /** Klines and the price series only. */
  interval?: Interval;
  /** First millisecond of the day or month (UTC). */
  start: number;
}

const LONG_INTERVALS: readonly Interval[] = ['3d', '1w', '1M'];

/** The kline intervals with files of this period on this market. */
export function archiveIntervals(market: Market, period: ArchivePeriod): Interval[] {
  return marketIntervals(market).filter((i) => period === 'monthly' || !LONG_INTERVALS.includes(i));
}

/** An interval as the archive writes it: `1M` is `1mo`. */
export function archiveIntervalName(interval: Interval): string {
  return interval === '1M' ? '1mo' : interval;
}

/** First millisecond after the file's day or month. */
export function periodEnd(file: Pick<ArchiveFile, 'period' | 'start'>): number {
  if (file.period === 'daily') return file.start + 86_400_000;
  const d = new Date(file.start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** The day or month containing `time`, as the period's first millisecond. */
export function periodStart(period: ArchivePeriod, time: number): number {
  const d = new Date(time);
  return period === 'daily'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function dateName(period: ArchivePeriod, start: number): string {
  const iso = new Date(start).toISOString();
  return period === 'daily' ? iso.slice(0, 10) : iso.slice(0, 7);
}

/** The file name without extension: `BTCUSDT-1m-2023-03`, `BTCUSDT-aggTrades-2023-03-05`. */
export function archiveFileName(file: ArchiveFile): string {
  const what = hasInterval(file.kind) ? archiveIntervalName(file.interval!) : file.kind;
  return `${file.symbol}-${what}-${dateName(file.period, file.start)}`;
}

/** The folder of a series, without leading slash, ending with `/`. */
export function archiveFolder(file: Omit<ArchiveFile, 'start'>): string {
  const base = `data/${ARCHIVE_MARKET_FOLDERS[file.market]}/${file.period}/${file.kind}/${file.symbol}/`;
  return hasInterval(file.kind) ? `${base}${archiveIntervalName(file.interval!)}/` : base;
}

/** The key of a file's zip, without leading slash (`data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2023-03-05.zip`). */
export function archivePath(file: ArchiveFile): string {
  return `${archiveFolder(file)}${archiveFileName(file)}.zip`;
}

const PATH =
  /^\/?data\/(spot|futures\/um|futures\/cm)\/(daily|monthly)\/([a-zA-Z]{5,18})\/([A-Z0-9._-]{1,30})\/(?:([0-9a-z]{2,3})\/)?([A-Z0-9._-]{1,30})-([0-9a-zA-Z]{2,12})-(\d{4})-(\d{2})(?:-(\d{2}))?\.zip(\.CHECKSUM)?$/;

/** The file a path names (with or without leading slash), and whether it is the CHECKSUM sidecar; undefined when no archive file can have this name. */
export function parseArchivePath(path: string): { file: ArchiveFile; checksum: boolean } | undefined {
  const m = PATH.exec(path);
  if (m === null) return undefined;
  const [, folder, period, kind, symbol, intervalFolder, fileSymbol, what, year, month, day, checksum] = m;
  const market = marketOfFolder(folder!)!;
  if (fileSymbol !== symbol || (period === 'daily') !== (day !== undefined)) return undefined;
  if (!archiveKinds(market, period as ArchivePeriod).includes(kind as ArchiveKind)) return undefined;
  let interval: Interval | undefined;
  if (hasInterval(kind as ArchiveKind)) {
    interval = archiveIntervals(market, period as ArchivePeriod).find((i) => archiveIntervalName(i) === intervalFolder);
    if (interval === undefined || what !== intervalFolder) return undefined;
  } else if (intervalFolder !== undefined || what !== kind) return undefined;
  const start = Date.UTC(Number(year), Number(month) - 1, day === undefined ? 1 : Number(day));
  const file: ArchiveFile = {
    market,
    period: period as ArchivePeriod,
    kind: kind as ArchiveKind,
    symbol: symbol!,
    ...(interval === undefined ? {} : { interval }),
    start,
  };
  // A date that does not exist (2023-02-30) rolls over: refuse it, the name would differ.
  if (`${archiveFileName(file)}` !== `${symbol}-${what}-${year}-${month}${day === undefined ? '' : `-${day}`}`)
    return undefined;
  return { file, checksum: checksum !== undefined };
}
