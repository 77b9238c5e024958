/**
 * The ArangoDB store (arangojs v10). The database, the store's own collections and every
 * record collection are created on demand; a creation another instance won (1207 duplicate
 * name) counts as done.
 *
 * writeBatch is one stream transaction over the record collection, `rejected_records` and
 * `workflow_pages`: records are replaced by `_key` through the multi-document API
 * (`saveAll` with overwriteMode "replace"), rejects and the page part are inserted with
 * overwriteMode "ignore" under deterministic keys, so a redelivered batch changes nothing it
 * already wrote. saveAll is called without `silent`: arangojs resolves a silent saveAll to
 * undefined, dropping the per-document errors the server still reports (HTTP 202 with error
 * items), and a record would be lost unnoticed. Each item is checked instead.
 *
 * Graph sets (named graphs with vertex and edge collections) and the model registry are in
 * arango-graphs.ts; their collections are not record collections, so listCollections leaves
 * out every collection a named graph uses.
 */
import { Database } from 'arangojs';
import type { DocumentCollection } from 'arangojs/collections';
import type { Transaction } from 'arangojs/transactions';
import type { DataRecord } from '../contracts/records.ts';
import type { Logger } from '../telemetry/logger.ts';
import { arangoKey, compositeKey, withoutMeta } from './arango-keys.ts';
import { AQL, ARANGO_COLLECTIONS, ARANGO_INDEXES, RECORD_INDEXES } from './arango-queries.ts';
import {
  ARANGO_ERRORS,
  checkItems,
  createRetrier,
  errorNumOf,
  orMissing,
  type RetryCounters,
  type RetryPolicy,
} from './arango-retry.ts';
import { createArangoCandles } from './arango-candles.ts';
import { createArangoGraphs, namedGraphCollections } from './arango-graphs.ts';
import { createArangoDeadLetters } from './arango-dead-letters.ts';
import { createArangoTrades } from './arango-trades.ts';
import { createArangoWorkflows } from './arango-workflows.ts';
import {
  checkCollectionName,
  checkLimit,
  checkWriteBatch,
  isRecordCollectionName,
  rawJson,
  RESERVED_COLLECTIONS,
} from './input-checks.ts';
import type { CollectionInfo, RejectedRecord, Store, WorkflowProgress } from './port.ts';
import { rejectId } from './reject-id.ts';

export interface ArangoStoreOptions {
  /** Server root, e.g. http://127.0.0.1:8529. */
  url: string;
  database: string;
  username: string;
  password: string;
  logger?: Logger;
  retry?: Partial<RetryPolicy>;
}

export interface ArangoStore extends Store {
  readonly stats: Readonly<RetryCounters>;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 10, baseDelayMs: 50, maxDelayMs: 2_000 };

type Doc = Record<string, unknown>;

