/**
 * Graphs and the model registry in ArangoDB. A graph set `g` is a document of `graph_sets`
 * plus an ArangoDB named graph `g` (gharial) whose one edge definition joins the edge
 * collection `g_edges` to the vertex collection `g_vertices`; creating the named graph on
 * demand creates both collections with the right types (an edge collection for `_from`/`_to`).
 * Vertices are keyed `<window>:<symbol>`, edges `<window>:<from>:<to>` with `_from`/`_to`
 * naming `g_vertices/<key>`, so a graph traversal in AQL works on what the builder wrote.
 *
 * Replacing a window is one stream transaction: AQL REMOVE of the window's vertices and
 * edges, then the new documents through the multi-document API, so a smaller rebuild leaves
 * nothing of the old one behind. Models are documents of `models` keyed `<model_id>:<version>`.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Database } from 'arangojs';
import { arangoKey, compositeKey, withoutMeta } from './arango-keys.ts';
import { AQL, ARANGO_COLLECTIONS, GRAPH_INDEXES, graphCollections } from './arango-queries.ts';
import { ARANGO_ERRORS, checkItems, errorNumOf, orMissing, type ArangoRetrier } from './arango-retry.ts';
import {
  checkGraphSet,
  checkGraphWindow,
  checkModelId,
  checkModelRecord,
  checkModelVersion,
  isGraphId,
} from './graph-checks.ts';
import { checkLimit } from './input-checks.ts';
import type { GraphEdge, GraphSet, GraphStore, ModelRecord, ModelStore } from './port.ts';
import { windowDocuments, windowsFrom, type StoredVertex } from './graph-documents.ts';

/** ArangoDB errors.dat: a named graph of that name exists already. */
const GRAPH_DUPLICATE = 1925;

export interface ArangoGraphDeps {
  db: Database;
  retrying: ArangoRetrier;
}

type Doc = Record<string, unknown>;

/** The collections that belong to a named graph (edge definitions and orphans): not record collections. */
export async function namedGraphCollections(db: Database): Promise<Set<string>> {
  const graphs = await db.listGraphs();
  const names = new Set<string>();
  for (const g of graphs) {
    for (const d of g.edgeDefinitions ?? []) {
      names.add(d.collection);
      for (const v of [...d.from, ...d.to]) names.add(v);
    }
    for (const o of g.orphanCollections ?? []) names.add(o);
  }
  return names;
}

