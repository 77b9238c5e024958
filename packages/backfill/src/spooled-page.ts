/**
 * A REST page of trades published without holding it in memory. An hour of a busy symbol is
 * hundreds of thousands of trades (100 MB and more decoded), past what an instance may hold,
 * and every part's event names how many parts its page has, which is known only once the
 * exchange's last answer is in. So each answer (at most 1000 trades) is written to a file as
 * JSON lines the moment it comes and its parts are counted; then the file is read back, cut
 * the same way and published a few parts per send. Memory stays at one answer or one send,
 * whatever the hour holds; the file takes about 110 bytes a trade on disk. Nothing is sent
 * before the last answer is in, so a page that fails while fetching publishes nothing.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { RowFormat, WorkPage } from '@streamforge/core/contracts';
import { rowBytesOf, type PageOrigin } from './data-events.ts';
import { PartCutter } from './page-parts.ts';
import { PartSender, type SendEvents } from './part-sender.ts';

export interface SpoolOptions {
  /** Where the page's file is written; the OS's temporary folder by default. */
  tempDir?: string;
}

/**
 * Publishes the rows `batches` yields as the page's data events, spooled through a file;
 * answers how many rows the page held. The folder is removed whether the page loads or fails.
 */
export async function publishSpooledRows(
  page: WorkPage,
  origin: PageOrigin,
  format: RowFormat,
  batches: AsyncIterable<readonly unknown[]>,
  send: SendEvents,
  { tempDir = tmpdir() }: SpoolOptions = {},
): Promise<number> {
  const folder = await mkdtemp(join(tempDir, 'streamforge-rest-page-'));
  try {
    const file = join(folder, 'rows.jsonl');
    const maxBytes = rowBytesOf(page, origin, format);
    // Counting needs the cut, not the parts' text: the measuring cutter keeps none.
    const measure = new PartCutter(maxBytes, undefined, { measureOnly: true });
    let rows = 0;
    let parts = 0;
    const spool = await open(file, 'w');
    try {
      for await (const batch of batches) {
        let lines = '';
        for (const row of batch) {
          const text = JSON.stringify(row);
          if (measure.add(text) !== undefined) parts += 1;
          lines += `${text}\n`;
        }
        rows += batch.length;
        await spool.write(lines);
      }
    } finally {
      await spool.close();
    }
    // The last, open part; a page with no rows is one empty part, so it is still counted done.
    parts += 1;

    const sender = new PartSender(page, origin, format, parts, send);
    const cutter = new PartCutter(maxBytes);
    // JSON.stringify escapes every newline inside a value, so a line is exactly one row.
    for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      const closed = cutter.add(line);
      if (closed !== undefined) await sender.add(closed);
    }
    await sender.add(cutter.finish() ?? { rowsJson: '[]', count: 0 });
    await sender.finish();
    return rows;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
