/**
 * Graph windows as both adapters store them: one document per vertex, carrying its window's
 * index and bounds, and one per edge carrying its window's index. A window is read back from
 * its documents, so a window with no vertex is not stored.
 */
import type { GraphEdge, GraphVertex, GraphWindow } from './port.ts';

/** A vertex as stored: the window's bounds travel with it (ArangoDB keeps the same document). */
export interface StoredVertex extends GraphVertex {
  window: number;
  window_start: number;
  window_end: number;
}

/** Vertex and edge documents of one window, as both adapters store them. */
export function windowDocuments(window: GraphWindow): {
  vertices: StoredVertex[];
  edges: Array<GraphEdge & { window: number }>;
} {
  return {
    vertices: window.vertices.map((v) => ({
      window: window.window,
      window_start: window.start,
      window_end: window.end,
      ...v,
    })),
    edges: window.edges.map((e) => ({ window: window.window, ...e })),
  };
}

/** Windows rebuilt from stored vertices (in window, symbol order) and edges (in window, from, to order). */
export function windowsFrom(
  graphId: string,
  vertices: StoredVertex[],
  edges: Array<GraphEdge & { window: number }>,
): GraphWindow[] {
  const windows = new Map<number, GraphWindow>();
  for (const { window, window_start, window_end, ...vertex } of vertices) {
    let w = windows.get(window);
    if (!w) {
      w = { graph_id: graphId, window, start: window_start, end: window_end, vertices: [], edges: [] };
      windows.set(window, w);
    }
    w.vertices.push(vertex);
  }
  for (const { window, ...edge } of edges) windows.get(window)?.edges.push(edge);
  return [...windows.values()].sort((a, b) => a.window - b.window);
}