export function createArangoGraphs({ db, retrying }: ArangoGraphDeps): GraphStore & ModelStore {
  const ensured = new Map<string, Promise<void>>();
  const query = <T>(what: string, aql: string, bindVars: Record<string, unknown>): Promise<T[]> =>
    retrying(what, async () => (await db.query<T>(aql, bindVars)).all());

  /** Creates the named graph (and so its collections) once per process; another instance's creation counts. */
  function ensureGraph(graphId: string): Promise<void> {
    let pending = ensured.get(graphId);
    if (!pending) {
      const { graph, vertices, edges } = graphCollections(graphId);
      pending = retrying(`create graph ${graph}`, async () => {
        try {
          await db.createGraph(graph, [{ collection: edges, from: [vertices], to: [vertices] }]);
        } catch (error) {
          if (errorNumOf(error) !== GRAPH_DUPLICATE) throw error;
        }
        for (const name of [vertices, edges]) {
          for (const index of GRAPH_INDEXES)
            await db.collection(name).ensureIndex({ type: 'persistent', name: index.name, fields: index.fields });
        }
      });
      ensured.set(graphId, pending);
      pending.catch(() => ensured.delete(graphId));
    }
    return pending;
  }

  /** One stream transaction over `write`, retried from the start (every step is idempotent). */
  async function inTransaction(
    what: string,
    write: string[],
    body: (step: <T>(fn: () => Promise<T>) => Promise<T>) => Promise<void>,
  ): Promise<void> {
    await retrying(what, async () => {
      const trx = await db.beginTransaction({ write });
      try {
        await body((fn) => trx.step(fn));
        await trx.commit();
      } catch (error) {
        await trx.abort().catch(() => undefined);
        throw error;
      }
    });
  }

  async function readSet(graphId: string): Promise<GraphSet | undefined> {
    const doc = (await retrying(`getGraphSet ${graphId}`, () =>
      db.collection(ARANGO_COLLECTIONS.graphSets).document(arangoKey(graphId), { graceful: true }),
    )) as Doc | null;
    return doc ? withoutMeta<GraphSet>(doc) : undefined;
  }

  const models = () => db.collection(ARANGO_COLLECTIONS.models);

  return {
    async saveGraphSet(set) {
      checkGraphSet(set);
      const { vertices, edges } = graphCollections(set.graph_id);
      await ensureGraph(set.graph_id);
      await inTransaction(
        `saveGraphSet ${set.graph_id}`,
        [ARANGO_COLLECTIONS.graphSets, vertices, edges],
        async (step) => {
          await step(() =>
            db
              .collection(ARANGO_COLLECTIONS.graphSets)
              .save({ ...set, _key: arangoKey(set.graph_id) }, { overwriteMode: 'replace', silent: true }),
          );
          for (const name of [vertices, edges])
            await step(() => db.query(AQL.removeWindowsFrom, { '@collection': name, windows: set.windows }));
        },
      );
    },

    async writeGraphWindow(window) {
      checkGraphWindow(window);
      const names = graphCollections(window.graph_id);
      const docs = windowDocuments(window);
      const vertexKey = (symbol: string): string => compositeKey([window.window, symbol]);
      const vertices = docs.vertices.map((v) => ({ ...v, _key: vertexKey(v.symbol) }));
      const edges = docs.edges.map((e) => ({
        ...e,
        _key: compositeKey([window.window, e.from, e.to]),
        _from: `${names.vertices}/${vertexKey(e.from)}`,
        _to: `${names.vertices}/${vertexKey(e.to)}`,
      }));
      await ensureGraph(window.graph_id);
      await inTransaction(
        `writeGraphWindow ${window.graph_id}#${window.window}`,
        [names.vertices, names.edges],
        async (step) => {
          for (const name of [names.edges, names.vertices])
            await step(() => db.query(AQL.removeWindow, { '@collection': name, window: window.window }));
          if (vertices.length > 0)
            checkItems(
              `vertices of ${names.vertices}`,
              await step(() => db.collection(names.vertices).saveAll(vertices, { overwriteMode: 'replace' })),
            );
          if (edges.length > 0)
            checkItems(
              `edges of ${names.edges}`,
              await step(() => db.collection(names.edges).saveAll(edges, { overwriteMode: 'replace' })),
            );
        },
      );
    },

    getGraphSet: (graphId) => (isGraphId(graphId) ? readSet(graphId) : Promise.resolve(undefined)),

    async readGraph(graphId, options = {}) {
      if (!isGraphId(graphId)) return undefined;
      const window = options.window === undefined ? null : checkLimit(options.window, 'window');
      const set = await readSet(graphId);
      if (!set) return undefined;
      const names = graphCollections(graphId);
      const [vertices, edges] = await Promise.all([
        // A graph whose collections are missing has nothing in them.
        orMissing(
          query<StoredVertex>(`readGraph ${graphId} vertices`, AQL.graphVertices, {
            '@collection': names.vertices,
            window,
          }),
          [],
        ),
        orMissing(
          query<GraphEdge & { window: number }>(`readGraph ${graphId} edges`, AQL.graphEdges, {
            '@collection': names.edges,
            window,
          }),
          [],
        ),
      ]);
      return { set, windows: windowsFrom(graphId, vertices, edges) };
    },

    listGraphs: () => query<GraphSet>('listGraphs', AQL.listGraphSets, {}),

    async recordModel(model, options = {}) {
      checkModelRecord(model);
      const doc = { ...model, _key: compositeKey([model.model_id, model.version]) };
      return retrying(`recordModel ${model.model_id} v${model.version}`, async (attempt) => {
        if (!options.onlyIfAbsent) {
          await models().save(doc, { overwriteMode: 'replace', silent: true });
          return true;
        }
        try {
          await models().save(doc, { silent: true });
          return true;
        } catch (error) {
          if (errorNumOf(error) !== ARANGO_ERRORS.uniqueConstraint) throw error;
          // A retry that finds its own first attempt (the answer was lost) did write it.
          if (attempt === 0) return false;
          const stored = (await models().document(doc._key, { graceful: true })) as Doc | null;
          return stored !== null && isDeepStrictEqual(withoutMeta(stored), JSON.parse(JSON.stringify(model)));
        }
      });
    },

    async getModel(modelId, version) {
      checkModelId(modelId);
      if (version === undefined) {
        const [latest] = await query<ModelRecord>(`getModel ${modelId}`, AQL.latestReadyModel, { model_id: modelId });
        return latest;
      }
      checkModelVersion(version);
      const doc = (await retrying(`getModel ${modelId} v${version}`, () =>
        models().document(compositeKey([modelId, version]), { graceful: true }),
      )) as Doc | null;
      return doc ? withoutMeta<ModelRecord>(doc) : undefined;
    },

    async listModels(options) {
      const limit = checkLimit(options.limit);
      if (options.model_id !== undefined) checkModelId(options.model_id);
      if (limit === 0) return [];
      return query<ModelRecord>('listModels', AQL.listModels, { model_id: options.model_id ?? null, limit });
    },
  };
}
