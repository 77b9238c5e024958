/**
 * The rows of a verified archive zip (archive-client.ts checked its SHA-256 first): the one
 * CSV entry is found through the zip's central directory and inflated by Node's zlib as a
 * stream (yauzl), then parsed line by line (archive-rows.ts), so memory stays at a read
 * chunk, what it inflates to, and one batch of rows, whatever the size of the CSV. The zip
 * must hold exactly the one CSV named like it. Every failure here is SF_ARCHIVE_MALFORMED:
 * the bytes matched the CHECKSUM, so a new download gives the same ones.
 */
import type { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import yauzl from 'yauzl';
import { StreamForgeError } from '@streamforge/core/errors';
import { archiveFileName, type ArchiveFileRef } from './archive-paths.ts';
import { ArchiveLineError, ArchiveLineParser, type ArchiveRow } from './archive-rows.ts';

/** Hands the rows of the zip at `zipFile` to `onRows` in batches of at most `batchSize`, awaiting each; resolves with the row count. */
export async function readArchiveZip(
  file: ArchiveFileRef,
  path: string,
  zipFile: string,
  batchSize: number,
  onRows: (rows: ArchiveRow[]) => unknown,
  /** Lines whose time reads as before this (ms) are skipped unchecked: see `ArchiveLineParser.parse`. */
  skipBefore?: number,
): Promise<number> {
  const csvName = `${archiveFileName(file)}.csv`;
  const broken = (reason: string, details: Record<string, unknown> = {}, cause?: unknown): StreamForgeError =>
    new StreamForgeError('SF_ARCHIVE_MALFORMED', `${path}: ${reason}`, {
      ...(cause === undefined ? {} : { cause }),
      details: { path, ...details },
    });

  const parser = new ArchiveLineParser(file);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let partial = '';
  let lineNumber = 0;
  let rows = 0;
  let batch: ArchiveRow[] = [];
  const parseLine = (line: string): void => {
    lineNumber += 1;
    try {
      const row = parser.parse(line.endsWith('\r') ? line.slice(0, -1) : line, skipBefore);
      if (row !== undefined) batch.push(row);
    } catch (cause) {
      if (!(cause instanceof ArchiveLineError)) throw cause;
      throw broken(`line ${lineNumber}: ${cause.message}`, { line: lineNumber, text: line.slice(0, 200) }, cause);
    }
  };
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const full = batch;
    batch = [];
    rows += full.length;
    await onRows(full);
  };
  const consume = async (text: string): Promise<void> => {
    let from = 0;
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', from)) {
      const line = partial + text.slice(from, newline);
      partial = '';
      from = newline + 1;
      if (line === '') throw broken(`line ${lineNumber + 1}: an empty line`, { line: lineNumber + 1 });
      parseLine(line);
      if (batch.length >= batchSize) await flush();
    }
    partial += text.slice(from);
  };

  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(zipFile, { autoClose: false, strictFileNames: true });
  } catch (cause) {
    throw broken(`is not a zip: ${(cause as Error).message}`, {}, cause);
  }
  try {
    if (zip.entryCount === 0) throw broken('holds no file');
    if (zip.entryCount > 1) throw broken(`holds ${zip.entryCount} files, expected only ${csvName}`);
    let stream: Readable;
    try {
      const entry = await zip.eachEntry().next();
      if (entry.done === true) throw broken('holds no file');
      if (entry.value.fileName !== csvName)
        throw broken(`holds ${JSON.stringify(entry.value.fileName)}, expected only ${csvName}`);
      stream = await zip.openReadStreamPromise(entry.value);
    } catch (cause) {
      if (cause instanceof StreamForgeError) throw cause;
      throw broken(`entry ${csvName}: ${(cause as Error).message}`, {}, cause);
    }
    const chunks = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    try {
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          // yauzl checks the inflated size against the directory's: a short entry fails here.
          next = await chunks.next();
        } catch (cause) {
          throw broken(`does not inflate: ${(cause as Error).message}`, {}, cause);
        }
        if (next.done === true) break;
        // What `onRows` throws (a failed send, say) is the caller's, not the file's: it passes unchanged.
        await consume(decode(decoder, next.value, broken));
      }
    } finally {
      stream.destroy();
    }
    await consume(decode(decoder, undefined, broken));
    if (partial !== '') parseLine(partial); // a last line without newline
    await flush();
  } finally {
    zip.close();
  }
  return rows;
}

function decode(
  decoder: TextDecoder,
  bytes: Uint8Array | undefined,
  broken: (reason: string, details?: Record<string, unknown>, cause?: unknown) => StreamForgeError,
): string {
  try {
    return bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true });
  } catch (cause) {
    throw broken(`is not UTF-8 text: ${(cause as Error).message}`, {}, cause);
  }
}
