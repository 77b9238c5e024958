/**
 * Graph sets for the trainer tests, written straight into a store as graph-builder would:
 * `windows` daily windows of `symbols` symbols on a ring (each also linked to the symbol two
 * steps on), three features per vertex, and a label that depends mostly on the neighbours'
 * first feature — a graph a GCN can learn and a model without edges cannot.
 */
import type { GraphSet, GraphWindow, Store } from '@streamforge/core/store';
import { seededRandom } from '@streamforge/simulator';

export const DAY = 86_400_000;
export const T0 = Date.UTC(2024, 0, 1);

export const FEATURES = ['signal', 'noise_a', 'noise_b'];

export function syntheticWindows(graphId: string, windows: number, symbols: number, seed = 3): GraphWindow[] {
  const next = seededRandom(seed);
  const names = Array.from({ length: symbols }, (_, i) => `S${String(i).padStart(2, '0')}USDT`);
  return Array.from({ length: windows }, (_, w): GraphWindow => {
    const start = T0 + w * DAY;
    const end = start + DAY;
    const x = names.map(() => [next() * 2 - 1, next() * 2 - 1, next() * 2 - 1]);
    const neighbours = (i: number) => [
      (i + 1) % symbols,
      (i + symbols - 1) % symbols,
      (i + 2) % symbols,
      (i + symbols - 2) % symbols,
    ];
    const last = w === windows - 1;
    return {
      graph_id: graphId,
      window: w,
      start,
      end,
      vertices: names.map((symbol, i) => {
        const around = neighbours(i).reduce((s, j) => s + x[j]![0]!, 0) / 4;
        const value = 0.2 * x[i]![0]! + around + 0.1 * (next() - 0.5);
        return {
          symbol,
          features: x[i]!,
          label: last ? null : { class: value > 0 ? 1 : 0, value, known_at: end + DAY },
        };
      }),
      edges: names.flatMap((from, i) =>
        [names[(i + 1) % symbols]!, names[(i + 2) % symbols]!].map((to) => ({ from, to, weight: 0.5 + 0.5 * next() })),
      ),
    };
  });
}

/** Writes a complete graph set of synthetic windows, as graph-builder leaves one. */
export async function writeSyntheticGraph(
  store: Store,
  graphId: string,
  windows = 40,
  symbols = 8,
): Promise<GraphWindow[]> {
  const all = syntheticWindows(graphId, windows, symbols);
  const set: GraphSet = {
    graph_id: graphId,
    status: 'building',
    windows,
    feature_names: FEATURES,
    symbols: all[0]!.vertices.map((v) => v.symbol),
    params: { type: 'synthetic' },
    created_at: T0,
    updated_at: T0,
  };
  await store.saveGraphSet(set);
  for (const w of all) await store.writeGraphWindow(w);
  await store.saveGraphSet({ ...set, status: 'complete' });
  return all;
}
