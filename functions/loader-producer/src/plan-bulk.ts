/**
 * A bulk backfill as pages: one page per archive file part of the range (a whole month, or
 * a day or part of one) and REST pages for the stretches no archive holds, numbered in time
 * order so that the two kinds share one page count and the workflow finishes when all are
 * loaded. Which files exist comes from the site's listing (`ArchiveInventory`). Pure.
 */
import { pageBaseOf, restPageBounds, type PageBase } from '@streamforge/backfill';
import {
  PAGE_KIND_NAMES,
  type Interval,
  type PageKind,
  type StartCommand,
  type WorkPage,
} from '@streamforge/core/contracts';
import { planArchiveRange, type ArchiveFileRef, type ArchiveInventory } from '@streamforge/exchange/archive';
import { SERVICE } from './service.ts';

export interface BulkPlanInput {
  command: StartCommand;
  kind: Exclude<PageKind, 'klines'> | 'klines';
  interval: Interval | undefined;
  startMs: number;
  endMs: number;
  now: number;
  listed: ArchiveInventory;
}

export interface BulkPlan {
  pages: WorkPage[];
  archives: number;
  restPages: number;
  /** The listed size of all the plan's archive files. */
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
  let archiveBytes = 0;
  const uncovered: Array<[number, number]> = [];
  for (const part of parts) {
    if (part.source === 'rest' && input.kind === 'metrics') {
      uncovered.push([part.start, part.end]);
      continue;
    }
    if (part.source === 'archive') {
      archiveBytes += part.bytes ?? 0;
      bounds.push({
        start_ms: part.start,
        end_ms: part.end,
        archive: { period: part.period, start: part.periodStart },
      });
    } else
      for (const [start_ms, end_ms] of restPageBounds(input.kind, input.interval, base.market, part.start, part.end))
        bounds.push({ start_ms, end_ms });
  }
  // A range with nothing in it still gets one (empty) page, so every service can report it done.
  if (bounds.length === 0) bounds.push({ start_ms: input.startMs, end_ms: Math.max(input.startMs + 1, input.endMs) });
  const archives = bounds.filter((b) => b.archive !== undefined).length;
  // Every page carries the plan's archive bytes, so any page's progress report can say "of how many".
  const plan = archives > 0 ? { archive_bytes: archiveBytes } : {};
  const pages = bounds.map((b, index) => ({ ...base, ...b, page: { index, count: bounds.length, ...plan } }));
  return { pages, archives, restPages: pages.length - archives, archiveBytes, uncovered };
}
