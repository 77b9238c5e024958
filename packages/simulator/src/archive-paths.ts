/**
 * Names on the simulator's stand-in for Binance's public archive (docs/binance.md, public data
 * files): `data/<market folder>/<daily|monthly>/<klines|aggTrades|trades>/SYMBOL[/INTERVAL]/<file>.zip`
 * and its `.CHECKSUM` sidecar. Spot lives under `spot`, USD-M under `futures/um`, COIN-M under `futures/cm`; the month
 * interval is written `1mo` (REST says `1M`); daily kline files exist for intervals up to `1d`.
 */
import { marketIntervals, type Interval, type Market } from '@streamforge/core/contracts';

export const ARCHIVE_PERIODS = ['daily', 'monthly'] as const;
export type ArchivePeriod = (typeof ARCHIVE_PERIODS)[number];
export const ARCHIVE_KINDS = ['aggTrades', 'klines', 'trades'] as const;
export type ArchiveKind = (typeof ARCHIVE_KINDS)[number];

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
  /** Klines only. */
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
  const what = file.kind === 'klines' ? archiveIntervalName(file.interval!) : file.kind;
  return `${file.symbol}-${what}-${dateName(file.period, file.start)}`;
}

/** The folder of a series, without leading slash, ending with `/`. */
export function archiveFolder(file: Omit<ArchiveFile, 'start'>): string {
  const base = `data/${ARCHIVE_MARKET_FOLDERS[file.market]}/${file.period}/${file.kind}/${file.symbol}/`;
  return file.kind === 'klines' ? `${base}${archiveIntervalName(file.interval!)}/` : base;
}

/** The key of a file's zip, without leading slash (`data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2023-03-05.zip`). */
export function archivePath(file: ArchiveFile): string {
  return `${archiveFolder(file)}${archiveFileName(file)}.zip`;
}

const PATH =
  /^\/?data\/(spot|futures\/um|futures\/cm)\/(daily|monthly)\/(klines|aggTrades|trades)\/([A-Z0-9._-]{1,30})\/(?:([0-9a-z]{2,3})\/)?([A-Z0-9._-]{1,30})-([0-9a-zA-Z]{2,9})-(\d{4})-(\d{2})(?:-(\d{2}))?\.zip(\.CHECKSUM)?$/;

/** The file a path names (with or without leading slash), and whether it is the CHECKSUM sidecar; undefined when no archive file can have this name. */
export function parseArchivePath(path: string): { file: ArchiveFile; checksum: boolean } | undefined {
  const m = PATH.exec(path);
  if (m === null) return undefined;
  const [, folder, period, kind, symbol, intervalFolder, fileSymbol, what, year, month, day, checksum] = m;
  const market = marketOfFolder(folder!)!;
  if (fileSymbol !== symbol || (period === 'daily') !== (day !== undefined)) return undefined;
  let interval: Interval | undefined;
  if (kind === 'klines') {
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
