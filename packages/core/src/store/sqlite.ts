/**
 * The embedded store: SQLite through node:sqlite, one file shared by every local process
 * (connector instances, the manager, loaders).
 *
 * - WAL mode: readers never wait for the writer; writers take turns.
 * - Every write is one `BEGIN IMMEDIATE` transaction, run synchronously from BEGIN to COMMIT,
 *   so nothing else in this process interleaves with it; a writer that finds the lock taken
 *   waits on timers, never blocking the event loop, and never surfaces SQLITE_BUSY
 *   (sqlite-runner.ts).
 * - A batch's records, rejects and page progress commit together; a redelivered batch
 *   replaces its records and finds its rejects and page part already there.
 * - Graph sets and the model registry live in their own tables (sqlite-graphs.ts).
 * - Candles for charts are aggregated by SQL over a series' key range (sqlite-candles.ts),
 *   and so are trades into price candles (sqlite-trades.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { DataRecord } from '../contracts/records.ts';
import { StreamForgeError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { checkCollectionName, checkLimit, checkWriteBatch, isRecordCollectionName, rawJson } from './input-checks.ts';
import type { CollectionInfo, RejectedRecord, Store, WorkflowProgress } from './port.ts';
import { rejectId } from './reject-id.ts';
import { createSqliteRunner, primaryCode, sqliteStoreError, SYNC_BUSY_MS } from './sqlite-runner.ts';
import {
  candleIndexDdl,
  CONNECTION_PRAGMAS,
  isKlineDoc,
  quoteIdentifier,
  recordTableDdl,
  SCHEMA,
  SCHEMA_VERSION,
  upsertSql,
} from './sqlite-schema.ts';
import { createSqliteCandles, indexKlineTables } from './sqlite-candles.ts';
import { createSqliteGraphs } from './sqlite-graphs.ts';
import { createSqliteTrades } from './sqlite-trades.ts';
import { createSqliteDeadLetters } from './sqlite-dead-letters.ts';
import { createSqliteWorkflows } from './sqlite-workflows.ts';

export interface SqliteStoreOptions {
  /** How long a write keeps waiting for the lock another process holds (default 30 s). */
  lockTimeoutMs?: number;
  logger?: Logger;
}

export interface SqliteStats {
  /** Attempts that found the write lock taken and were retried. */
  busyRetries: number;
}

export interface SqliteStore extends Store {
  readonly stats: Readonly<SqliteStats>;
}

const CHUNKS = [100, 10, 1] as const;

interface CollectionStatements {
  table: string;
  /** The table has its candle index (klines only: sqlite-schema.ts). */
  candleIndex: boolean;
  upserts: Map<number, StatementSync>;
  get: StatementSync;
  list: StatementSync;
  count: StatementSync;
}

