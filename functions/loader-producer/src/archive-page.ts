/**
 * One bulk page read from its archive file: downloaded and checked against the file's
 * CHECKSUM, its rows of the page's range read once and spooled (`publishSpooledRows`: each
 * line checked and the parts counted, then the parts published from the spool), and counted
 * done. Memory stays at one batch of rows or one send of events whatever the file's size,
 * and nothing of a page with a line that does not read is published. A page may be one slice
 * of a large file (plan-bulk.ts): it reads only up to its end, and counts its share of the
 * file's bytes.
 */
import { reportFinalFailure } from '@streamforge/core/bus';
import { PAGE_KIND_NAMES, type Interval, type WorkPage } from '@streamforge/core/contracts';
import { StreamForgeError, toStreamForgeError } from '@streamforge/core/errors';
import {
  createGate,
  finishPage,
  pageTelemetryBase,
  publishSpooledRows,
  workflowEnded,
  type PageOrigin,
  type ReadRows,
} from '@streamforge/backfill';
import {
  archiveFileName,
  archiveRowTime,
  isIntervalArchiveKind,
  type ArchiveFileRef,
  type VerifiedArchive,
} from '@streamforge/exchange/archive';
import type { BulkDeps } from './bulk-deps.ts';
import { archiveKindOf, sliceUnitMs } from './plan-bulk.ts';
import { SERVICE } from './service.ts';

const ORIGIN: PageOrigin = { service: SERVICE, source: 'archive' };

/** Archive pages at once per instance: each holds one send of events, and its file and spool on disk. */
const archivePages = createGate(2);

/** The archive file a bulk page names. */
export function archiveFileOf(page: WorkPage): ArchiveFileRef {
  if (page.archive === undefined)
    throw new StreamForgeError('SF_CONTRACT_INVALID', 'archive: a bulk page names its file');
  const { period, start } = page.archive;
  const kind = archiveKindOf(page.kind);
  if (isIntervalArchiveKind(kind))
    return { market: page.market, period, start, symbol: page.symbol, kind, interval: page.interval as Interval };
  return { market: page.market, period, start, symbol: page.symbol, kind };
}

/** Thrown out of a read to end it: what the reader's callback throws ends the read and passes unchanged. */
class PageEnd extends Error {}

/**
 * How far past a page's end its read goes on: rows are in time order within a file (ids and
 * open times grow), but a trade a few milliseconds out of order must not be lost to every page.
 */
export const READ_PAST_END_MS = 60_000;

/**
 * The page's rows of its file: a page may be part of its file (a range that starts or ends
 * inside the day or month, or a slice of a large file). The kinds a file may be sliced for
 * are in time order within it, so their read stops a little past the page's end.
 */
function rowsOfPage(archive: VerifiedArchive, page: WorkPage): ReadRows {
  const ordered = sliceUnitMs(archiveKindOf(page.kind), page.interval as Interval | undefined) !== undefined;
  const stopAt = page.end_ms + READ_PAST_END_MS;
  return async (onRows) => {
    try {
      // Lines before the page are skipped without being parsed (all kinds but metrics, whose
      // time is a date-time): a slice reads its file from the start.
      await archive.rows(
        async (rows) => {
          const inPage: unknown[] = [];
          let ended = false;
          for (const row of rows) {
            const time = archiveRowTime(row);
            if (time >= stopAt && ordered) {
              ended = true;
              break;
            }
            if (time >= page.start_ms && time < page.end_ms) inPage.push(row);
          }
          if (inPage.length > 0) await onRows(inPage);
          if (ended) throw new PageEnd();
        },
        { from: page.start_ms },
      );
    } catch (error) {
      if (!(error instanceof PageEnd)) throw error;
    }
  };
}

/** Publishes the page's rows of its file; answers what it held and its share of the file's bytes. */
async function publishArchive(
  deps: BulkDeps,
  page: WorkPage,
  file: ArchiveFileRef,
): Promise<{ detail: string; bytes: number }> {
  const download = await deps.archive.download(file);
  // The plan read this file from the site's listing: one it does not serve is a fault to retry, not a gap.
  if (!download.found)
    throw new StreamForgeError('SF_ARCHIVE_INVALID', `${download.path}: listed, but the site answers 404`, {
      details: { path: download.path },
    });
  try {
    // Each kind's files read as the REST rows of the same kind, so the format is the REST path's.
    const records = await publishSpooledRows(
      page,
      ORIGIN,
      PAGE_KIND_NAMES[page.kind].rowFormat,
      rowsOfPage(download, page),
      (events) => deps.producer.send(page.kafka_topic, events),
      { tempDir: deps.tempDir },
    );
    const slice = page.archive?.slice;
    const which = slice === undefined ? '' : ` (part ${slice.index + 1}/${slice.count})`;
    return {
      detail: `${archiveFileName(file)}${which}: ${records} records, ${download.bytes} bytes verified`,
      bytes: slice?.bytes ?? download.bytes,
    };
  } finally {
    await download.discard();
  }
}

/** A bulk page with an archive file: published from the file, counted done. */
export async function loadArchivePage(deps: BulkDeps, page: WorkPage): Promise<'loaded' | 'skipped'> {
  if (await workflowEnded(deps.store, page)) return 'skipped';
  const file = archiveFileOf(page);
  let published: { detail: string; bytes: number };
  try {
    published = await archivePages(() => publishArchive(deps, page, file));
  } catch (error) {
    const failure = toStreamForgeError(error);
    // A file that will not read ends the workflow with the reason; one to retry says so on the workflow's trail.
    if (failure.disposition === 'retry')
      await deps.telemetry.emit({
        ...pageTelemetryBase(page),
        status: 'loading',
        message: `${archiveFileName(file)}: ${failure.message}; retrying`,
        error: { code: failure.code, message: failure.message, retryable: true },
      });
    else await reportFinalFailure(deps.telemetry, pageTelemetryBase(page), error);
    throw error;
  }
  await finishPage(deps, page, published.detail, published.bytes);
  return 'loaded';
}
