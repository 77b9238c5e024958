/**
 * A bulk backfill as pages: one page per archive file part of the range (a whole month, or
 * a day or part of one), or several for a large file (slices of its time, below), and REST
 * pages for the stretches no archive holds, numbered in time order so that the two kinds
 * share one page count and the workflow finishes when all are loaded. Which files exist, and
 * their sizes, come from the site's listing (`ArchiveInventory`). Pure.
 */
import { declareEnv, envInt } from '@streamforge/core/config';
import { pageBaseOf, restPageBounds, type PageBase } from '@streamforge/backfill';
import {
  intervalMs,
  PAGE_KIND_NAMES,
  type Interval,
  type PageKind,
  type StartCommand,
  type WorkPage,
} from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import {
  isIntervalArchiveKind,
  nextMonth,
  planArchiveRange,
  type ArchiveFileRef,
  type ArchiveInventory,
  type ArchivePlanPeriod,
} from '@streamforge/exchange/archive';
import { SERVICE } from './service.ts';

const DAY_MS = 86_400_000;

export interface BulkPlanInput {
  command: StartCommand;
  kind: Exclude<PageKind, 'klines'> | 'klines';
  interval: Interval | undefined;
  startMs: number;
  endMs: number;
  now: number;
  listed: ArchiveInventory;
  /** Above this zipped size a file is read as several pages; default `ARCHIVE_SLICE_BYTES`. */
  sliceBytes?: number;
}

export interface BulkPlan {
  pages: WorkPage[];
  /** Archive files: a file read as several pages counts once. */
  archives: number;
  /** Pages read from archive files: `archives` and the extra slices of large ones. */
  archivePages: number;
  restPages: number;
  /** The listed size of all the plan's archive files (of a large one, of the slices the range meets). */
  archiveBytes: number;
  /** Metrics only: stretches no archive file holds (REST is not read for them), `[start, end)`. */
  uncovered: Array<[number, number]>;
}

/** The archive's name of a data kind's files. */
export function archiveKindOf(kind: PageKind): ArchiveFileRef['kind'] {
  return PAGE_KIND_NAMES[kind].archive;
}

export function planBulk(input: BulkPlanInput): BulkPlan {
  const base: PageBase = pageBaseOf(input.command, input.kind, input.interval, SERVICE);
  const parts = planArchiveRange({
    market: base.market,
    kind: archiveKindOf(input.kind),
    ...(input.interval ? { interval: input.interval } : {}),
    start: input.startMs,
    end: input.endMs,
    now: input.now,
    listed: input.listed,
  });
  const bounds: Array<Pick<WorkPage, 'start_ms' | 'end_ms' | 'archive'>> = [];
  let archives = 0;
  let archiveBytes = 0;
  const uncovered: Array<[number, number]> = [];
  for (const part of parts) {
    if (part.source === 'rest' && input.kind === 'metrics') {
      uncovered.push([part.start, part.end]);
      continue;
    }
    if (part.source === 'archive') {
      archives += 1;
      const file = { kind: archiveKindOf(input.kind), interval: input.interval, ...part };
      // The slices' bytes: the file's size once for a whole file, however many pages read it.
      for (const slice of sliceArchivePart(file, part.start, part.end, input.sliceBytes)) {
        archiveBytes += slice.bytes;
        const { index, count, bytes } = slice;
        bounds.push({
          start_ms: slice.start,
          end_ms: slice.end,
          archive: {
            period: part.period,
            start: part.periodStart,
            ...(count > 1 ? { slice: { index, count, bytes } } : {}),
          },
        });
      }
    } else
      for (const [start_ms, end_ms] of restPageBounds(input.kind, input.interval, base.market, part.start, part.end))
        bounds.push({ start_ms, end_ms });
  }
  // A range with nothing in it still gets one (empty) page, so every service can report it done.
  if (bounds.length === 0) bounds.push({ start_ms: input.startMs, end_ms: Math.max(input.startMs + 1, input.endMs) });
  const archivePages = bounds.filter((b) => b.archive !== undefined).length;
  // Every page carries the plan's archive bytes, so any page's progress report can say "of how many".
  const plan = archives > 0 ? { archive_bytes: archiveBytes } : {};
  const pages = bounds.map((b, index) => ({ ...base, ...b, page: { index, count: bounds.length, ...plan } }));
  return { pages, archives, archivePages, restPages: pages.length - archivePages, archiveBytes, uncovered };
}

/**
 * Above this zipped size a file is read as several pages. A slice of 32 MiB of a busy day's
 * trades is some 200 MB of spool and a few minutes of one instance's publishing (download,
 * checksum, one read up to its end): within a delivery's timeout.
 */
export const ARCHIVE_SLICE_BYTES = 32 * 1024 * 1024;

