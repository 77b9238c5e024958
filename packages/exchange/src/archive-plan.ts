/**
 * Which source covers each part of a requested range: whole months from monthly archives,
 * whole or partial days from daily archives, and what no archive holds yet (the current day,
 * days before they are published, intervals without daily files) from REST. The parts cover
 * the range exactly, in order, without overlap, so the three paths converge on one
 * collection. Pure: given the files the site lists (`listed`, what `ArchiveClient.inventory`
 * answers), a month without its file is read from its days' files, and a day without one over
 * REST; without a listing, publication is judged from the clock and the publication lag.
 */
import type { Interval, Market } from '@streamforge/core/contracts';
import { isIntervalArchiveKind, type ArchiveFileRef } from './archive-paths.ts';

export const ARCHIVE_PLAN_PERIODS = ['monthly', 'daily'] as const;
export type ArchivePlanPeriod = (typeof ARCHIVE_PLAN_PERIODS)[number];

/**
 * The periods a bulk plan reads a kind from, hence lists: candles by month and by day; trades
 * by day only (a month of a busy symbol's trades is gigabytes, far more than one page may take
 * within a request's time, where a month of candles is a few megabytes); funding rates have
 * monthly files only, metrics daily files only.
 */
export function bulkPlanPeriods(kind: ArchiveFileRef['kind']): readonly ArchivePlanPeriod[] {
  if (isIntervalArchiveKind(kind)) return ARCHIVE_PLAN_PERIODS;
  return kind === 'fundingRate' ? ['monthly'] : ['daily'];
}

/** One part of the range: `[start, end)` in milliseconds, by record time (a candle's open time). */
export type PlannedPart =
  | {
      source: 'archive';
      period: ArchivePlanPeriod;
      periodStart: number;
      start: number;
      end: number;
      /** The zip's size as listed; unknown without a listing. */
      bytes?: number;
    }
  | { source: 'rest'; start: number; end: number };

export interface ArchivePlanRequest {
  market: Market;
  kind: ArchiveFileRef['kind'];
  /** Klines and the price series only. */
  interval?: Interval;
  start: number;
  end: number;
  now: number;
  /** How long after its period ends an archive is published, when no listing is given. Default one hour. */
  publishLagMs?: number;
  /** The first milliseconds of the series' monthly and daily files the site lists. */
  listed?: ArchiveInventory;
}

/** Which files of one series the archive site has: each zip's size in bytes by its first millisecond. */
export interface ArchiveInventory {
  monthly: ReadonlyMap<number, number>;
  daily: ReadonlyMap<number, number>;
}

const DAY_MS = 86_400_000;

/** Candles longer than a day have monthly files only, and so do funding rates. */
export function hasDailyArchives(kind: ArchivePlanRequest['kind'], interval?: Interval): boolean {
  if (kind === 'fundingRate') return false;
  return !isIntervalArchiveKind(kind) || interval === undefined || !['3d', '1w', '1M'].includes(interval);
}

export function monthStart(time: number): number {
  const d = new Date(time);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function nextMonth(monthStartMs: number): number {
  const d = new Date(monthStartMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

const dayStart = (time: number): number => Math.floor(time / DAY_MS) * DAY_MS;

export function planArchiveRange(request: ArchivePlanRequest): PlannedPart[] {
  const { start, end, now } = request;
  if (!(start < end)) return [];
  const lag = request.publishLagMs ?? 3_600_000;
  const published = (periodEnd: number): boolean => periodEnd + lag <= now;
  const listed = request.listed;
  const has = (period: ArchivePlanPeriod, periodStart: number, periodEnd: number): boolean =>
    listed === undefined ? published(periodEnd) : listed[period].has(periodStart) && periodEnd <= now;
  const bytes = (period: ArchivePlanPeriod, periodStart: number): { bytes?: number } => {
    const size = listed?.[period].get(periodStart);
    return size === undefined ? {} : { bytes: size };
  };
  const daily = hasDailyArchives(request.kind, request.interval);
  // Metrics have daily files only.
  const monthly = request.kind !== 'metrics';
  const parts: PlannedPart[] = [];
  const push = (part: PlannedPart): void => {
    const last = parts.at(-1);
    // Adjacent REST parts are one range: the caller pages it as it pages any REST range.
    if (part.source === 'rest' && last?.source === 'rest' && last.end === part.start) last.end = part.end;
    else parts.push(part);
  };
  let at = start;
  while (at < end) {
    const month = monthStart(at);
    const monthEnd = nextMonth(month);
    // A whole published month inside the range: one monthly file.
    if (monthly && at === month && monthEnd <= end && has('monthly', month, monthEnd)) {
      push({
        source: 'archive',
        period: 'monthly',
        periodStart: month,
        start: at,
        end: monthEnd,
        ...bytes('monthly', month),
      });
      at = monthEnd;
      continue;
    }
    const day = dayStart(at);
    const dayEnd = day + DAY_MS;
    const until = Math.min(dayEnd, end);
    if (daily && has('daily', day, dayEnd)) {
      push({ source: 'archive', period: 'daily', periodStart: day, start: at, end: until, ...bytes('daily', day) });
    } else if (!daily && has('monthly', month, monthEnd)) {
      // Only monthly files exist for this interval: a published month, read for its part of the range.
      const to = Math.min(monthEnd, end);
      push({
        source: 'archive',
        period: 'monthly',
        periodStart: month,
        start: at,
        end: to,
        ...bytes('monthly', month),
      });
      at = to;
      continue;
    } else {
      push({ source: 'rest', start: at, end: until });
    }
    at = until;
  }
  return parts;
}
