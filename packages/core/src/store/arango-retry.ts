/**
 * What the ArangoDB adapter retries, and how a final failure is reported. Retried: write-write
 * conflicts (1200; overwriteMode does not prevent them when two transactions write one `_key`,
 * arangodb/arangodb#18157), a stream transaction the server dropped (1654/1655), transient
 * server states (lock timeout, starting up, shutting down, cluster timeouts, 503) and network
 * failures. Everything is retried from the start of the operation, which is safe because every
 * write is idempotent.
 */
import { isArangoError, isNetworkError } from 'arangojs/errors';
import { StreamForgeError } from '../errors.ts';
import { backoffDelay, sleep } from '../retry/backoff.ts';
import type { Logger } from '../telemetry/logger.ts';

export const ARANGO_ERRORS = {
  conflict: 1200,
  documentNotFound: 1202,
  collectionNotFound: 1203,
  duplicateName: 1207,
  uniqueConstraint: 1210,
  databaseNotFound: 1228,
} as const;

// errors.dat: 18 lock timeout, 21 canceled, 28 locked, 29 deadlock, 30 shutting down,
// 38 starting up, 503 unavailable, 1004 read only / write concern, 1302 try again, 1303 busy,
// 1429 write concern, 1457 cluster timeout, 1465 connection lost, 1478 backend unavailable,
// 1491/1495/1496 leadership changes, 1654 transaction aborted, 1655 transaction not found.
const TRANSIENT = new Set([
  18, 21, 28, 29, 30, 38, 503, 1004, 1200, 1302, 1303, 1429, 1457, 1465, 1478, 1491, 1495, 1496, 1654, 1655,
]);

// Per-document refusals no retry fixes: too large, illegal/unexpected/missing key, bad type, schema.
const DATA_ERRORS = new Set([1216, 1221, 1222, 1226, 1227, 1620]);

/** A per-document failure of a multi-document request (HTTP 202 with error items). */
export class DocumentFailure extends Error {
  readonly errorNum: number;
  constructor(errorNum: number, message: string) {
    super(message);
    this.name = 'DocumentFailure';
    this.errorNum = errorNum;
  }
}

/** Throws on the first error item of a multi-document answer. */
export function checkItems(what: string, items: unknown): void {
  if (!Array.isArray(items)) return;
  for (const item of items as Array<{ error?: boolean; errorNum?: number; errorMessage?: string }>) {
    if (item.error)
      throw new DocumentFailure(
        item.errorNum ?? 0,
        `${what}: ${item.errorMessage ?? 'document error'} (ArangoDB error ${item.errorNum})`,
      );
  }
}

/** A read of a collection that does not exist finds `missing` instead of failing. */
export async function orMissing<T>(read: Promise<T>, missing: T): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (StreamForgeError.is(error) && errorNumOf(error.cause) === ARANGO_ERRORS.collectionNotFound) return missing;
    throw error;
  }
}

export function errorNumOf(error: unknown): number | undefined {
  if (error instanceof DocumentFailure || isArangoError(error)) return (error as { errorNum: number }).errorNum;
  return undefined;
}

function isTransient(error: unknown): boolean {
  const num = errorNumOf(error);
  if (num !== undefined) return TRANSIENT.has(num);
  if (!isNetworkError(error)) return false;
  // arangojs reports non-JSON HTTP failures as HttpError, a NetworkError with a status code.
  const status = (error as { code?: unknown }).code;
  return typeof status !== 'number' || status >= 500 || status === 408 || status === 429;
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface RetryCounters {
  conflictRetries: number;
  unavailableRetries: number;
}

export type ArangoRetrier = <T>(what: string, operation: (attempt: number) => Promise<T>) => Promise<T>;

export function createRetrier(
  where: string,
  policy: RetryPolicy,
  counters: RetryCounters,
  logger?: Logger,
): ArangoRetrier {
  return async (what, operation) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await operation(attempt);
      } catch (error) {
        if (!isTransient(error)) throw arangoStoreError(error, `${where}: ${what}`);
        if (attempt + 1 >= policy.attempts) {
          throw new StreamForgeError(
            'SF_DEPENDENCY_UNAVAILABLE',
            `${where}: ${what}: still failing after ${policy.attempts} attempts: ${(error as Error).message}`,
            { cause: error, details: { errorNum: errorNumOf(error) } },
          );
        }
        if (errorNumOf(error) === ARANGO_ERRORS.conflict) counters.conflictRetries++;
        else counters.unavailableRetries++;
        logger?.warn(
          { store: where, what, attempt, error: (error as Error).message },
          'store: ArangoDB operation failed, retrying',
        );
        await sleep(backoffDelay({ baseMs: policy.baseDelayMs, maxMs: policy.maxDelayMs }, attempt + 1));
      }
    }
  };
}

/** A StreamForgeError for a failure that retrying will not fix. */
export function arangoStoreError(error: unknown, where: string): StreamForgeError {
  if (StreamForgeError.is(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const num = errorNumOf(error);
  const status = (error as { code?: unknown }).code;
  if (status === 401 || num === 11) {
    return new StreamForgeError(
      'SF_CONFIG_INVALID',
      `${where}: ArangoDB refused the credentials (ARANGO_USERNAME / ARANGO_PASSWORD or the STORE_URL user): ${message}`,
      { cause: error },
    );
  }
  if (error instanceof DocumentFailure && DATA_ERRORS.has(error.errorNum))
    return new StreamForgeError('SF_CONTRACT_INVALID', `${where}: ${message}`, {
      cause: error,
      details: { errorNum: num },
    });
  if (isNetworkError(error))
    return new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', `${where}: ${message}`, { cause: error });
  return new StreamForgeError(
    'SF_INTERNAL',
    `${where}: ${message}${num === undefined ? '' : ` (ArangoDB error ${num})`}`,
    { cause: error, details: { errorNum: num } },
  );
}