/** Opens (creating if needed) the SQLite store at `path`, or `:memory:`. */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
  const memory = path === ':memory:';
  const file = memory ? path : resolve(path);
  const description = memory ? 'sqlite::memory:' : `sqlite:${file}`;
  let db: DatabaseSync;
  try {
    if (!memory) mkdirSync(dirname(file), { recursive: true });
    db = new DatabaseSync(file, { timeout: SYNC_BUSY_MS });
  } catch (error) {
    // mkdir failures (ENOTDIR, EACCES) carry no SQLite code; they are the file system's too.
    throw primaryCode(error) === undefined
      ? new StreamForgeError('SF_DEPENDENCY_UNAVAILABLE', `${description}: cannot open: ${(error as Error).message}`, {
          cause: error,
        })
      : sqliteStoreError(error, `${description}: cannot open`);
  }
  const runner = createSqliteRunner(db, description, options.lockTimeoutMs ?? 30_000, options.logger);
  const { reading, writing } = runner;
  const stats: SqliteStats = {
    get busyRetries() {
      return runner.busyRetries;
    },
  };

  try {
    const version = await reading('open', () => {
      for (const pragma of CONNECTION_PRAGMAS) db.exec(pragma);
      db.exec('PRAGMA journal_mode = WAL');
      return (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    });
    // Only a new file needs the write lock: opening an existing one never waits for writers.
    if (version < SCHEMA_VERSION) {
      await writing('create schema', () => {
        db.exec(SCHEMA);
        // Version 4: klines tables written before it get their candle index, once per file.
        if (version > 0 && version < 4) indexKlineTables(db);
        db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      });
    }
  } catch (error) {
    runner.close();
    throw error;
  }

  const sql = {
    findCollection: db.prepare('SELECT table_name FROM collections WHERE name = ?'),
    tableTaken: db.prepare('SELECT 1 AS taken FROM collections WHERE table_name = ?'),
    registerCollection: db.prepare('INSERT INTO collections (name, table_name, created_at) VALUES (?, ?, ?)'),
    listCollections: db.prepare('SELECT name, table_name FROM collections ORDER BY name'),
    insertReject: db.prepare(
      'INSERT INTO rejected_records (id, queue_id, collection, key, reason, record, rejected_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
    ),
    listRejected: db.prepare(
      'SELECT queue_id, collection, key, reason, record FROM rejected_records WHERE queue_id = ? ORDER BY seq LIMIT ?',
    ),
    insertPart: db.prepare(
      'INSERT INTO workflow_pages (queue_id, page, part, pages, parts, records) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    partsOfPage: db.prepare('SELECT count(*) AS n FROM workflow_pages WHERE queue_id = ? AND page = ?'),
    addProgress:
      db.prepare(`INSERT INTO workflow_progress (queue_id, pages_total, pages_done, records_written, rejected) VALUES (?, ?, ?, ?, 0)
      ON CONFLICT (queue_id) DO UPDATE SET pages_total = max(coalesce(pages_total, 0), excluded.pages_total),
        pages_done = pages_done + excluded.pages_done, records_written = records_written + excluded.records_written`),
    addRejected:
      db.prepare(`INSERT INTO workflow_progress (queue_id, pages_total, pages_done, records_written, rejected) VALUES (?, NULL, 0, 0, ?)
      ON CONFLICT (queue_id) DO UPDATE SET rejected = rejected + excluded.rejected`),
    progress: db.prepare(
      'SELECT pages_total, pages_done, records_written, rejected FROM workflow_progress WHERE queue_id = ?',
    ),
  };

  const collections = new Map<string, CollectionStatements>();

  function compile(table: string): CollectionStatements {
    const t = quoteIdentifier(table);
    const index = db.prepare("SELECT 1 AS found FROM sqlite_master WHERE type = 'index' AND name = ?");
    return {
      table,
      candleIndex: index.get(`_${table}_candles`) !== undefined,
      upserts: new Map(CHUNKS.map((n) => [n, db.prepare(upsertSql(table, n))])),
      get: db.prepare(`SELECT doc FROM ${t} WHERE key = ?`),
      list: db.prepare(`SELECT doc FROM ${t} WHERE key > ? ORDER BY key LIMIT ?`),
      count: db.prepare(`SELECT count(*) AS n FROM ${t}`),
    };
  }

  /** The statements of a registered collection; undefined when it does not exist (yet). */
  function statementsOf(name: string): CollectionStatements | undefined {
    const cached = collections.get(name);
    if (cached) return cached;
    if (!isRecordCollectionName(name)) return undefined;
    const row = sql.findCollection.get(name) as { table_name: string } | undefined;
    if (!row) return undefined;
    const compiled = compile(row.table_name);
    collections.set(name, compiled);
    return compiled;
  }

  /**
   * Inside a write transaction: registers the collection and creates its table if missing.
   * The caller caches the statements once the transaction committed: after a rollback the
   * table is gone, and a cached entry would keep every later write from creating it.
   */
  function createCollection(name: string): CollectionStatements {
    const existing = statementsOf(name);
    if (existing) return existing;
    let table = `c_${name}`;
    for (let n = 2; sql.tableTaken.get(table); n++) table = `c_${name}_${n}`;
    db.exec(recordTableDdl(table));
    sql.registerCollection.run(name, table, Date.now());
    return compile(table);
  }

  function readProgress(queueId: string): WorkflowProgress {
    const row = sql.progress.get(queueId) as
      | { pages_total: number | null; pages_done: number; records_written: number; rejected: number }
      | undefined;
    return {
      queue_id: queueId,
      pagesDone: row?.pages_done ?? 0,
      pagesTotal: row?.pages_total ?? undefined,
      recordsWritten: row?.records_written ?? 0,
      rejected: row?.rejected ?? 0,
    };
  }

  const workflows = createSqliteWorkflows(db, { writing, reading });
  const deadLetters = createSqliteDeadLetters(db, { writing, reading });
  const graphs = createSqliteGraphs(db, { writing, reading });
  const tableOf = (name: string): string | undefined =>
    isRecordCollectionName(name)
      ? (sql.findCollection.get(name) as { table_name: string } | undefined)?.table_name
      : undefined;
  const candles = createSqliteCandles(db, { reading }, tableOf);
  const trades = createSqliteTrades(db, { reading }, tableOf);

  return {
    description,
    stats,

    async ensureCollection(name) {
      checkCollectionName(name);
      if (collections.has(name)) return;
      collections.set(name, await writing(`ensureCollection ${name}`, () => createCollection(name)));
    },

    async writeBatch(input) {
      checkWriteBatch(input);
      const { records, progress } = input;
      // JSON and ids are made before taking the lock, so other processes wait less.
      const docs =
        input.json && input.json.length === records.length ? input.json : records.map((r) => JSON.stringify(r));
      const rejects = (input.rejected ?? []).map((r) => {
        const json = rawJson(r.record);
        return { r, json, id: rejectId(r, json) };
      });
      let statements: CollectionStatements | undefined;
      let indexed = false;
      const result = await writing(`writeBatch ${input.collection}`, () => {
        const compiled = createCollection(input.collection);
        statements = compiled;
        // Klines get the candle index with their first batch, while the table is still small.
        if (!compiled.candleIndex && records.length > 0 && isKlineDoc(records[0])) {
          db.exec(candleIndexDdl(compiled.table));
          indexed = true;
        }
        let i = 0;
        for (const size of CHUNKS) {
          const upsert = compiled.upserts.get(size)!;
          const params: string[] = new Array(size * 2);
          for (; i + size <= records.length; i += size) {
            for (let j = 0; j < size; j++) {
              params[2 * j] = records[i + j].key;
              params[2 * j + 1] = docs[i + j];
            }
            upsert.run(...params);
          }
        }
        const now = Date.now();
        const newRejects = new Map<string, number>();
        for (const { r, json, id } of rejects) {
          const { changes } = sql.insertReject.run(id, r.queue_id, r.collection, r.key ?? null, r.reason, json, now);
          if (changes === 1) newRejects.set(r.queue_id, (newRejects.get(r.queue_id) ?? 0) + 1);
        }
        for (const [queueId, n] of newRejects) sql.addRejected.run(queueId, n);
        if (!progress) return { written: records.length, rejected: rejects.length, progress: undefined };
        const { changes } = sql.insertPart.run(
          progress.queue_id,
          progress.page,
          progress.part,
          progress.pages,
          progress.parts,
          progress.records,
        );
        if (changes === 1) {
          const { n } = sql.partsOfPage.get(progress.queue_id, progress.page) as { n: number };
          sql.addProgress.run(progress.queue_id, progress.pages, n === progress.parts ? 1 : 0, progress.records);
        }
        return { written: records.length, rejected: rejects.length, progress: readProgress(progress.queue_id) };
      });
      // Marked only once committed: after a rollback the index is not there.
      if (statements && indexed) (statements as CollectionStatements).candleIndex = true;
      if (statements) collections.set(input.collection, statements);
      return result;
    },

    countRecords: (collection) =>
      reading(`countRecords ${collection}`, () => {
        const statements = statementsOf(collection);
        return statements ? (statements.count.get() as { n: number }).n : 0;
      }),

    async listRecords(collection, options) {
      const limit = checkLimit(options.limit);
      return reading(`listRecords ${collection}`, () => {
        const statements = statementsOf(collection);
        if (!statements || limit === 0) return [];
        const rows = statements.list.all(options.after ?? '', limit) as Array<{ doc: string }>;
        return rows.map((row) => JSON.parse(row.doc) as DataRecord);
      });
    },

    getRecord: (collection, key) =>
      reading(`getRecord ${collection}`, () => {
        const row = statementsOf(collection)?.get.get(key) as { doc: string } | undefined;
        return row ? (JSON.parse(row.doc) as DataRecord) : undefined;
      }),

    listCollections: () =>
      reading('listCollections', () => {
        const rows = sql.listCollections.all() as Array<{ name: string; table_name: string }>;
        return rows.map(
          (row): CollectionInfo => ({
            name: row.name,
            count: (statementsOf(row.name)!.count.get() as { n: number }).n,
          }),
        );
      }),

    workflowProgress: (queueId) => reading('workflowProgress', () => readProgress(queueId)),

    // A stage's pages share the page tables under `<stage>:<queue_id>`; queue ids hold no `:`.
    markPageDone: (stage, queueId, page, pages, bytes = 0) =>
      writing('markPageDone', () => {
        const id = `${stage}:${queueId}`;
        // A stage's row counts its bytes where a workflow's row counts records: one counter, per row.
        const { changes } = sql.insertPart.run(id, page, 0, pages, 1, bytes);
        if (changes === 1) sql.addProgress.run(id, pages, 1, bytes);
        const progress = readProgress(id);
        return { done: progress.pagesDone, total: progress.pagesTotal ?? pages, bytes: progress.recordsWritten };
      }),

    async listRejected(queueId, limit) {
      checkLimit(limit);
      return reading('listRejected', () => {
        const rows = sql.listRejected.all(queueId, limit) as Array<{
          queue_id: string;
          collection: string;
          key: string | null;
          reason: string;
          record: string;
        }>;
        return rows.map(
          (row): RejectedRecord => ({
            collection: row.collection,
            queue_id: row.queue_id,
            ...(row.key === null ? {} : { key: row.key }),
            reason: row.reason,
            record: JSON.parse(row.record) as unknown,
          }),
        );
      });
    },

    ...workflows,
    ...deadLetters,
    ...graphs,
    ...candles,
    ...trades,

    async close() {
      runner.close();
    },
  };
}
