/**
 * The simulator's stand-in for Binance's public archive site (docs/binance.md, public data
 * files), served on the REST port under `/data/` from the same MarketData as the REST
 * endpoints, so an archive file and the REST pages of the same range hold the same rows.
 * A file exists once published: a day's file from the next midnight UTC plus `lagMs`, a
 * month's once the month has ended plus `lagMs`, and only when the market data has rows in
 * its period; otherwise 404 with an S3 `NoSuchKey` XML body. `GET /?prefix=…&delimiter=/`
 * answers an S3 ListObjects (version 1) `ListBucketResult`, paged by `marker`/`max-keys`;
 * folders down to the series are listed from what the simulator lists (symbols, intervals),
 * files as published. Sizes and ETags (MD5) are those of the bytes served, so a listing builds
 * every file it names (once; final files are cached): list one series' folder, not the bucket.
 * No request weight: the archive has no rate limit.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { MARKETS, type Market } from '@streamforge/core/contracts';
import { buildArchive, checksumText, firstRowTime, hasRows, type BuiltArchive } from './archive-csv.ts';
import {
  ArchiveFaults,
  MALFORMED_FIELD,
  corrupted,
  wrongHash,
  type ArchiveFault,
  type ArchiveFaultKind,
} from './archive-faults.ts';
import {
  ARCHIVE_MARKET_FOLDERS,
  ARCHIVE_PERIODS,
  archiveFolder,
  archiveIntervalName,
  archiveIntervals,
  archiveKinds,
  archivePath,
  hasInterval,
  parseArchivePath,
  marketOfFolder,
  periodEnd,
  periodStart,
  type ArchiveFile,
  type ArchiveKind,
  type ArchivePeriod,
} from './archive-paths.ts';
import type { MarketData } from './market-data.ts';
import { metricsFrom } from './futures-series.ts';

export interface ArchiveOptions {
  /** Delay after a day's or month's end before its file is published, in ms. Default 0. */
  lagMs?: number;
  /** Faults of the archive (none by default). */
  faults?: readonly ArchiveFault[];
  /** Built zips kept in memory (the newest ones). Default 32. */
  cacheSize?: number;
}

export interface ArchiveStats {
  requests: number;
  /** Zip downloads answered 200 (before any fault). */
  files: number;
  checksums: number;
  listings: number;
  /** 404 answers (not published, no data, unknown path, or the `missing` fault). */
  notFound: number;
  /** Body bytes sent. */
  bytes: number;
  /** Faults injected, per kind. */
  faults: Record<ArchiveFaultKind, number>;
}

const BUCKET = 'data.binance.vision';
const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';

function xml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function noSuchKey(key: string): string {
  return `${XML_HEAD}<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${xml(key)}</Key></Error>`;
}

/** What one listing page can name: keys after `marker` starting with `prefix`, at most `maxKeys`. */
interface ListWindow {
  marker: string;
  prefix: string;
  maxKeys: number;
}

interface Entry {
  key: string;
  /** A CommonPrefix rather than an object. */
  folder: boolean;
}

export class ArchiveSite {
  readonly #data: MarketData;
  readonly #clock: () => number;
  readonly #faults: ArchiveFaults;
  readonly #cacheSize: number;
  readonly #built = new Map<string, Promise<BuiltArchive | undefined>>();
  /** Size and hashes of every final zip built, kept after its bytes left the cache: listings reuse them. */
  readonly #meta = new Map<string, { size: number; md5: string; sha256: string }>();
  #lagMs: number;
  readonly #counts = { requests: 0, files: 0, checksums: 0, listings: 0, notFound: 0, bytes: 0 };

  constructor(data: MarketData, clock: () => number, options: ArchiveOptions = {}) {
    this.#data = data;
    this.#clock = clock;
    this.#lagMs = options.lagMs ?? 0;
    this.#faults = new ArchiveFaults(options.faults);
    this.#cacheSize = options.cacheSize ?? 32;
  }

  /** Whether a request is the archive's: a path under `/data/`, or the bucket listing at `/`. */
  static handles(path: string): boolean {
    return path === '/' || path.startsWith('/data/');
  }

  /** Changes the lag and/or replaces the faults. */
  set(options: Pick<ArchiveOptions, 'lagMs' | 'faults'>): void {
    if (options.lagMs !== undefined) this.#lagMs = options.lagMs;
    if (options.faults !== undefined) this.#faults.set(options.faults);
  }

