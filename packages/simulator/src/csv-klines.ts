/**
 * Real klines from data.binance.vision CSV files (docs/binance.md) for the exchange
 * simulator. Files are named `SYMBOL-INTERVAL-….csv` (`1mo` for the month interval), with or
 * without a header row, anywhere below one folder; a `spot/` folder on the path makes them
 * spot data, `usdm/` (or `um/`, as on data.binance.vision) USD-M, `cm/`/`coinm/` are skipped,
 * others serve both markets. Cells are served exactly as written (the JSON strings are the
 * CSV cells), so a backfill can be compared byte for byte; microsecond timestamps (spot files
 * from 2025 on) become milliseconds, as the REST API answers by default; a row missing from a
 * file is a candle the exchange never produced and stays missing.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { StreamForgeError } from '@streamforge/core/errors';
import { isInterval, type Interval } from '@streamforge/core/contracts';
import type { Market } from '@streamforge/core/contracts';

export interface KlineCsvFile {
  path: string;
  /** The market the folder names, or `any`. */
  market: Market | 'any';
  symbol: string;
  interval: Interval;
}

const FILE_NAME = /^([A-Z0-9._-]{1,20}?)-(1s|1m|3m|5m|15m|30m|1h|2h|4h|6h|8h|12h|1d|3d|1w|1mo|1M)-.*\.csv$/;
const MARKET_FOLDERS: Record<string, Market | 'skip'> = {
  spot: 'spot',
  usdm: 'usdm',
  um: 'usdm',
  cm: 'skip',
  coinm: 'skip',
};
const STRING_COLUMNS = [1, 2, 3, 4, 5, 7, 9, 10, 11] as const;

function marketOf(relativePath: string): Market | 'any' | 'skip' {
  const folders = relativePath.split(sep).slice(0, -1).reverse();
  for (const folder of folders) {
    const market = MARKET_FOLDERS[folder.toLowerCase()];
    if (market !== undefined) return market;
  }
  return 'any';
}

/** The kline CSV files below `dir`, by name and folder. */
export async function findKlineCsvFiles(dir: string): Promise<KlineCsvFile[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files: KlineCsvFile[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const match = FILE_NAME.exec(entry.name);
    if (match === null) continue;
    const path = join(entry.parentPath, entry.name);
    const market = marketOf(relative(dir, path));
    const interval = match[2] === '1mo' ? '1M' : match[2]!;
    if (market === 'skip' || !isInterval(interval)) continue;
    files.push({ path, market, symbol: match[1]!, interval });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

function integerCell(cell: string, file: string, line: number, column: string): number {
  if (!/^\d{1,20}$/.test(cell))
    throw new StreamForgeError('SF_CONFIG_INVALID', `${file}:${line}: ${column} "${cell}" is not an integer`);
  return Number(cell);
}

/** Binance spot files from 2025-01-01 on write times in microseconds. */
function toMs(time: number): number {
  return time >= 1e14 ? Math.floor(time / 1000) : time;
}

/** The candles of one series: open times sorted ascending, and each candle's JSON as served. */
export class CsvKlines {
  readonly openTimes: Float64Array;
  readonly rows: readonly string[];

  constructor(openTimes: Float64Array, rows: readonly string[]) {
    this.openTimes = openTimes;
    this.rows = rows;
  }

  get size(): number {
    return this.rows.length;
  }

  /** Index of the first open time ≥ t. */
  #lowerBound(t: number): number {
    let lo = 0;
    let hi = this.openTimes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.openTimes[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** JSON of the candles with open time in [lo, hi], at most `limit`: the first ones, or the last ones when `fromEnd`. */
  page(lo: number, hi: number, limit: number, fromEnd: boolean): string[] {
    const first = this.#lowerBound(lo);
    const end = this.#lowerBound(hi + 1); // exclusive
    if (end <= first || limit <= 0) return [];
    return fromEnd
      ? this.rows.slice(Math.max(first, end - limit), end)
      : this.rows.slice(first, Math.min(end, first + limit));
  }
}

/** Reads and merges the files of one series (later files win on a repeated open time). */
export async function loadKlineCsv(paths: readonly string[]): Promise<CsvKlines> {
  const byOpen = new Map<number, string>();
  for (const path of paths) {
    const text = await readFile(path, 'utf8');
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
      if (line === '' || !/^\d/.test(line)) continue; // blank line or header row
      const cells = line.split(',');
      if (cells.length < 12)
        throw new StreamForgeError(
          'SF_CONFIG_INVALID',
          `${path}:${i + 1}: a kline row has 12 columns, found ${cells.length}`,
        );
      const openTime = toMs(integerCell(cells[0]!, path, i + 1, 'open_time'));
      const closeTime = toMs(integerCell(cells[6]!, path, i + 1, 'close_time'));
      const trades = integerCell(cells[8]!, path, i + 1, 'count');
      const strings = STRING_COLUMNS.map((c) => JSON.stringify(cells[c]!));
      byOpen.set(
        openTime,
        `[${openTime},${strings.slice(0, 5).join(',')},${closeTime},${strings[5]},${trades},${strings.slice(6).join(',')}]`,
      );
    }
  }
  const openTimes = Float64Array.from([...byOpen.keys()].sort((a, b) => a - b));
  return new CsvKlines(
    openTimes,
    Array.from(openTimes, (t) => byOpen.get(t)!),
  );
}
