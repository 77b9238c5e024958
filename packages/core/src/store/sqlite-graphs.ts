/**
 * Graphs and the model registry in SQLite: a graph set is a row of `graph_sets`, its windows
 * rows of `graph_vertices` and `graph_edges` keyed by (graph, window, …), so replacing a
 * window is a delete and an insert in one write transaction; a model version is a row of
 * `models` keyed by (model_id, version).
 */
import type { DatabaseSync } from 'node:sqlite';
import {
  checkGraphSet,
  checkGraphWindow,
  checkModelId,
  checkModelRecord,
  checkModelVersion,
  isGraphId,
} from './graph-checks.ts';
import { checkLimit } from './input-checks.ts';
import { windowDocuments, windowsFrom, type StoredVertex } from './graph-documents.ts';
import type { GraphEdge, GraphSet, GraphStore, ModelRecord, ModelStore, StoredGraph } from './port.ts';
import type { SqliteRunners } from './sqlite-workflows.ts';

export function createSqliteGraphs(db: DatabaseSync, { writing, reading }: SqliteRunners): GraphStore & ModelStore {
  const sql = {
    upsertSet: db.prepare(
      'INSERT INTO graph_sets (graph_id, doc) VALUES (?, ?) ON CONFLICT (graph_id) DO UPDATE SET doc = excluded.doc',
    ),
    getSet: db.prepare('SELECT doc FROM graph_sets WHERE graph_id = ?'),
    listSets: db.prepare('SELECT doc FROM graph_sets ORDER BY graph_id'),
    dropVerticesFrom: db.prepare('DELETE FROM graph_vertices WHERE graph_id = ? AND window_index >= ?'),
    dropEdgesFrom: db.prepare('DELETE FROM graph_edges WHERE graph_id = ? AND window_index >= ?'),
    dropVertices: db.prepare('DELETE FROM graph_vertices WHERE graph_id = ? AND window_index = ?'),
    dropEdges: db.prepare('DELETE FROM graph_edges WHERE graph_id = ? AND window_index = ?'),
    insertVertex: db.prepare('INSERT INTO graph_vertices (graph_id, window_index, symbol, doc) VALUES (?, ?, ?, ?)'),
    insertEdge: db.prepare(
      'INSERT INTO graph_edges (graph_id, window_index, source, target, doc) VALUES (?, ?, ?, ?, ?)',
    ),
    vertices: db.prepare('SELECT doc FROM graph_vertices WHERE graph_id = ? ORDER BY window_index, symbol'),
    edges: db.prepare('SELECT doc FROM graph_edges WHERE graph_id = ? ORDER BY window_index, source, target'),
    windowVertices: db.prepare(
      'SELECT doc FROM graph_vertices WHERE graph_id = ? AND window_index = ? ORDER BY symbol',
    ),
    windowEdges: db.prepare(
      'SELECT doc FROM graph_edges WHERE graph_id = ? AND window_index = ? ORDER BY source, target',
    ),
    insertModel: db.prepare(
      'INSERT INTO models (model_id, version, status, doc) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    upsertModel: db.prepare(
      'INSERT INTO models (model_id, version, status, doc) VALUES (?, ?, ?, ?) ON CONFLICT (model_id, version) DO UPDATE SET status = excluded.status, doc = excluded.doc',
    ),
    getModel: db.prepare('SELECT doc FROM models WHERE model_id = ? AND version = ?'),
    latestReady: db.prepare(
      "SELECT doc FROM models WHERE model_id = ? AND status = 'ready' ORDER BY version DESC LIMIT 1",
    ),
    listModels: db.prepare('SELECT doc FROM models ORDER BY model_id, version DESC LIMIT ?'),
    listModelsOf: db.prepare('SELECT doc FROM models WHERE model_id = ? ORDER BY version DESC LIMIT ?'),
  };
  const docs = <T>(rows: unknown[]): T[] => (rows as Array<{ doc: string }>).map((row) => JSON.parse(row.doc) as T);

  return {
    async saveGraphSet(set) {
      checkGraphSet(set);
      const doc = JSON.stringify(set);
      await writing(`saveGraphSet ${set.graph_id}`, () => {
        sql.upsertSet.run(set.graph_id, doc);
        sql.dropVerticesFrom.run(set.graph_id, set.windows);
        sql.dropEdgesFrom.run(set.graph_id, set.windows);
      });
    },

    async writeGraphWindow(window) {
      checkGraphWindow(window);
      const { vertices, edges } = windowDocuments(window);
      const vertexRows = vertices.map((v) => [v.symbol, JSON.stringify(v)] as const);
      const edgeRows = edges.map((e) => [e.from, e.to, JSON.stringify(e)] as const);
      await writing(`writeGraphWindow ${window.graph_id}#${window.window}`, () => {
        sql.dropVertices.run(window.graph_id, window.window);
        sql.dropEdges.run(window.graph_id, window.window);
        for (const [symbol, doc] of vertexRows) sql.insertVertex.run(window.graph_id, window.window, symbol, doc);
        for (const [from, to, doc] of edgeRows) sql.insertEdge.run(window.graph_id, window.window, from, to, doc);
      });
    },

    getGraphSet: (graphId) =>
      reading(`getGraphSet ${graphId}`, () => {
        const row = sql.getSet.get(graphId) as { doc: string } | undefined;
        return row ? (JSON.parse(row.doc) as GraphSet) : undefined;
      }),

    async readGraph(graphId, options = {}) {
      if (!isGraphId(graphId)) return undefined;
      const one = options.window;
      if (one !== undefined) checkLimit(one, 'window');
      return reading(`readGraph ${graphId}`, (): StoredGraph | undefined => {
        const row = sql.getSet.get(graphId) as { doc: string } | undefined;
        if (!row) return undefined;
        const vertices = docs<StoredVertex>(
          one === undefined ? sql.vertices.all(graphId) : sql.windowVertices.all(graphId, one),
        );
        const edges = docs<GraphEdge & { window: number }>(
          one === undefined ? sql.edges.all(graphId) : sql.windowEdges.all(graphId, one),
        );
        return { set: JSON.parse(row.doc) as GraphSet, windows: windowsFrom(graphId, vertices, edges) };
      });
    },

    listGraphs: () => reading('listGraphs', () => docs<GraphSet>(sql.listSets.all())),

    async recordModel(model, options = {}) {
      checkModelRecord(model);
      const doc = JSON.stringify(model);
      return writing(`recordModel ${model.model_id} v${model.version}`, () => {
        const statement = options.onlyIfAbsent ? sql.insertModel : sql.upsertModel;
        return statement.run(model.model_id, model.version, model.status, doc).changes === 1;
      });
    },

    async getModel(modelId, version) {
      checkModelId(modelId);
      if (version !== undefined) checkModelVersion(version);
      return reading(`getModel ${modelId}`, () => {
        const row = (version === undefined ? sql.latestReady.get(modelId) : sql.getModel.get(modelId, version)) as
          | { doc: string }
          | undefined;
        return row ? (JSON.parse(row.doc) as ModelRecord) : undefined;
      });
    },

    async listModels(options) {
      const limit = checkLimit(options.limit);
      if (options.model_id !== undefined) checkModelId(options.model_id);
      return reading('listModels', () =>
        docs<ModelRecord>(
          options.model_id === undefined ? sql.listModels.all(limit) : sql.listModelsOf.all(options.model_id, limit),
        ),
      );
    },
  };
}