/**
 * Slices of one file at most, whatever the threshold: each slice downloads the whole file, and
 * a threshold set in the wrong unit (32 for 32 MiB) must not plan millions of pages.
 */
export const MAX_SLICES_PER_FILE = 64;

declareEnv({
  ARCHIVE_SLICE_BYTES: {
    default: String(ARCHIVE_SLICE_BYTES),
    description:
      'loader-producer: above this zipped size (bytes) an archive file is read as several pages, slices of its time.',
  },
});

/** The environment's ARCHIVE_SLICE_BYTES (default `ARCHIVE_SLICE_BYTES`), read when a range is planned. */
export function archiveSliceBytesFromEnv(source: NodeJS.ProcessEnv = process.env): number {
  const value = envInt('ARCHIVE_SLICE_BYTES', source);
  if (value < 1)
    throw new StreamForgeError(
      'SF_CONFIG_INVALID',
      `environment variable ARCHIVE_SLICE_BYTES must be at least 1, got ${value}`,
    );
  return value;
}

/**
 * One page's share of an archive file: slice `index` of `count`, `[start, end)` of its time,
 * and `bytes`, its part of the file's size for progress (the slices of a whole file add up to
 * it). A zip cannot be read from a byte offset (the CSV is one deflate stream, the CHECKSUM's
 * SHA-256 covers the whole file), so every slice downloads and checks the whole file and
 * reads only its rows: slices share out the reading and publishing, not the download.
 */
export interface ArchiveSlice {
  index: number;
  count: number;
  start: number;
  end: number;
  bytes: number;
}

/** The file a slice is of: its series (for where cuts may fall), its period, its zip's size. */
export interface ArchiveSliceFile {
  kind: ArchiveFileRef['kind'];
  interval?: Interval | undefined;
  period: ArchivePlanPeriod;
  periodStart: number;
  /** The zip's size; a file of unknown size is read whole. */
  bytes?: number | undefined;
}

/**
 * What a cut is a multiple of, for the kinds whose rows are in time order within a file (so a
 * slice can stop reading at its end): a millisecond for trades, a candle for the intervals that
 * divide a day (so no candle is split). Other kinds' files are small: read whole.
 */
export function sliceUnitMs(kind: ArchiveFileRef['kind'], interval: Interval | undefined): number | undefined {
  if (kind === 'aggTrades' || kind === 'trades') return 1;
  if (!isIntervalArchiveKind(kind) || interval === undefined) return undefined;
  const candle = intervalMs(interval);
  return DAY_MS % candle === 0 ? candle : undefined;
}

/**
 * The file's time cut into `count` even slices on the file's own grid, not the range's, so
 * the slices of a file are the same whatever range meets it. `cuts[k]` is slice k's start,
 * the last cut the file's end; undefined for a file read whole.
 */
function sliceGrid(file: ArchiveSliceFile, sliceBytes: number): { cuts: number[]; bytes: number } | undefined {
  const unit = sliceUnitMs(file.kind, file.interval);
  const bytes = file.bytes;
  if (unit === undefined || bytes === undefined) return undefined;
  const from = file.periodStart;
  const to = file.period === 'monthly' ? nextMonth(from) : from + DAY_MS;
  // A slice holds at least one unit (a candle, a millisecond).
  const count = Math.min(Math.ceil(bytes / sliceBytes), (to - from) / unit, MAX_SLICES_PER_FILE);
  if (count <= 1) return undefined;
  const cuts = Array.from(
    { length: count + 1 },
    (_, k) => from + Math.floor(Math.floor((k * (to - from)) / count) / unit) * unit,
  );
  return { cuts, bytes };
}

/** Slice k's share of the file's bytes: the shares of all `count` slices add up to `bytes` exactly. */
const shareOf = (bytes: number, index: number, count: number): number =>
  Math.floor((bytes * (index + 1)) / count) - Math.floor((bytes * index) / count);

/**
 * The pages one archive part of a plan takes, in time order: one for a file up to `sliceBytes`
 * (or of unknown size), else those of the file's slices that meet `[start, end)`, cut to it.
 * A part that covers only some of a large file's slices counts only their bytes.
 */
export function sliceArchivePart(
  file: ArchiveSliceFile,
  start: number,
  end: number,
  sliceBytes = ARCHIVE_SLICE_BYTES,
): ArchiveSlice[] {
  const grid = sliceGrid(file, sliceBytes);
  if (grid === undefined) return [{ index: 0, count: 1, start, end, bytes: file.bytes ?? 0 }];
  const { cuts, bytes } = grid;
  const count = cuts.length - 1;
  const slices: ArchiveSlice[] = [];
  for (let index = 0; index < count; index++) {
    const from = Math.max(start, cuts[index]!);
    const to = Math.min(end, cuts[index + 1]!);
    if (from < to) slices.push({ index, count, start: from, end: to, bytes: shareOf(bytes, index, count) });
  }
  return slices;
}
