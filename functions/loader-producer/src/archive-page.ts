/**
 * One bulk page read from its archive file: downloaded and checked against the file's
 * CHECKSUM, then read twice from disk — once to check every line and count the parts the
 * page's rows make, once to publish those parts — and counted done. Reading twice keeps
 * memory at one batch of events whatever the file's size, tells the connector how many
 * parts to expect, and publishes nothing of a file with a line that does not read.
 */
import { reportFinalFailure, type EventInput } from '@streamforge/core/bus';
import { PAGE_KIND_NAMES, type DataBatch, type Interval, type WorkPage } from '@streamforge/core/contracts';
import { StreamForgeError, toStreamForgeError } from '@streamforge/core/errors';
import {
  createGate,
  dataEventOf,
  finishPage,
  PartCutter,
  pageTelemetryBase,
  rowBytesOf,
  workflowEnded,
  type PageOrigin,
  type PagePart,
} from '@streamforge/backfill';
import {
  archiveFileName,
  archiveRowTime,
  isIntervalArchiveKind,
  type ArchiveFileRef,
  type VerifiedArchive,
} from '@streamforge/exchange/archive';
import type { BulkDeps } from './bulk-deps.ts';
import { archiveKindOf } from './plan-bulk.ts';
import { SERVICE } from './service.ts';

const ORIGIN: PageOrigin = { service: SERVICE, source: 'archive' };

/** Parts sent to Kafka at once: at most 4 × 800 kB of events held. */
const PARTS_PER_SEND = 4;
/** Archive pages at once per instance: each holds one send of events, and its file on disk. */
const archivePages = createGate(2);
/** An upper bound of a page's parts, for the envelope's size: the rows' budget must not depend on the count it yields. */
const MOST_PARTS = 999_999_999;

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

const timeOf = archiveRowTime;

/**
 * The page's rows of the file, cut into parts, each handed to `onPart` (awaited). The cut
 * depends on the rows alone, so two reads give the same parts; a page with no rows is one
 * empty part, so it is still counted done.
 */
async function forEachPart(
  archive: VerifiedArchive,
  page: WorkPage,
  maxBytes: number,
  onPart: (part: PagePart) => unknown,
  { measureOnly = false } = {},
): Promise<number> {
  // Counting needs the cut, not the parts' text: no part is built only to be dropped.
  const cutter = new PartCutter(maxBytes, undefined, { measureOnly });
  let parts = 0;
  await archive.rows(async (rows) => {
    for (const row of rows) {
      // A page may be part of its file: a range that starts or ends inside the day or month.
      const time = timeOf(row);
      if (time < page.start_ms || time >= page.end_ms) continue;
      const closed = cutter.add(JSON.stringify(row));
      if (closed === undefined) continue;
      parts += 1;
      await onPart(closed);
    }
  });
  const last = cutter.finish() ?? (parts === 0 ? { rowsJson: '[]', count: 0 } : undefined);
  if (last !== undefined) {
    parts += 1;
    await onPart(last);
  }
  return parts;
}

/** Publishes the page's rows of its file; answers what it held and the bytes it read. */
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
    const format = PAGE_KIND_NAMES[page.kind].rowFormat;
    const maxBytes = rowBytesOf(page, ORIGIN, format, MOST_PARTS);
    let records = 0;
    const parts = await forEachPart(
      download,
      page,
      maxBytes,
      (part) => {
        records += part.count;
      },
      { measureOnly: true },
    );
    let next = 0;
    let pending: Array<EventInput<DataBatch>> = [];
    const send = async (): Promise<void> => {
      const events = pending;
      pending = [];
      if (events.length > 0) await deps.producer.send(page.kafka_topic, events);
    };
    await forEachPart(download, page, maxBytes, async (part) => {
      pending.push(dataEventOf(page, ORIGIN, format, part, next, parts));
      next += 1;
      if (pending.length >= PARTS_PER_SEND) await send();
    });
    await send();
    return {
      detail: `${archiveFileName(file)}: ${records} records, ${download.bytes} bytes verified`,
      bytes: download.bytes,
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
