/**
 * Client of Binance's public archive site, data.binance.vision (docs/binance.md, public data
 * files): folder listings, and one day's or month's klines, aggTrades or trades read as the rows
 * the REST API answers for the same range (archive-rows.ts).
 *
 * A read downloads the zip to a temporary file while hashing it, and checks the SHA-256
 * against the `.CHECKSUM` sidecar, the only integrity check the site offers; only a verified
 * file is unzipped, streamed (archive-zip-reader.ts), so neither the zip nor its CSV is ever
 * held whole in memory.
 * Failures carry the code whose disposition fits: a download that does not verify (hash,
 * short body, cut connection) is SF_ARCHIVE_INVALID and retried by whoever called; a verified
 * file that does not read is SF_ARCHIVE_MALFORMED and dead-lettered, since every download
 * gives the same bytes; a file the site does not have (yet) is `{ found: false }`, for the
 * caller to read the range over REST instead. The client does not retry itself.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Agent } from 'undici';
import { declareEnv, env } from '@streamforge/core/config';
import type { AggTrade, KlineRow, RawTrade } from '@streamforge/core/contracts';
import { StreamForgeError } from '@streamforge/core/errors';
import type { Logger } from '@streamforge/core/telemetry';
import { parseListing, type ArchiveListEntry } from './archive-listing.ts';
import type { ArchiveInventory } from './archive-plan.ts';
import {
  archiveFileName,
  archiveFileProblem,
  archiveFileStart,
  archivePeriodStart as periodStartOf,
  archiveSeriesFolder,
  archiveZipPath,
  seriesHasPeriod,
  type ArchiveFilePeriod,
  type ArchiveSeries,
  type AggTradeArchiveFile,
  type TradeArchiveFile,
  type ArchiveFileRef,
  type KlineArchiveFile,
} from './archive-paths.ts';
import type { ArchiveRow } from './archive-rows.ts';
import { readArchiveZip } from './archive-zip-reader.ts';

declareEnv({
  ARCHIVE_BASE_URL: {
    default: 'https://data.binance.vision',
    description:
      "Base URL of Binance's public archive of klines and trades (the exchange simulator in tests and demos).",
  },
  ARCHIVE_LISTING_URL: {
    default: '',
    description:
      "Where the archive's folders are listed (S3 ListObjects). Empty: the S3 bucket behind data.binance.vision when ARCHIVE_BASE_URL is that site (which serves files, not listings), else ARCHIVE_BASE_URL itself.",
  },
});

/** The public archive serves files; its folders are listed by the S3 bucket behind it. */
const PUBLIC_SITE = 'https://data.binance.vision';
const PUBLIC_LISTING = 'https://s3-ap-northeast-1.amazonaws.com/data.binance.vision';

export interface ArchiveClientOptions {
  /** Default ARCHIVE_BASE_URL, i.e. data.binance.vision. */
  baseUrl?: string;
  /** Default ARCHIVE_LISTING_URL (see there). */
  listingUrl?: string;
  /** Keys per listing page (S3 `max-keys`); default the site's own (1000). */
  listPageSize?: number;
  /** Most rows handed to `onRows` at once. Default 1000. */
  batchSize?: number;
  /** Waiting for headers, and for each next chunk of a body (not the whole download: a slow link is fine). Default 30 s. */
  timeoutMs?: number;
  /** Where downloads are kept until read. Default the system's temporary folder. */
  tempDir?: string;
  logger?: Logger;
  /** Where ARCHIVE_BASE_URL is read from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface ArchiveListing {
  files: ArchiveListEntry[];
  folders: string[];
}

export type ArchiveReadResult =
  | { found: false; path: string }
  | { found: true; path: string; rows: number; bytes: number; sha256: string };

/** A downloaded archive file that matched its CHECKSUM, on disk until discarded. */
export interface VerifiedArchive {
  found: true;
  path: string;
  bytes: number;
  sha256: string;
  /**
   * Reads the file's rows into `onRows` batches (awaited each); resolves with the row count. Any
   * number of times. With `from` (ms), lines whose time is before it are skipped without being
   * checked, as a reader of part of the file does not answer for the rest.
   */
  rows(onRows: (rows: ArchiveRow[]) => unknown, options?: { from?: number }): Promise<number>;
  /** Removes the downloaded file. */
  discard(): Promise<void>;
}

export class ArchiveClient {
  readonly baseUrl: string;
  readonly listingUrl: string;
  readonly #batchSize: number;
  readonly #listPageSize: number | undefined;
  readonly #tempDir: string;
  readonly #logger: Logger | undefined;
  readonly #agent: Agent;
  readonly #closing = new AbortController();

