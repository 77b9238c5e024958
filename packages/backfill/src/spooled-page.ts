/**
 * A page published without holding its rows in memory: a REST hour of a busy symbol's trades
 * (hundreds of thousands, 100 MB and more decoded) or an archive file's share of a page
 * (millions of rows). Every part's event names how many parts its page has, which is known
 * only once the last row is read; so the rows are written to a file as JSON lines the moment
 * they come and their parts are counted, then the file is read back, cut the same way and
 * published a few parts per send. Memory stays at one batch of rows or one send, whatever
 * the page holds; the file takes about 110 bytes a trade on disk. Nothing is sent before the
 * last row is read, so a page whose read fails (an exchange gone, a malformed line) publishes
 * nothing. Reading the JSON lines back costs a fifth of reading an archive file a second time
 * (inflating and parsing its CSV again).
 */
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { RowFormat, WorkPage } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import { rowBytesOf, type PageOrigin } from './data-events.ts';
import { PartCutter } from './page-parts.ts';
import { PartSender, type SendEvents } from './part-sender.ts';

export interface SpoolOptions {
  /** Where the page's file is written; the OS's temporary folder by default. */
  tempDir?: string | undefined;
}

/** Hands the page's rows to `onRows` in batches, awaiting each, in the order they are to be published. */
export type ReadRows = (onRows: (rows: readonly unknown[]) => Promise<void>) => Promise<unknown>;

/** A read of the batches an async iterable yields (an exchange's answers). */
export function readBatches(batches: AsyncIterable<readonly unknown[]>): ReadRows {
  return async (onRows) => {
    for await (const batch of batches) await onRows(batch);
  };
}

/**
 * Publishes the rows `read` hands over as the page's data events, spooled through a file;
 * answers how many rows the page held. The folder is removed whether the page loads or fails.
 */
export async function publishSpooledRows(
  page: WorkPage,
  origin: PageOrigin,
  format: RowFormat,
  read: ReadRows,
  send: SendEvents,
  { tempDir = tmpdir() }: SpoolOptions = {},
): Promise<number> {
  const folder = await mkdtemp(join(tempDir, 'streamforge-page-spool-'));
  try {
    const file = join(folder, 'rows.jsonl');
    const maxBytes = rowBytesOf(page, origin, format);
    const { rows, parts } = await spoolRows(file, maxBytes, read);
    const sender = new PartSender(page, origin, format, parts, send);
    const cutter = new PartCutter(maxBytes);
    const input = createReadStream(file);
    try {
      // JSON.stringify escapes every newline inside a value, so a line is exactly one row.
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        const closed = cutter.add(line);
        if (closed !== undefined) await sender.add(closed);
      }
    } finally {
      // A loop left early (a failed send) only pauses readline's input: open, the removed file would
      // keep its disk space. Closing is asynchronous, so the page ends once the descriptor is closed.
      if (!input.closed) await once(input.destroy(), 'close');
    }
    await sender.add(cutter.finish() ?? { rowsJson: '[]', count: 0 });
    await sender.finish();
    return rows;
  } catch (error) {
    throw spoolFailure(error, tempDir);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** Writes every row `read` hands over to `file`, one JSON line each; answers the rows and the parts they make. */
async function spoolRows(file: string, maxBytes: number, read: ReadRows): Promise<{ rows: number; parts: number }> {
  // Counting needs the cut, not the parts' text: the measuring cutter keeps none.
  const measure = new PartCutter(maxBytes, undefined, { measureOnly: true });
  let rows = 0;
  let parts = 0;
  const spool = await open(file, 'w');
  try {
    await read(async (batch) => {
      let lines = '';
      for (const row of batch) {
        const text = JSON.stringify(row);
        if (measure.add(text) !== undefined) parts += 1;
        lines += `${text}\n`;
      }
      rows += batch.length;
      await writeAll(spool, lines);
    });
  } finally {
    await spool.close();
  }
  // The last, open part; a page with no rows is one empty part, so it is still counted done.
  return { rows, parts: parts + 1 };
}

/** One write call may take less than it is given (a nearly full disk): a line cut short would be a row lost. */
async function writeAll(handle: FileHandle, text: string): Promise<void> {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, at);
    if (bytesWritten === 0) throw Object.assign(new Error('the spool took no more bytes'), { code: 'ENOSPC' });
    at += bytesWritten;
  }
}

/** Errors of the instance's temporary folder, where another instance (or a later try) may have room. */
const FOLDER_FAILURES = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

function spoolFailure(error: unknown, tempDir: string): unknown {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string' || !FOLDER_FAILURES.has(code)) return error;
  return new StreamForgeError(
    'SF_DEPENDENCY_UNAVAILABLE',
    `a page's spool in ${tempDir} could not be written (${code}: the temporary folder is full or read-only)`,
    { cause: error },
  );
}
