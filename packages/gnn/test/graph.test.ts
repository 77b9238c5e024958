import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizedAdjacency, receptiveField, toEdgeList } from '../src/graph.ts';
import { toDense } from '../src/sparse.ts';

/** Â = D^-1/2 (A + I) D^-1/2 computed densely, for comparison. */
function denseReference(n: number, edges: [number, number][], weights?: number[]): number[] {
  const a = new Array<number>(n * n).fill(0);
  for (let i = 0; i < n; i++) a[i * n + i] = 1;
  edges.forEach(([u, v], k) => {
    a[u * n + v] = weights?.[k] ?? 1;
    a[v * n + u] = weights?.[k] ?? 1;
  });
  const d = Array.from({ length: n }, (_, i) => a.slice(i * n, i * n + n).reduce((s, x) => s + x, 0));
  return a.map((x, q) => x / Math.sqrt(d[Math.floor(q / n)] * d[q % n]));
}

test('Â adds self-loops and normalises symmetrically by degree', () => {
  const edges: [number, number][] = [
    [0, 1],
    [1, 2],
    [1, 3],
  ];
  const a = normalizedAdjacency({ numNodes: 5, edges });
  const expected = denseReference(5, edges);
  for (const [q, x] of toDense(a).entries()) assert.ok(Math.abs(x - expected[q]!) < 1e-7, `entry ${q}`);
  // node 4 is isolated: only its self-loop, weight 1
  assert.equal(toDense(a)[4 * 5 + 4], 1);
  // rows have sorted columns
  for (let i = 0; i < 5; i++) {
    const cols = Array.from(a.colIdx.subarray(a.rowPtr[i], a.rowPtr[i + 1]));
    assert.deepEqual(
      cols,
      [...cols].sort((x, y) => x - y),
    );
  }
});

test('edge weights enter A and the degrees', () => {
  const edges: [number, number][] = [
    [0, 1],
    [0, 2],
    [2, 3],
  ];
  const weights = [0.9, 0.3, 2];
  const dense = toDense(normalizedAdjacency({ numNodes: 4, edges, weights }));
  const expected = denseReference(4, edges, weights);
  for (const [q, x] of dense.entries()) assert.ok(Math.abs(x - expected[q]!) < 1e-7);
  assert.equal(dense[1], dense[4]); // symmetric
});

test('bad edges and weights are refused naming the entry', () => {
  // Edges as flat node pairs, so each case stays one line.
  const edges = (...nodes: number[]) =>
    Array.from({ length: nodes.length / 2 }, (_, i) => [nodes[2 * i]!, nodes[2 * i + 1]!] as [number, number]);
  const refused: Array<[Pick<Parameters<typeof normalizedAdjacency>[0], 'edges' | 'weights'>, RegExp]> = [
    [{ edges: edges(0, 1, 1, 1) }, /edges\[1\]: self-loop on node 1/],
    [{ edges: edges(0, 1, 1, 0) }, /edges\[1\]: duplicate edge between 1 and 0/],
    [{ edges: edges(0, 3) }, /edges\[0\]: node 3 is not an integer in \[0, 2\]/],
    [{ edges: edges(0, 1), weights: [-0.4] }, /weights\[0\]: must be a finite number > 0, got -0.4/],
    [{ edges: edges(0, 1), weights: [] }, /weights: expected one weight per edge \(1\), got 0/],
  ];
  for (const [graph, reason] of refused) assert.throws(() => normalizedAdjacency({ numNodes: 3, ...graph }), reason);
});

test('the receptive field of a node is its 1-hop (hidden) and 2-hop (input) neighbourhood', () => {
  // path 0 - 1 - 2 - 3 - 4
  const a = normalizedAdjacency({
    numNodes: 5,
    edges: [
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
    ],
  });
  const field = receptiveField(a, [0]);
  assert.deepEqual(Array.from(field.hidden), [0, 1]);
  assert.deepEqual(Array.from(field.input), [0, 1, 2]);
});

test('the edge list of Â holds every entry including self-loops', () => {
  const a = normalizedAdjacency({ numNodes: 3, edges: [[0, 2]] });
  const { src, dst, weights } = toEdgeList(a);
  assert.equal(src.length, 3 + 2);
  const dense = toDense(a);
  for (let e = 0; e < src.length; e++) assert.equal(weights[e], dense[dst[e] * 3 + src[e]]);
});
