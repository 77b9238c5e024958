/**
 * The rows of a verified archive zip (archive-client.ts checked its SHA-256 first): inflated
 * chunk by chunk with fflate's streaming Unzip and parsed line by line (archive-rows.ts), so
 * memory stays at a read chunk, what it inflates to, and one batch of rows, whatever the size
 * of the CSV. The zip must hold exactly the one CSV named like it. Every failure here is
 * SF_ARCHIVE_MALFORMED: the bytes matched the CHECKSUM, so a new download gives the same ones.
 */
import { createReadStream } from 'node:fs';
import { TextDecoder } from 'node:util';
import { Unzip, UnzipInflate, type UnzipFile } from 'fflate';
import { StreamForgeError } from '@streamforge/core/errors';
import { archiveFileName, type ArchiveFileRef } from './archive-paths.ts';
import { ArchiveLineError, ArchiveLineParser, type ArchiveRow } from './archive-rows.ts';

const READ_CHUNK = 64 * 1024;

/** Hands the rows of the zip at `zipFile` to `onRows` in batches of at most `batchSize`, awaiting each; resolves with the row count. */
export async function readArchiveZip(
  file: ArchiveFileRef,
  path: string,
  zipFile: string,
  batchSize: number,
  onRows: (rows: ArchiveRow[]) => unknown,
): Promise<number> {
  const csvName = `${archiveFileName(file)}.csv`;
  const broken = (reason: string, details: Record<string, unknown> = {}, cause?: unknown): StreamForgeError =>
    new StreamForgeError('SF_ARCHIVE_MALFORMED', `${path}: ${reason}`, {
      ...(cause === undefined ? {} : { cause }),
      details: { path, ...details },
    });
  const inflated: Uint8Array[] = [];
  let entries = 0;
  let ended = false;
  let failure: StreamForgeError | undefined;
  const unzip = new Unzip((entry: UnzipFile) => {
    entries += 1;
    if (entries > 1 || entry.name !== csvName) {
      failure ??= broken(`holds ${JSON.stringify(entry.name)}, expected only ${csvName}`);
      return;
    }
    entry.ondata = (error, data, final) => {
      if (error !== null) failure ??= broken(`does not inflate: ${error.message}`, {}, error);
      else {
        if (data.length > 0) inflated.push(data);
        if (final) ended = true;
      }
    };
    try {
      entry.start();
    } catch (cause) {
      failure ??= broken(`entry ${csvName}: ${(cause as Error).message}`, {}, cause);
    }
  });
  unzip.register(UnzipInflate);

  const parser = new ArchiveLineParser(file);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let partial = '';
  let lineNumber = 0;
  let rows = 0;
  let batch: ArchiveRow[] = [];
  const parseLine = (line: string): void => {
    lineNumber += 1;
    try {
      const row = parser.parse(line.endsWith('\r') ? line.slice(0, -1) : line);
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

  const input = createReadStream(zipFile, { highWaterMark: READ_CHUNK });
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      try {
        unzip.push(chunk);
      } catch (cause) {
        failure ??= broken(`is not a zip: ${(cause as Error).message}`, {}, cause);
      }
      if (failure !== undefined) throw failure;
      // fflate hands inflated data over synchronously inside push: take it out, then parse.
      while (inflated.length > 0) await consume(decode(decoder, inflated.shift()!, broken));
    }
    try {
      unzip.push(new Uint8Array(0), true);
    } catch (cause) {
      failure ??= broken(`is not a zip: ${(cause as Error).message}`, {}, cause);
    }
    if (failure !== undefined) throw failure;
    while (inflated.length > 0) await consume(decode(decoder, inflated.shift()!, broken));
    if (entries === 0) throw broken('holds no file');
    if (!ended) throw broken(`${csvName} ends early`);
    await consume(decode(decoder, undefined, broken));
    if (partial !== '') parseLine(partial); // a last line without newline
    await flush();
  } finally {
    input.destroy();
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
