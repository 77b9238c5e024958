/**
 * An ArangoDB STAND-IN for tests: a small HTTP server (node:http, free port) that answers the
 * part of ArangoDB's HTTP API the store adapter calls through arangojs, with ArangoDB's paths,
 * methods, status codes and error bodies (`{error, code, errorNum, errorMessage}`; numbers
 * from ArangoDB's errors.dat). ArangoDB cannot run on this machine; the real server is tested
 * by packages/core/test/store/arango.test.ts when ARANGO_URL is set.
 *
 * Implemented: /_api/version; /_api/database (list, create) and /_api/database/current;
 * /_api/collection (list, create, get, count, properties); POST /_api/index (persistent);
 * documents: multi- and single-document POST /_api/document/{collection} with overwriteMode
 * conflict|ignore|replace and silent, GET /_api/document/{collection}/{key}; stream
 * transactions (begin, status, commit, abort, the x-arango-trx-id header, writes isolated until
 * commit, a key written by one running transaction refused to others with 1200); AQL cursors
 * for the store's fixed queries only (arango-standin-queries.ts), with batches and
 * /_api/cursor/{id}; edge collections (type 3, `_from`/`_to` checked) and named graphs
 * (arango-standin-graphs.ts: POST/GET /_api/gharial); AQL REMOVE of the store's fixed queries,
 * isolated in a stream transaction like every write; Basic authentication. Anything else is
 * refused with a message that names the stand-in, so nothing passes silently.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ArangoFailure,
  COLLECTION_TYPES,
  isDocumentHandle,
  routeGharial,
  type NamedGraph,
} from './arango-standin-graphs.ts';
import { declaredBindParameters, findStandinQuery, type Doc, type QueryContext } from './arango-standin-queries.ts';

export interface ArangoStandinOptions {
  username?: string;
  password?: string;
}

export interface ArangoStandin {
  /** http://127.0.0.1:<port>, what ARANGO_URL / STORE_URL would hold for a real server. */
  url: string;
  /** `METHOD /path` of every request (plus ` trx=<id>` when it names a stream transaction), for tests that check how the adapter talks. */
  requests: string[];
  /** Stops accepting connections (the data stays): the adapter sees a network failure. */
  suspend(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

interface Collection {
  id: string;
  name: string;
  /** 2 document, 3 edge. */
  type: number;
  docs: Map<string, Doc>;
  indexes: Array<Record<string, unknown>>;
}

interface Transaction {
  id: string;
  db: string;
  write: Set<string>;
  /** Per collection, the documents written (null: removed) until commit. */
  writes: Map<string, Map<string, Doc | null>>;
  status: 'running' | 'committed' | 'aborted';
}

// errors.dat numbers the stand-in answers with.
const E = {
  conflict: 1200,
  docNotFound: 1202,
  collNotFound: 1203,
  duplicate: 1207,
  illegalName: 1208,
  unique: 1210,
  badKey: 1221,
  docType: 1227,
  dbNotFound: 1228,
  badEdge: 1233,
  dbName: 1229,
  systemOnly: 1230,
  parse: 1501,
  bindMissing: 1551,
  bindUndeclared: 1552,
  cursorNotFound: 1600,
  trxUnregistered: 1652,
  trxAborted: 1654,
  trxNotFound: 1655,
} as const;
const KEY = /^[A-Za-z0-9_\-.@()+,=;$!*'%:]{1,254}$/;
const NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,255}$/;
const BATCH_SIZE = 1000;

export async function startArangoStandin(options: ArangoStandinOptions = {}): Promise<ArangoStandin> {
  const auth = `Basic ${Buffer.from(`${options.username ?? 'root'}:${options.password ?? ''}`).toString('base64')}`;
  const databases = new Map<string, Map<string, Collection>>([['_system', new Map()]]);
  const namedGraphs = new Map<string, Map<string, NamedGraph>>();
  const transactions = new Map<string, Transaction>();
  const locks = new Map<string, string>(); // db/collection/key → transaction id
  const cursors = new Map<string, { rest: unknown[]; batch: number }>();
  const requests: string[] = [];
  let ids = 1000;
  const nextId = (): string => String(++ids);
  const nextRev = (): string => `_${(++ids).toString(36).padStart(8, '0')}---`;

  const databaseOf = (name: string): Map<string, Collection> => {
    const db = databases.get(name);
    if (!db) throw new ArangoFailure(404, E.dbNotFound, 'database not found');
    return db;
  };
  const collectionOf = (db: string, name: string): Collection => {
    const coll = databaseOf(db).get(name);
    if (!coll) throw new ArangoFailure(404, E.collNotFound, `collection or view not found: ${name}`);
    return coll;
  };
  const info = (c: Collection) => ({
    id: c.id,
    name: c.name,
    status: 3,
    type: c.type,
    isSystem: false,
    globallyUniqueId: `h${c.id}`,
  });
  const newCollection = (db: string, name: string, type: number): Collection => {
    const coll: Collection = {
      id: nextId(),
      name,
      type,
      docs: new Map(),
      indexes: [{ id: `${name}/0`, type: 'primary', fields: ['_key'], unique: true, sparse: false, name: 'primary' }],
    };
    if (type === COLLECTION_TYPES.edge)
      coll.indexes.push({
        id: `${name}/1`,
        type: 'edge',
        fields: ['_from', '_to'],
        unique: false,
        sparse: false,
        name: 'edge',
      });
    databaseOf(db).set(name, coll);
    return coll;
  };

  function transactionOf(req: IncomingMessage, db: string): Transaction | undefined {
    const id = req.headers['x-arango-trx-id'];
    if (id === undefined) return undefined;
    const trx = transactions.get(String(id));
    if (!trx || trx.db !== db) throw new ArangoFailure(404, E.trxNotFound, `transaction '${id}' not found`);
    if (trx.status !== 'running')
      throw new ArangoFailure(410, E.trxAborted, `transaction '${id}' has already been ${trx.status}`);
    return trx;
  }

  /** The documents a request sees: committed ones, overlaid with its transaction's writes. */
  function visible(db: string, name: string, trx: Transaction | undefined): Map<string, Doc> {
    const coll = collectionOf(db, name);
    const own = trx?.writes.get(name);
    if (!own) return coll.docs;
    const seen = new Map(coll.docs);
    for (const [key, doc] of own) {
      if (doc === null) seen.delete(key);
      else seen.set(key, doc);
    }
    return seen;
  }

  /**
   * Writes one document (null: removes it) now, or into the transaction; a key another
   * transaction holds is a 1200 conflict.
   */
  function put(
    db: string,
    name: string,
    doc: Doc,
    trx: Transaction | undefined,
    key = String(doc._key),
    removed = false,
  ): void {
    const lock = `${db}/${name}/${key}`;
    const owner = locks.get(lock);
    if (owner !== undefined && owner !== trx?.id)
      throw new ArangoFailure(409, E.conflict, `write-write conflict; conflicting key: ${key}`);
    if (!trx) {
      if (removed) collectionOf(db, name).docs.delete(key);
      else collectionOf(db, name).docs.set(key, doc);
      return;
    }
    if (!trx.write.has(name))
      throw new ArangoFailure(
        400,
        E.trxUnregistered,
        `collection '${name}' not registered for write in transaction ${trx.id}`,
      );
    locks.set(lock, trx.id);
    if (!trx.writes.has(name)) trx.writes.set(name, new Map());
    trx.writes.get(name)!.set(key, removed ? null : doc);
  }

  function insert(db: string, name: string, body: unknown, query: URLSearchParams, trx: Transaction | undefined): Doc {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new ArangoFailure(400, E.docType, 'invalid document type');
    const given = (body as Doc)._key;
    const key = given === undefined ? nextId() : given;
    if (typeof key !== 'string' || !KEY.test(key)) throw new ArangoFailure(400, E.badKey, 'illegal document key');
    const mode = query.get('overwriteMode') ?? (query.get('overwrite') === 'true' ? 'replace' : 'conflict');
    const existing = visible(db, name, trx).get(key);
    const meta = { _id: `${name}/${key}`, _key: key };
    if (existing && mode === 'conflict')
      throw new ArangoFailure(
        409,
        E.unique,
        `unique constraint violated - in index primary of type primary over '_key'; conflicting key: ${key}`,
      );
    if (existing && mode === 'ignore') return { ...meta, _rev: existing._rev };
    if (mode !== 'conflict' && mode !== 'ignore' && mode !== 'replace')
      throw new ArangoFailure(400, 10, `overwriteMode ${mode} is not implemented by the ArangoDB stand-in`);
    const { _id: _i, _rev: _r, ...fields } = body as Doc;
    if (
      collectionOf(db, name).type === COLLECTION_TYPES.edge &&
      !(isDocumentHandle(fields._from) && isDocumentHandle(fields._to))
    ) {
      throw new ArangoFailure(400, E.badEdge, 'edge attribute missing or invalid');
    }
    const rev = nextRev();
    put(db, name, { ...fields, ...meta, _rev: rev }, trx);
    return existing ? { ...meta, _rev: rev, _oldRev: existing._rev } : { ...meta, _rev: rev };
  }

  function postDocuments(
    db: string,
    name: string,
    body: unknown,
    query: URLSearchParams,
    trx: Transaction | undefined,
  ): [number, unknown, Record<string, string>?] {
    collectionOf(db, name);
    const silent = query.get('silent') === 'true';
    if (!Array.isArray(body)) {
      const result = insert(db, name, body, query, trx);
      return [202, silent ? {} : result];
    }
    const errors: Record<string, number> = {};
    const results = body.map((doc) => {
      try {
        return insert(db, name, doc, query, trx);
      } catch (error) {
        if (!(error instanceof ArangoFailure)) throw error;
        errors[error.errorNum] = (errors[error.errorNum] ?? 0) + 1;
        return { error: true, errorNum: error.errorNum, errorMessage: error.message };
      }
    });
    const headers = Object.keys(errors).length > 0 ? { 'x-arango-error-codes': JSON.stringify(errors) } : undefined;
    return [202, silent ? results.filter((r) => 'error' in r) : results, headers];
  }

  function endTransaction(id: string, outcome: 'committed' | 'aborted'): unknown {
    const trx = transactions.get(id);
    if (!trx) throw new ArangoFailure(404, E.trxNotFound, `transaction '${id}' not found`);
    if (trx.status !== 'running' && trx.status !== outcome)
      throw new ArangoFailure(409, E.trxAborted, `transaction '${id}' has already been ${trx.status}`);
    if (trx.status === 'running' && outcome === 'committed') {
      for (const [name, docs] of trx.writes) {
        for (const [key, doc] of docs) {
          if (doc === null) collectionOf(trx.db, name).docs.delete(key);
          else collectionOf(trx.db, name).docs.set(key, doc);
        }
      }
    }
    for (const [lock, owner] of locks) if (owner === id) locks.delete(lock);
    trx.status = outcome;
    return { id, status: outcome };
  }

  function runQuery(db: string, body: Doc, trx: Transaction | undefined): unknown {
    const text = String(body.query ?? '');
    const known = findStandinQuery(text);
    if (!known)
      throw new ArangoFailure(
        400,
        E.parse,
        `query not supported by the ArangoDB stand-in: ${text.replace(/\s+/g, ' ').slice(0, 120)}`,
      );
    const bind = (body.bindVars ?? {}) as Record<string, unknown>;
    const declared = declaredBindParameters(text);
    for (const name of declared)
      if (!(name in bind))
        throw new ArangoFailure(
          400,
          E.bindMissing,
          `no value specified for declared bind parameter '${name}' (while parsing)`,
        );
    for (const name of Object.keys(bind))
      if (!declared.includes(name))
        throw new ArangoFailure(
          400,
          E.bindUndeclared,
          `bind parameter '${name}' was not declared in the query (while parsing)`,
        );
    for (const name of [
      ...known.collections,
      ...(bind['@collection'] === undefined ? [] : [String(bind['@collection'])]),
    ]) {
      if (!databaseOf(db).has(name))
        throw new ArangoFailure(404, E.collNotFound, `AQL: collection or view not found: ${name} (while parsing)`);
    }
    const ctx: QueryContext = {
      docs: (name) => visible(db, name, trx),
      replace: (name, key, doc) => {
        const { _key: _k, _id: _i, _rev: _r, ...fields } = doc;
        put(db, name, { ...fields, _key: key, _id: `${name}/${key}`, _rev: nextRev() }, trx);
      },
      remove: (name, key) => put(db, name, {}, trx, key, true),
    };
    const result = known.run(bind, ctx);
    const batchSize = Number(body.batchSize ?? BATCH_SIZE);
    if (result.length <= batchSize)
      return { result, hasMore: false, cached: false, extra: { warnings: [], stats: {} } };
    const id = nextId();
    cursors.set(id, { rest: result.slice(batchSize), batch: batchSize });
    return {
      result: result.slice(0, batchSize),
      hasMore: true,
      id,
      nextBatchId: 2,
      cached: false,
      extra: { warnings: [], stats: {} },
    };
  }

  function nextBatch(id: string): unknown {
    const cursor = cursors.get(id);
    if (!cursor) throw new ArangoFailure(404, E.cursorNotFound, 'cursor not found: disposed or unknown cursor');
    const result = cursor.rest.splice(0, cursor.batch);
    if (cursor.rest.length === 0) cursors.delete(id);
    return cursor.rest.length === 0
      ? { result, hasMore: false, cached: false }
      : { result, hasMore: true, id, cached: false };
  }

  /** Routes a request; returns [status, body, headers]. */
  function route(
    req: IncomingMessage,
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
  ): [number, unknown, Record<string, string>?] {
    const dbMatch = /^\/_db\/([^/]+)(\/.*)$/.exec(path);
    const db = dbMatch ? decodeURIComponent(dbMatch[1]) : '_system';
    const api = (dbMatch ? dbMatch[2] : path)
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    const at = (...parts: string[]): boolean =>
      parts.length === api.length && parts.every((p, i) => p === '*' || p === api[i]);
    const ok = (status: number, fields: Record<string, unknown>): [number, unknown] => [
      status,
      { error: false, code: status, ...fields },
    ];
    if (api[0] !== '_api')
      throw new ArangoFailure(404, 404, `unknown path ${path} (not implemented by the ArangoDB stand-in)`);
    databaseOf(db);
    if (!namedGraphs.has(db)) namedGraphs.set(db, new Map());
    const gharial = routeGharial(
      {
        graphs: namedGraphs.get(db)!,
        typeOf: (name) => databaseOf(db).get(name)?.type,
        create: (name, type) => void newCollection(db, name, type),
      },
      method,
      api,
      body,
    );
    if (gharial) return gharial;
    if (method === 'GET' && at('_api', 'version'))
      return [200, { server: 'arango', license: 'community', version: '3.12.4' }];
    if (method === 'GET' && at('_api', 'database', 'current'))
      return ok(200, { result: { name: db, id: db, path: '', isSystem: db === '_system' } });
    if (at('_api', 'database') && (method === 'GET' || method === 'POST')) {
      if (db !== '_system') throw new ArangoFailure(403, E.systemOnly, 'operation only allowed in system database');
      if (method === 'GET') return ok(200, { result: [...databases.keys()] });
      const name = String((body as Doc).name ?? '');
      if (!NAME.test(name)) throw new ArangoFailure(400, E.dbName, 'database name invalid');
      if (databases.has(name)) throw new ArangoFailure(409, E.duplicate, 'duplicate database name');
      databases.set(name, new Map());
      return ok(201, { result: true });
    }
    if (method === 'GET' && at('_api', 'collection')) {
      return ok(200, { result: [...databaseOf(db).values()].map(info) });
    }
    if (method === 'POST' && at('_api', 'collection')) {
      const name = String((body as Doc).name ?? '');
      if (!NAME.test(name)) throw new ArangoFailure(400, E.illegalName, `illegal name: collection name invalid`);
      if (databaseOf(db).has(name)) throw new ArangoFailure(409, E.duplicate, `duplicate name: ${name}`);
      const type = Number((body as Doc).type ?? COLLECTION_TYPES.document);
      if (type !== COLLECTION_TYPES.document && type !== COLLECTION_TYPES.edge)
        throw new ArangoFailure(400, 1218, 'collection type invalid');
      const coll = newCollection(db, name, type);
      return ok(200, { ...info(coll), waitForSync: false, keyOptions: { type: 'traditional', allowUserKeys: true } });
    }
    if (method === 'GET' && at('_api', 'collection', '*')) return ok(200, info(collectionOf(db, api[2])));
    if (method === 'GET' && at('_api', 'collection', '*', 'properties'))
      return ok(200, {
        ...info(collectionOf(db, api[2])),
        waitForSync: false,
        keyOptions: { type: 'traditional', allowUserKeys: true },
      });
    if (method === 'GET' && at('_api', 'collection', '*', 'count')) {
      return ok(200, { ...info(collectionOf(db, api[2])), count: visible(db, api[2], transactionOf(req, db)).size });
    }
    if (method === 'POST' && at('_api', 'index')) {
      const coll = collectionOf(db, query.get('collection') ?? '');
      const spec = body as { type?: string; fields?: string[]; name?: string; sparse?: boolean; unique?: boolean };
      if (spec.type !== 'persistent')
        throw new ArangoFailure(400, 10, `index type ${spec.type} is not implemented by the ArangoDB stand-in`);
      const same = coll.indexes.find(
        (i) =>
          JSON.stringify(i.fields) === JSON.stringify(spec.fields) &&
          Boolean(i.sparse) === Boolean(spec.sparse) &&
          Boolean(i.unique) === Boolean(spec.unique),
      );
      if (same) return ok(200, { ...same, isNewlyCreated: false });
      const index = {
        id: `${coll.name}/${nextId()}`,
        type: 'persistent',
        fields: spec.fields,
        name: spec.name ?? `idx_${ids}`,
        sparse: Boolean(spec.sparse),
        unique: Boolean(spec.unique),
      };
      coll.indexes.push(index);
      return ok(201, { ...index, isNewlyCreated: true });
    }
    if (method === 'POST' && at('_api', 'document', '*'))
      return postDocuments(db, api[2], body, query, transactionOf(req, db));
    if (method === 'GET' && at('_api', 'document', '*', '*')) {
      const doc = visible(db, api[2], transactionOf(req, db)).get(api[3]);
      if (!doc) throw new ArangoFailure(404, E.docNotFound, 'document not found');
      return [200, doc, { etag: `"${String(doc._rev)}"` }];
    }
    if (method === 'POST' && at('_api', 'transaction', 'begin')) {
      const spec = ((body as Doc).collections ?? {}) as {
        write?: string | string[];
        read?: string | string[];
        exclusive?: string | string[];
      };
      const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
      const write = [...list(spec.write), ...list(spec.exclusive)];
      for (const name of [...write, ...list(spec.read)]) collectionOf(db, name);
      const trx: Transaction = { id: nextId(), db, write: new Set(write), writes: new Map(), status: 'running' };
      transactions.set(trx.id, trx);
      return ok(201, { result: { id: trx.id, status: 'running' } });
    }
    if (at('_api', 'transaction', '*') && method === 'GET') {
      const trx = transactions.get(api[2]);
      if (!trx) throw new ArangoFailure(404, E.trxNotFound, `transaction '${api[2]}' not found`);
      return ok(200, { result: { id: trx.id, status: trx.status } });
    }
    if (at('_api', 'transaction', '*') && method === 'PUT')
      return ok(200, { result: endTransaction(api[2], 'committed') });
    if (at('_api', 'transaction', '*') && method === 'DELETE')
      return ok(200, { result: endTransaction(api[2], 'aborted') });
    if (method === 'POST' && at('_api', 'cursor'))
      return ok(201, runQuery(db, body as Doc, transactionOf(req, db)) as Record<string, unknown>);
    if (method === 'POST' && (at('_api', 'cursor', '*') || at('_api', 'cursor', '*', '*')))
      return ok(200, nextBatch(api[2]) as Record<string, unknown>);
    if (method === 'DELETE' && at('_api', 'cursor', '*')) {
      if (!cursors.delete(api[2]))
        throw new ArangoFailure(404, E.cursorNotFound, 'cursor not found: disposed or unknown cursor');
      return ok(202, { id: api[2] });
    }
    throw new ArangoFailure(404, 404, `unknown path ${method} ${path} (not implemented by the ArangoDB stand-in)`);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://standin');
      const method = req.method ?? 'GET';
      const trx = req.headers['x-arango-trx-id'];
      requests.push(`${method} ${url.pathname}${trx === undefined ? '' : ` trx=${String(trx)}`}`);
      let status: number;
      let payload: unknown;
      let headers: Record<string, string> | undefined;
      try {
        if (req.headers.authorization !== auth)
          throw new ArangoFailure(401, 11, 'not authorized to execute this request');
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          throw new ArangoFailure(400, 600, 'VPackError error: Expecting digit');
        }
        [status, payload, headers] = route(req, method, url.pathname, url.searchParams, body);
      } catch (error) {
        const failure =
          error instanceof ArangoFailure
            ? error
            : new ArangoFailure(500, 4, `internal error in the ArangoDB stand-in: ${(error as Error).message}`);
        [status, payload] = [
          failure.status,
          { error: true, code: failure.status, errorNum: failure.errorNum, errorMessage: failure.message },
        ];
      }
      res
        .writeHead(status, {
          'content-type': 'application/json; charset=utf-8',
          server: 'ArangoDB stand-in',
          ...headers,
        })
        .end(JSON.stringify(payload));
    });
  }

  const server: Server = createServer(handle);
  let port = 0;
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    suspend: stop,
    resume: listen,
    close: () => (server.listening ? stop() : Promise.resolve()),
  };
}
