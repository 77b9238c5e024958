/**
 * Faults of the simulator's stand-in for Binance's public archive, for the failures a loader
 * of archive files must survive: a corrupt zip (bytes flipped; the CHECKSUM stays right, so
 * the SHA-256 check fails), a wrong CHECKSUM, a download cut after some bytes (the
 * Content-Length announces the whole file), a slow link, and a file missing although
 * published, and a file with a line that does not parse (served with a CHECKSUM that matches
 * it, so only the parser can tell). Each fault names the files it hits by path globs (`*` matches any characters,
 * `/` included) and is transient (the first `times` requests of each matching path) or
 * permanent (no `times`), so a loader can show both "retried then stored" and "dead-lettered".
 */
export const ARCHIVE_FAULT_KINDS = ['corrupt', 'badChecksum', 'truncate', 'slow', 'missing', 'malformed'] as const;
export type ArchiveFaultKind = (typeof ARCHIVE_FAULT_KINDS)[number];

export interface ArchiveFault {
  /**
   * `corrupt` flips bytes of the zip; `badChecksum` answers a CHECKSUM with a wrong hash;
   * `truncate` closes the connection after `bytes` bytes of the zip; `slow` sends zips and
   * CHECKSUMs at `bytes` bytes a second; `missing` answers 404 NoSuchKey for both;
   * `malformed` serves the file with the CSV's second line garbled (`MALFORMED_FIELD` as its
   * second field), and a CHECKSUM of those bytes.
   */
  kind: ArchiveFaultKind;
  /** Path globs of the zips hit (with or without leading `/`; a CHECKSUM is hit through its zip's path); default every file. */
  paths?: readonly string[];
  /** Transient: only the first `times` requests of each matching path; absent: every request. */
  times?: number;
  /** `truncate`: bytes sent before the connection closes (default 1024); `slow`: bytes a second (default 65 536). */
  bytes?: number;
}

export interface ArchiveFaultDecision {
  corrupt: boolean;
  badChecksum: boolean;
  missing: boolean;
  /** Serve the variant of the file with a garbled line (zip and CHECKSUM alike). */
  malformed: boolean;
  /** Bytes to send before closing the connection. */
  truncateAt?: number;
  /** Bytes a second. */
  bytesPerSecond?: number;
}

const APPLIES: Record<ArchiveFaultKind, 'zip' | 'checksum' | 'both'> = {
  corrupt: 'zip',
  badChecksum: 'checksum',
  truncate: 'zip',
  slow: 'both',
  missing: 'both',
  malformed: 'both',
};

/** What a `malformed` file has as the second field of its second CSV line (a header row counts). */
export const MALFORMED_FIELD = 'not-a-number';

/** A glob as a RegExp: `*` is any run of characters, everything else literal. */
export function globRegExp(glob: string): RegExp {
  const body = glob
    .replace(/^\//, '')
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

interface ArmedFault {
  fault: ArchiveFault;
  patterns: RegExp[];
  /** Requests seen per path, for `times`. */
  seen: Map<string, number>;
}

export class ArchiveFaults {
  #armed: ArmedFault[] = [];
  readonly injected: Record<ArchiveFaultKind, number> = {
    corrupt: 0,
    badChecksum: 0,
    truncate: 0,
    slow: 0,
    missing: 0,
    malformed: 0,
  };

  constructor(faults: readonly ArchiveFault[] = []) {
    this.set(faults);
  }

  /** Replaces the faults (and restarts their `times` counts). */
  set(faults: readonly ArchiveFault[]): void {
    this.#armed = faults.map((fault) => ({
      fault,
      patterns: (fault.paths ?? ['*']).map(globRegExp),
      seen: new Map(),
    }));
  }

  /** The faults hitting one request: `zipPath` without leading slash; `checksum` for the sidecar. */
  decide(zipPath: string, checksum: boolean): ArchiveFaultDecision {
    const decision: ArchiveFaultDecision = { corrupt: false, badChecksum: false, missing: false, malformed: false };
    const requested = checksum ? `${zipPath}.CHECKSUM` : zipPath;
    for (const armed of this.#armed) {
      const { fault } = armed;
      const target = APPLIES[fault.kind];
      if (target !== 'both' && (target === 'checksum') !== checksum) continue;
      if (!armed.patterns.some((p) => p.test(zipPath) || p.test(requested))) continue;
      const seen = armed.seen.get(requested) ?? 0;
      armed.seen.set(requested, seen + 1);
      if (fault.times !== undefined && seen >= fault.times) continue;
      this.injected[fault.kind] += 1;
      if (fault.kind === 'corrupt') decision.corrupt = true;
      else if (fault.kind === 'badChecksum') decision.badChecksum = true;
      else if (fault.kind === 'missing') decision.missing = true;
      else if (fault.kind === 'malformed') decision.malformed = true;
      else if (fault.kind === 'truncate') decision.truncateAt = fault.bytes ?? 1024;
      else decision.bytesPerSecond = fault.bytes ?? 65_536;
    }
    return decision;
  }
}

/** A copy of the bytes with a run in the middle inverted: the zip no longer matches its CHECKSUM. */
export function corrupted(bytes: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(bytes);
  const from = Math.floor(copy.length / 2);
  for (let i = from; i < Math.min(copy.length, from + 16); i++) copy[i] = copy[i]! ^ 0xff;
  return copy;
}

/** A hash that is not the file's: every hex digit inverted. */
export function wrongHash(sha256: string): string {
  return sha256.replace(/[0-9a-f]/g, (d) => (15 - Number.parseInt(d, 16)).toString(16));
}