  constructor(options: ArchiveClientOptions = {}) {
    const source = options.env ?? process.env;
    this.baseUrl = (options.baseUrl ?? env('ARCHIVE_BASE_URL', source)).replace(/\/+$/, '');
    const listing = options.listingUrl ?? env('ARCHIVE_LISTING_URL', source);
    this.listingUrl = (listing || (this.baseUrl === PUBLIC_SITE ? PUBLIC_LISTING : this.baseUrl)).replace(/\/+$/, '');
    this.#batchSize = Math.max(1, options.batchSize ?? 1000);
    this.#listPageSize = options.listPageSize;
    this.#tempDir = options.tempDir ?? tmpdir();
    this.#logger = options.logger;
    const timeout = options.timeoutMs ?? 30_000;
    this.#agent = new Agent({
      connections: 8,
      keepAliveTimeout: 30_000,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
  }

  /**
   * Every file and sub-folder directly below a folder key (`data/spot/daily/klines/BTCUSDT/1m/`),
   * following `marker` pages; with `after`, only keys sorting after it, and with `until`, no
   * page is asked for once a key sorting at or after it was seen (keys come sorted).
   */
  async list(
    prefix: string,
    bounds: { after?: string; until?: string; pageSize?: number } = {},
  ): Promise<ArchiveListing> {
    const listing: ArchiveListing = { files: [], folders: [] };
    let marker = bounds.after ?? '';
    for (let page = 1; ; page++) {
      let query = `prefix=${encodeURIComponent(prefix)}&delimiter=%2F`;
      if (marker !== '') query += `&marker=${encodeURIComponent(marker)}`;
      const pageSize = this.#listPageSize ?? bounds.pageSize;
      if (pageSize !== undefined) query += `&max-keys=${pageSize}`;
      const { status, text } = await this.#getText(`${this.listingUrl}/?${query}`);
      if (status !== 200)
        throw new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', `archive listing of ${prefix}: HTTP ${status}`, {
          details: { prefix, status },
        });
      let parsed: ReturnType<typeof parseListing>;
      try {
        parsed = parseListing(text);
      } catch (cause) {
        // A cut body or a proxy's page, not the bucket's answer: asking again may get it.
        throw new StreamForgeError(
          'SF_ARCHIVE_INVALID',
          `archive listing of ${prefix}, page ${page}: ${(cause as Error).message}`,
          { cause, details: { prefix, marker } },
        );
      }
      listing.files.push(...parsed.files);
      listing.folders.push(...parsed.folders);
      if (!parsed.truncated) return listing;
      const last = parsed.files.at(-1)?.key ?? '';
      if (bounds.until !== undefined && last >= bounds.until) return listing;
      if (parsed.nextMarker! <= marker)
        throw new StreamForgeError('SF_ARCHIVE_INVALID', `archive listing of ${prefix}: marker does not advance`, {
          details: { prefix, marker },
        });
      marker = parsed.nextMarker!;
    }
  }

  /**
   * Which monthly and daily files of one series the site has for a time range (a folder
   * listing per period asked for; intervals with monthly files only have no daily folder):
   * what `planArchiveRange` takes as `listed`. Files outside the range may be named too.
   */
  async inventory(
    series: ArchiveSeries,
    range: { start: number; end: number },
    periods: readonly ArchiveFilePeriod[] = ['monthly', 'daily'],
    /** Files the site changed after this time (ms) are left out, so a plan made again later names the same files. */
    publishedBy = Number.POSITIVE_INFINITY,
  ): Promise<ArchiveInventory> {
    const starts = async (period: ArchiveFilePeriod): Promise<Map<number, number>> => {
      const found = new Map<number, number>();
      if (!periods.includes(period) || !seriesHasPeriod(series, period)) return found;
      const folder = archiveSeriesFolder({ ...series, period } as ArchiveFileRef);
      // Only the files of the range's days or months: a series of years has thousands of daily files.
      const keyOf = (time: number): string =>
        `${folder}${archiveFileName({ ...series, period, start: periodStartOf(period, time) } as ArchiveFileRef)}`;
      // A zip and its CHECKSUM per day or month of the range, and the first key past it: one page, mostly.
      const files = Math.ceil((range.end - range.start) / (period === 'daily' ? 86_400_000 : 28 * 86_400_000)) + 1;
      const bounds = { after: keyOf(range.start), until: keyOf(range.end), pageSize: Math.min(1000, 2 * files + 2) };
      // `after` is the first file's name without `.zip`, which sorts just before that file.
      for (const { key, size, lastModified } of (await this.list(folder, bounds)).files) {
        if (lastModified !== undefined && Date.parse(lastModified) > publishedBy) continue;
        const start = archiveFileStart(key.slice(folder.length), period);
        if (start !== undefined) found.set(start, size);
      }
      return found;
    };
    const [monthly, daily] = await Promise.all([starts('monthly'), starts('daily')]);
    return { monthly, daily };
  }

  /**
   * Reads one archive file into `onRows` batches (awaited: the next batch waits for it). No row
   * is delivered before the file matched its CHECKSUM; a line that then fails to parse ends the
   * read after the batches before it, so what `onRows` does must be idempotent by record key
   * (or read the file twice through `download`: once to check it all, once to deliver).
   */
  read(file: KlineArchiveFile, onRows: (rows: KlineRow[]) => unknown): Promise<ArchiveReadResult>;
  read(file: AggTradeArchiveFile, onRows: (rows: AggTrade[]) => unknown): Promise<ArchiveReadResult>;
  read(file: TradeArchiveFile, onRows: (rows: RawTrade[]) => unknown): Promise<ArchiveReadResult>;
  read(file: ArchiveFileRef, onRows: (rows: ArchiveRow[]) => unknown): Promise<ArchiveReadResult>;
  async read(file: ArchiveFileRef, onRows: (rows: never) => unknown): Promise<ArchiveReadResult> {
    const download = await this.download(file);
    if (!download.found) return download;
    try {
      const rows = await download.rows(onRows as (rows: ArchiveRow[]) => unknown);
      const { path, bytes, sha256 } = download;
      return { found: true, path, rows, bytes, sha256 };
    } finally {
      await download.discard();
    }
  }

  /**
   * Downloads one archive file to a temporary file and checks it against its CHECKSUM; the
   * verified file can then be read as often as needed, and must be discarded after.
   */
  async download(file: ArchiveFileRef): Promise<{ found: false; path: string } | VerifiedArchive> {
    const problem = archiveFileProblem(file);
    if (problem !== undefined) throw new StreamForgeError('SF_CONTRACT_INVALID', `archive file: ${problem}`);
    const path = archiveZipPath(file);
    const expected = await this.#checksum(file, path);
    if (expected === undefined) return { found: false, path };
    const folder = await mkdtemp(join(this.#tempDir, 'streamforge-archive-'));
    const discard = (): Promise<void> => rm(folder, { recursive: true, force: true });
    try {
      const zipFile = join(folder, `${archiveFileName(file)}.zip`);
      const download = await this.#download(path, zipFile);
      if (download === undefined) {
        await discard();
        return { found: false, path };
      }
      if (download.sha256 !== expected) {
        this.#logger?.warn({ path, expected, actual: download.sha256 }, 'archive file does not match its CHECKSUM');
        throw new StreamForgeError(
          'SF_ARCHIVE_INVALID',
          `${path}: SHA-256 ${download.sha256} does not match the CHECKSUM's ${expected}`,
          { details: { path, expected, actual: download.sha256, bytes: download.bytes } },
        );
      }
      const batchSize = this.#batchSize;
      const logger = this.#logger;
      return {
        found: true,
        path,
        bytes: download.bytes,
        sha256: expected,
        async rows(onRows, { from } = {}) {
          const rows = await readArchiveZip(file, path, zipFile, batchSize, onRows, from);
          logger?.debug({ path, bytes: download.bytes, rows }, 'archive file read');
          return rows;
        },
        discard,
      };
    } catch (error) {
      await discard();
      throw error;
    }
  }

  /** Closes the connections; calls in flight reject. */
  async close(): Promise<void> {
    this.#closing.abort(new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', 'archive client closed'));
    await this.#agent.close();
  }

  /** GET of a full URL, or of a path on the archive site. */
  async #request(path: string) {
    const url = new URL(path.startsWith('/') ? `${this.baseUrl}${path}` : path);
    try {
      return await this.#agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        signal: this.#closing.signal,
      });
    } catch (cause) {
      if (this.#closing.signal.aborted) throw this.#closing.signal.reason;
      throw new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', `archive ${path}: ${(cause as Error).message}`, {
        cause,
        details: { path },
      });
    }
  }

  async #getText(path: string): Promise<{ status: number; text: string }> {
    const response = await this.#request(path);
    try {
      return { status: response.statusCode, text: await response.body.text() };
    } catch (cause) {
      throw new StreamForgeError(
        'SF_ARCHIVE_INVALID',
        `archive ${path}: body cut short (${(cause as Error).message})`,
        {
          cause,
          details: { path },
        },
      );
    }
  }

  /** The hex SHA-256 the sidecar names, or undefined when the site has no such file (404). */
  async #checksum(file: ArchiveFileRef, path: string): Promise<string | undefined> {
    const { status, text } = await this.#getText(`/${path}.CHECKSUM`);
    if (status === 404) return undefined;
    if (status !== 200)
      throw new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', `${path}.CHECKSUM: HTTP ${status}`, {
        details: { path, status },
      });
    // sha256sum's form: `<hex>  <name>` (a `*` before the name in binary mode).
    const match = /^([0-9a-fA-F]{64}) [ *]([^\s/]+)\r?\n?$/.exec(text);
    if (match === null || match[2] !== `${archiveFileName(file)}.zip`)
      throw new StreamForgeError(
        'SF_ARCHIVE_INVALID',
        `${path}.CHECKSUM: ${JSON.stringify(text.slice(0, 120))} is not a SHA-256 of ${archiveFileName(file)}.zip`,
        { details: { path } },
      );
    return match[1]!.toLowerCase();
  }

  /** Streams the zip into `target` while hashing it; undefined on 404. */
  async #download(path: string, target: string): Promise<{ sha256: string; bytes: number } | undefined> {
    const response = await this.#request(`/${path}`);
    if (response.statusCode === 404) {
      await response.body.dump();
      return undefined;
    }
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', `${path}: HTTP ${response.statusCode}`, {
        details: { path, status: response.statusCode },
      });
    }
    const announced = Number(response.headers['content-length']);
    const hash = createHash('sha256');
    const out = createWriteStream(target);
    // A failed write (a full disk) is this machine's fault, not the file's: kept apart, and
    // listened for at all times, since an unheard stream error would end the process.
    let writeError: Error | undefined;
    out.on('error', (error) => {
      writeError ??= error;
    });
    let bytes = 0;
    let cut: unknown;
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        if (writeError) break;
        hash.update(chunk);
        bytes += chunk.length;
        if (!out.write(chunk)) await drained(out);
      }
    } catch (cause) {
      response.body.destroy();
      if (this.#closing.signal.aborted) throw this.#closing.signal.reason;
      cut = cause;
    } finally {
      if (!out.destroyed) out.end();
      if (!out.closed) await once(out, 'close');
    }
    if (writeError) {
      response.body.destroy();
      throw new StreamForgeError(
        'SF_DEPENDENCY_UNAVAILABLE',
        `${path}: could not write the download: ${writeError.message}`,
        {
          cause: writeError,
          details: { path },
        },
      );
    }
    if (cut !== undefined || (Number.isFinite(announced) && bytes < announced)) {
      const of = Number.isFinite(announced) ? ` of ${announced}` : '';
      const reason = cut === undefined ? '' : ` (${(cut as Error).message})`;
      throw new StreamForgeError(
        'SF_ARCHIVE_INVALID',
        `${path}: download cut short after ${bytes}${of} bytes${reason}`,
        {
          ...(cut === undefined ? {} : { cause: cut }),
          details: { path, bytes, ...(Number.isFinite(announced) ? { expectedBytes: announced } : {}) },
        },
      );
    }
    return { sha256: hash.digest('hex'), bytes };
  }
}

/**
 * Resolves when a write stream takes more (`drain`) or is gone (`close`), and leaves no
 * listener behind: a download waits thousands of times, and `events.once` would leave the
 * losing event's listener (and an `error` one) on the stream each time.
 */
function drained(out: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}