  stats(): ArchiveStats {
    return { ...this.#counts, faults: { ...this.#faults.injected } };
  }

  /** The market a path belongs to, for the request log. */
  static marketOf(path: string): Market {
    return marketOfFolder(/^\/data\/(spot|futures\/[a-z]+)\//.exec(path)?.[1] ?? '') ?? 'spot';
  }

  /** Answers one request; resolves with the status sent (also when a fault cut the body short). */
  async handle(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<number> {
    this.#counts.requests += 1;
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) return this.#send(res, 405, 'application/xml', '', head);
    if (path === '/') return this.#list(res, new URLSearchParams(query), head);
    const key = path.slice(1);
    const parsed = parseArchivePath(key);
    if (parsed === undefined) return this.#notFound(res, key, head);
    const { file, checksum } = parsed;
    const zipPath = archivePath(file);
    const now = this.#clock();
    if (!this.#data.isListed(file.market, file.symbol) || !this.#published(file, now))
      return this.#notFound(res, key, head);
    const good = await this.#build(file, now);
    if (good === undefined) return this.#notFound(res, key, head);
    const fault = this.#faults.decide(zipPath, checksum);
    if (fault.missing) return this.#notFound(res, key, head);
    // A garbled line under a CHECKSUM of its own bytes: built on each request, a test fault only.
    const built = fault.malformed ? ((await buildArchive(this.#data, file, now, MALFORMED_FIELD)) ?? good) : good;
    const lastModified = new Date(periodEnd(file) + this.#lagMs).toUTCString();
    if (checksum) {
      this.#counts.checksums += 1;
      const text = checksumText(fault.badChecksum ? wrongHash(built.sha256) : built.sha256, file);
      const etag = createHash('md5').update(text).digest('hex');
      return this.#send(res, 200, 'text/plain', text, head, { lastModified, etag, ...fault });
    }
    this.#counts.files += 1;
    const body = fault.corrupt ? corrupted(built.zip) : built.zip;
    return this.#send(res, 200, 'application/zip', body, head, { lastModified, etag: built.md5, ...fault });
  }

  #published(file: ArchiveFile, now: number): boolean {
    return periodEnd(file) + this.#lagMs <= now;
  }

  /** A file's zip, built once its rows are final (cached), or again on each request while a candle is open. */
  async #build(file: ArchiveFile, now: number): Promise<BuiltArchive | undefined> {
    const key = archivePath(file);
    const cached = this.#built.get(key);
    if (cached !== undefined) {
      this.#built.delete(key); // most recently used last
      this.#built.set(key, cached);
      return await cached;
    }
    const building = buildArchive(this.#data, file, now);
    this.#built.set(key, building);
    try {
      const built = await building;
      if (built !== undefined && !built.final) this.#built.delete(key);
      else if (built !== undefined)
        this.#meta.set(key, { size: built.zip.length, md5: built.md5, sha256: built.sha256 });
    } catch (error) {
      this.#built.delete(key);
      throw error;
    }
    while (this.#built.size > this.#cacheSize) this.#built.delete(this.#built.keys().next().value!);
    return await building;
  }

  #notFound(res: ServerResponse, key: string, head: boolean): Promise<number> {
    this.#counts.notFound += 1;
    return this.#send(res, 404, 'application/xml', noSuchKey(key), head);
  }

  async #send(
    res: ServerResponse,
    status: number,
    type: string,
    body: string | Uint8Array,
    head: boolean,
    options: { lastModified?: string; etag?: string; truncateAt?: number; bytesPerSecond?: number } = {},
  ): Promise<number> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.length);
    res.writeHead(status, {
      'Content-Type': type,
      'Content-Length': bytes.length,
      ...(options.lastModified === undefined ? {} : { 'Last-Modified': options.lastModified }),
      ...(options.etag === undefined ? {} : { ETag: `"${options.etag}"` }),
    });
    if (head) {
      res.end();
      return status;
    }
    const limit = options.truncateAt === undefined ? bytes.length : Math.min(options.truncateAt, bytes.length);
    const rate = options.bytesPerSecond;
    let sent = 0;
    const step = rate === undefined ? limit : Math.max(1, Math.floor(rate / 10));
    while (sent < limit) {
      const chunk = bytes.subarray(sent, Math.min(limit, sent + step));
      if (sent > 0 && rate !== undefined) await delay(100);
      if (res.destroyed) return status; // the client went away
      await new Promise<void>((resolve) => res.write(chunk, () => resolve()));
      sent += chunk.length;
      this.#counts.bytes += chunk.length;
    }
    if (limit < bytes.length) {
      res.destroy(); // the announced Content-Length is never reached
      return status;
    }
    res.end();
    return status;
  }

  // ---- listing ----

  async #list(res: ServerResponse, params: URLSearchParams, head: boolean): Promise<number> {
    this.#counts.listings += 1;
    const prefix = params.get('prefix') ?? '';
    const delimiter = params.get('delimiter') ?? '';
    const marker = params.get('marker') ?? '';
    const rawMax = params.get('max-keys');
    const maxKeys = rawMax !== null && /^\d{1,7}$/.test(rawMax) ? Math.min(Number(rawMax), 1000) : 1000;
    const now = this.#clock();
    const page: Entry[] = [];
    let truncated = false;
    let lastFolder = '';
    // Files before the marker and past the page are neither named nor checked for rows.
    // Only keys a page can hold are checked (a `/` or no delimiter lists a series' keys one by
    // one; any other rolls them up, and then every key is walked).
    const window: ListWindow = { marker, prefix, maxKeys: delimiter === '/' || delimiter === '' ? maxKeys : Infinity };
    for await (const entry of this.#walk('', prefix, delimiter === '/', now, window)) {
      let item = entry;
      if (!entry.folder && delimiter !== '') {
        // Any other delimiter: keys rolled up past the prefix, as S3 does.
        const cut = entry.key.indexOf(delimiter, prefix.length);
        if (cut >= 0) item = { key: entry.key.slice(0, cut + delimiter.length), folder: true };
      }
      if (item.key <= marker || (item.folder && item.key === lastFolder)) continue;
      if (page.length === maxKeys) {
        truncated = true;
        break;
      }
      if (item.folder) lastFolder = item.key;
      page.push(item);
    }
    const parts = [
      `${XML_HEAD}<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`,
      `<Name>${BUCKET}</Name><Prefix>${xml(prefix)}</Prefix><Marker>${xml(marker)}</Marker>`,
      `<MaxKeys>${maxKeys}</MaxKeys>${delimiter === '' ? '' : `<Delimiter>${xml(delimiter)}</Delimiter>`}`,
      `<IsTruncated>${truncated}</IsTruncated>`,
    ];
    if (truncated && page.length > 0) parts.push(`<NextMarker>${xml(page.at(-1)!.key)}</NextMarker>`);
    for (const item of page.filter((e) => !e.folder)) parts.push(await this.#contents(item.key, now));
    for (const item of page.filter((e) => e.folder))
      parts.push(`<CommonPrefixes><Prefix>${xml(item.key)}</Prefix></CommonPrefixes>`);
    parts.push('</ListBucketResult>');
    return await this.#send(res, 200, 'application/xml', parts.join(''), head);
  }

  async #contents(key: string, now: number): Promise<string> {
    const { file, checksum } = parseArchivePath(key)!;
    let built = this.#meta.get(archivePath(file));
    if (built === undefined) {
      const fresh = (await this.#build(file, now))!; // listed files have rows
      built = { size: fresh.zip.length, md5: fresh.md5, sha256: fresh.sha256 };
    }
    const size = checksum ? Buffer.byteLength(checksumText(built.sha256, file)) : built.size;
    const etag = checksum ? checksumEtag(built.sha256, file) : built.md5;
    const modified = new Date(periodEnd(file) + this.#lagMs).toISOString();
    return `<Contents><Key>${xml(key)}</Key><LastModified>${modified}</LastModified><ETag>&quot;${etag}&quot;</ETag><Size>${size}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
  }

  /**
   * Keys below `folder` in S3 order, only those starting with `prefix`; with `collapse` (a `/`
   * delimiter) a folder past the prefix is yielded as one entry instead of its keys.
   */
  async *#walk(
    folder: string,
    prefix: string,
    collapse: boolean,
    now: number,
    window: ListWindow,
  ): AsyncGenerator<Entry> {
    for (const child of await this.#children(folder, now, window)) {
      if (child.endsWith('/')) {
        if (collapse && child.startsWith(prefix) && child !== prefix) yield { key: child, folder: true };
        else if (child.startsWith(prefix) || prefix.startsWith(child))
          yield* this.#walk(child, prefix, collapse, now, window);
      } else if (child.startsWith(prefix)) yield { key: child, folder: false };
    }
  }

  /** The children of a folder key, sorted as S3 sorts keys. */
  async #children(folder: string, now: number, window: ListWindow): Promise<string[]> {
    const sorted = (names: string[]): string[] => names.map((n) => `${folder}${n}`).sort(byCodeUnit);
    if (folder === '') return ['data/'];
    if (folder === 'data/') return sorted(['futures/', 'spot/']);
    if (folder === 'data/futures/') return sorted(['cm/', 'um/']);
    const market = MARKETS.find((m) => folder === `data/${ARCHIVE_MARKET_FOLDERS[m]}/`);
    if (market !== undefined) return sorted(ARCHIVE_PERIODS.map((p) => `${p}/`));
    const parts = folder.split('/').slice(0, -1);
    const marketDepth = parts[1] === 'futures' ? 3 : 2;
    const m = marketOfFolder(parts.slice(1, marketDepth).join('/'));
    if (m === undefined) return [];
    const [period, kind, symbol, interval] = parts.slice(marketDepth) as [ArchivePeriod, ArchiveKind, string?, string?];
    if (!ARCHIVE_PERIODS.includes(period)) return [];
    if (kind === undefined) return sorted(archiveKinds(m, period).map((k) => `${k}/`));
    if (!archiveKinds(m, period).includes(kind)) return [];
    if (symbol === undefined) return sorted(this.#data.symbols(m).map((s) => `${s}/`));
    if (!this.#data.isListed(m, symbol)) return [];
    const perInterval = hasInterval(kind);
    if (perInterval && interval === undefined)
      return sorted(archiveIntervals(m, period).map((i) => `${archiveIntervalName(i)}/`));
    const iv = perInterval ? archiveIntervals(m, period).find((i) => archiveIntervalName(i) === interval) : undefined;
    if (perInterval && iv === undefined) return [];
    if (parts.length !== marketDepth + (perInterval ? 4 : 3)) return [];
    const series = { market: m, period, kind, symbol, ...(iv === undefined ? {} : { interval: iv }) };
    if (archiveFolder(series) !== folder) return [];
    return (await this.#publishedFiles(series, now, window)).flatMap((f) => {
      const zip = archivePath(f);
      return [zip, `${zip}.CHECKSUM`];
    });
  }

  /** The published files of one series with rows, oldest first. */
  async #publishedFiles(
    series: Omit<ArchiveFile, 'start'>,
    now: number,
    window: ListWindow = { marker: '', prefix: '', maxKeys: Number.POSITIVE_INFINITY },
  ): Promise<ArchiveFile[]> {
    const first = await this.#firstTime(series, now);
    if (first === undefined) return [];
    const files: ArchiveFile[] = [];
    // Two keys a file (zip, then CHECKSUM; the first named may give only its CHECKSUM): this
    // many files name more keys than the page holds, so the page knows it is truncated.
    const enough = Math.floor(window.maxKeys / 2) + 2;
    for (let start = periodStart(series.period, first); files.length < enough; ) {
      const file: ArchiveFile = { ...series, start };
      if (!this.#published(file, now)) break;
      // A file before the marker or outside the prefix is not named: no need to look for its rows.
      const checksumKey = `${archivePath(file)}.CHECKSUM`;
      const named = checksumKey > window.marker && checksumKey.startsWith(window.prefix);
      if (named && (await hasRows(this.#data, file, now))) files.push(file);
      start = periodEnd(file);
    }
    return files;
  }

  async #firstTime(series: Omit<ArchiveFile, 'start'>, now: number): Promise<number | undefined> {
    if (series.kind === 'metrics') {
      // Rows every 5 minutes from their start (the listing, or the first archived day): its day is the first file's.
      const from = metricsFrom(this.#data.spec(series.market, series.symbol), series.market);
      return await firstRowTime(this.#data, series, { startTime: from, limit: 1 }, now);
    }
    return await firstRowTime(this.#data, series, { startTime: 0, limit: 1 }, now);
  }
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The CHECKSUM sidecar's ETag: the MD5 of its text. */
function checksumEtag(sha256: string, file: ArchiveFile): string {
  return createHash('md5').update(checksumText(sha256, file)).digest('hex');
}
