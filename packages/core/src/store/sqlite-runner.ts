/**
 * How the SQLite store runs statements when several processes share the file. SQLite's own
 * busy handler sleeps inside the call, blocking the event loop, so it is given only a few
 * milliseconds (`SYNC_BUSY_MS`); past that an attempt that met SQLITE_BUSY is retried from a
 * timer with backoff until `lockTimeoutMs`, then fails with SF_DEPENDENCY_UNAVAILABLE (503:
 * a KafkaSource retries the event). Kafka heartbeats and health probes keep running meanwhile.
 */
import type { DatabaseSync } from 'node:sqlite';
import { StreamForgeError } from '../errors.ts';
import { backoffDelay, sleep, type Backoff } from '../retry/backoff.ts';
import type { Logger } from '../telemetry/logger.ts';

/** The part of a busy wait SQLite spends sleeping inside a call; the rest is timers. */
export const SYNC_BUSY_MS = 2;

const SQLITE_BUSY = 5;
/** Waiting for another process's lock: 1 ms doubling to 50 ms, until the runner's lock timeout. */
const LOCK_BACKOFF: Backoff = { baseMs: 1, maxMs: 50 };
// Primary result codes that mean the file or the disk, not the call, is the problem.
const UNAVAILABLE_CODES = new Set([
  5 /* BUSY */, 6 /* LOCKED */, 7 /* NOMEM */, 8 /* READONLY */, 10 /* IOERR */, 11 /* CORRUPT */, 13 /* FULL */,
  14 /* CANTOPEN */, 15 /* PROTOCOL */, 26 /* NOTADB */,
]);

/** The primary SQLite result code of a node:sqlite error (its `errcode` is the extended one). */
export function primaryCode(error: unknown): number | undefined {
  const code = (error as { errcode?: unknown }).errcode;
  return typeof code === 'number' ? code & 0xff : undefined;
}

export function sqliteStoreError(error: unknown, where: string): StreamForgeError {
  if (StreamForgeError.is(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = primaryCode(error);
  if (code !== undefined && UNAVAILABLE_CODES.has(code)) {
    return new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', `${where}: ${message}`, {
      cause: error,
      details: { sqlite_code: (error as { errcode: number }).errcode },
    });
  }
  return new StreamForgeError('SF_INTERNAL', `${where}: ${message}`, { cause: error });
}

export interface SqliteRunner {
  /** Runs `fn` (synchronous statements), again from a timer while another process holds a lock. */
  reading<T>(what: string, fn: () => T): Promise<T>;
  /** One write transaction: `body` runs synchronously between BEGIN IMMEDIATE and COMMIT. */
  writing<T>(what: string, body: () => T): Promise<T>;
  /** Attempts that met the lock taken and were retried. */
  readonly busyRetries: number;
  close(): void;
}

export function createSqliteRunner(
  db: DatabaseSync,
  description: string,
  lockTimeoutMs: number,
  logger?: Logger,
): SqliteRunner {
  let closed = false;
  let busyRetries = 0;

  async function reading<T>(what: string, fn: () => T): Promise<T> {
    const deadline = Date.now() + lockTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      if (closed)
        throw new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', `${description}: ${what}: the store is closed`);
      try {
        return fn();
      } catch (error) {
        if (primaryCode(error) !== SQLITE_BUSY) throw sqliteStoreError(error, `${description}: ${what}`);
        if (Date.now() >= deadline) {
          throw new StreamForgeError(
            'SF_DEPENDENCY_UNAVAILABLE',
            `${description}: ${what}: another process kept the database locked for over ${lockTimeoutMs} ms`,
            { cause: error },
          );
        }
        busyRetries++;
        if (attempt === 20)
          logger?.warn({ store: description, what }, 'store: still waiting for the SQLite lock another process holds');
        await sleep(backoffDelay(LOCK_BACKOFF, attempt + 1));
      }
    }
  }

  return {
    reading,
    writing: (what, body) =>
      reading(what, () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = body();
          db.exec('COMMIT');
          return result;
        } catch (error) {
          if (db.isTransaction) db.exec('ROLLBACK');
          throw error;
        }
      }),
    get busyRetries() {
      return busyRetries;
    },
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

/** Statements compiled once per record table, looked up by collection name (undefined: no such collection). */
export function statementsPerTable<S>(
  tableOf: (collection: string) => string | undefined,
  compile: (table: string) => S,
): (collection: string) => S | undefined {
  const compiled = new Map<string, S>();
  return (collection) => {
    const table = tableOf(collection);
    if (table === undefined) return undefined;
    let statements = compiled.get(table);
    if (statements === undefined) {
      statements = compile(table);
      compiled.set(table, statements);
    }
    return statements;
  };
}