export async function openArangoStore(options: ArangoStoreOptions): Promise<ArangoStore> {
  const description = `arangodb:${options.url}/${options.database}`;
  const stats: RetryCounters = { conflictRetries: 0, unavailableRetries: 0 };
  const retrying = createRetrier(description, { ...DEFAULT_RETRY, ...options.retry }, stats, options.logger);
  const system = new Database({
    url: options.url,
    databaseName: '_system',
    auth: { username: options.username, password: options.password },
  });
  const db = system.database(options.database);
  const collection = (name: string): DocumentCollection => db.collection(name);
  const ensured = new Map<string, Promise<void>>();

  const tolerateDuplicate = (error: unknown): void => {
    if (errorNumOf(error) !== ARANGO_ERRORS.duplicateName) throw error;
  };

  async function createCollection(
    name: string,
    indexes: Array<{ name: string; fields: string[]; sparse?: boolean }>,
  ): Promise<void> {
    await retrying(`create collection ${name}`, async () => {
      await collection(name).create().catch(tolerateDuplicate);
      for (const index of indexes) {
        await collection(name).ensureIndex({
          type: 'persistent',
          name: index.name,
          fields: index.fields,
          sparse: index.sparse ?? false,
        });
      }
    });
  }

  /** Creates a collection once per process; concurrent callers share the attempt. */
  function ensure(name: string, indexes: Array<{ name: string; fields: string[]; sparse?: boolean }>): Promise<void> {
    let pending = ensured.get(name);
    if (!pending) {
      pending = createCollection(name, indexes);
      ensured.set(name, pending);
      pending.catch(() => ensured.delete(name));
    }
    return pending;
  }

  try {
    await retrying(`create database ${options.database}`, async () => {
      try {
        await db.get();
      } catch (error) {
        if (errorNumOf(error) !== ARANGO_ERRORS.databaseNotFound) throw error;
        await system.createDatabase(options.database).catch(tolerateDuplicate);
      }
    });
    await Promise.all(Object.values(ARANGO_COLLECTIONS).map((name) => ensure(name, ARANGO_INDEXES[name] ?? [])));
  } catch (error) {
    system.close();
    throw error;
  }

  const rawQuery = async <T>(aql: string, bindVars: Record<string, unknown>): Promise<T[]> =>
    (await db.query<T>(aql, bindVars)).all();
  const query = <T>(what: string, aql: string, bindVars: Record<string, unknown>): Promise<T[]> =>
    retrying(what, () => rawQuery<T>(aql, bindVars));

  async function workflowProgress(queueId: string): Promise<WorkflowProgress> {
    const [row] = await query<{
      pagesDone: number;
      pagesTotal: number | null;
      recordsWritten: number;
      rejected: number;
    }>('workflowProgress', AQL.workflowProgress, { queue_id: queueId });
    return {
      queue_id: queueId,
      pagesDone: row.pagesDone,
      pagesTotal: row.pagesTotal ?? undefined,
      recordsWritten: row.recordsWritten,
      rejected: row.rejected,
    };
  }

  /**
   * One attempt of a batch. A transaction whose abort did not get through (the network was
   * down) is handed to `unfinished`: it would hold its keys until the server's idle timeout,
   * so the next attempt aborts it first.
   */
  async function writeOnce(
    name: string,
    docs: Doc[],
    rejects: Doc[],
    page: Doc | undefined,
    unfinished: (trx: Transaction) => void,
  ): Promise<void> {
    const write = [
      name,
      ...(rejects.length > 0 ? [ARANGO_COLLECTIONS.rejected] : []),
      ...(page ? [ARANGO_COLLECTIONS.pages] : []),
    ];
    const trx = await db.beginTransaction({ write });
    try {
      if (docs.length > 0)
        checkItems(
          `records of ${name}`,
          await trx.step(() => collection(name).saveAll(docs, { overwriteMode: 'replace' })),
        );
      if (rejects.length > 0)
        checkItems(
          'rejected records',
          await trx.step(() => collection(ARANGO_COLLECTIONS.rejected).saveAll(rejects, { overwriteMode: 'ignore' })),
        );
      if (page)
        await trx.step(() =>
          collection(ARANGO_COLLECTIONS.pages).save(page, { overwriteMode: 'ignore', silent: true }),
        );
      await trx.commit();
    } catch (error) {
      await trx.abort().catch(() => unfinished(trx));
      throw error;
    }
  }

  const workflows = createArangoWorkflows({ collection, rawQuery, retrying });
  const deadLetters = createArangoDeadLetters({ collection, rawQuery, retrying });
  const graphs = createArangoGraphs({ db, retrying });
  const candles = createArangoCandles(query);
  const trades = createArangoTrades(query);

  return {
    description,
    stats,

    async ensureCollection(name) {
      checkCollectionName(name);
      await ensure(name, RECORD_INDEXES);
    },

    async writeBatch(input) {
      checkWriteBatch(input);
      const name = input.collection;
      await ensure(name, RECORD_INDEXES);
      const docs = input.records.map((r) => ({ ...r, _key: arangoKey(r.key) }));
      const now = Date.now();
      const rejects = (input.rejected ?? []).map((r, position) => {
        const json = rawJson(r.record);
        return {
          _key: rejectId(r, json),
          queue_id: r.queue_id,
          collection: r.collection,
          ...(r.key === undefined ? {} : { key: r.key }),
          reason: r.reason,
          record: JSON.parse(json) as unknown,
          rejected_at: now,
          position,
        };
      });
      const p = input.progress;
      const page = p && {
        _key: compositeKey([p.queue_id, p.page, p.part]),
        queue_id: p.queue_id,
        page: p.page,
        pages: p.pages,
        part: p.part,
        parts: p.parts,
        records: p.records,
      };
      let unfinished: Transaction | undefined;
      const remember = (trx: Transaction): void => {
        unfinished = trx;
      };
      if (docs.length > 0 || rejects.length > 0 || page)
        await retrying(`writeBatch ${name}`, async () => {
          await unfinished?.abort().catch(() => undefined);
          unfinished = undefined;
          try {
            await writeOnce(name, docs, rejects, page, remember);
          } catch (error) {
            // The collection was dropped behind this process's back: create it again, then retry.
            if (errorNumOf(error) !== ARANGO_ERRORS.collectionNotFound) throw error;
            ensured.delete(name);
            await ensure(name, RECORD_INDEXES);
            await writeOnce(name, docs, rejects, page, remember);
          }
        });
      return {
        written: docs.length,
        rejected: rejects.length,
        progress: p ? await workflowProgress(p.queue_id) : undefined,
      };
    },

    countRecords: (name) =>
      isRecordCollectionName(name)
        ? orMissing(
            retrying(`countRecords ${name}`, async () => (await collection(name).count()).count),
            0,
          )
        : Promise.resolve(0),

    async listRecords(name, options) {
      const limit = checkLimit(options.limit);
      if (!isRecordCollectionName(name) || limit === 0) return [];
      const after = options.after === undefined ? '' : arangoKey(options.after);
      return orMissing(
        query<DataRecord>(`listRecords ${name}`, AQL.listRecords, { '@collection': name, after, limit }),
        [],
      );
    },

    async getRecord(name, key) {
      if (!isRecordCollectionName(name)) return undefined;
      const doc = await orMissing(
        retrying(
          `getRecord ${name}`,
          () => collection(name).document(arangoKey(key), { graceful: true }) as Promise<Doc | null>,
        ),
        null,
      );
      return doc ? withoutMeta<DataRecord>(doc) : undefined;
    },

    async listCollections() {
      const names = await retrying('listCollections', async () => (await db.listCollections()).map((c) => c.name));
      // Vertex and edge collections of the graph sets are not record collections (SQLite keeps them apart too).
      const inGraphs = await retrying('listCollections graphs', () => namedGraphCollections(db));
      const records = names
        .filter((n) => !RESERVED_COLLECTIONS.has(n) && !inGraphs.has(n) && isRecordCollectionName(n))
        .sort();
      const counts = await Promise.all(
        records.map((n) =>
          orMissing(
            retrying(`count ${n}`, async () => (await collection(n).count()).count),
            0,
          ),
        ),
      );
      return records.map((name, i): CollectionInfo => ({ name, count: counts[i] }));
    },

    workflowProgress,

    // A stage's pages share `workflow_pages` under `<stage>:<queue_id>`; queue ids hold no `:`.
    async markPageDone(stage, queueId, page, pages, bytes = 0) {
      const id = `${stage}:${queueId}`;
      // A stage's pages sum their bytes where a workflow's parts sum records: the same field.
      const doc = { _key: compositeKey([id, page, 0]), queue_id: id, page, pages, part: 0, parts: 1, records: bytes };
      await retrying('markPageDone', () => collection(ARANGO_COLLECTIONS.pages).save(doc, { overwriteMode: 'ignore' }));
      const progress = await workflowProgress(id);
      return { done: progress.pagesDone, total: progress.pagesTotal ?? pages, bytes: progress.recordsWritten };
    },

    async listRejected(queueId, limit) {
      checkLimit(limit);
      const rows = await query<RejectedRecord & { key: string | null }>('listRejected', AQL.listRejected, {
        queue_id: queueId,
        limit,
      });
      return rows.map(({ key, ...rest }) => (key === null ? rest : { ...rest, key }));
    },

    ...workflows,
    ...deadLetters,
    ...graphs,
    ...candles,
    ...trades,

    async close() {
      system.close();
    },
  };
}
