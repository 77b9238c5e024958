import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testBlocks, walkForward } from '../src/walk-forward.ts';
import { DAY, syntheticWindows } from './graph-fixture.ts';

test('the test blocks are consecutive runs after the initial windows, as equal as can be', () => {
  assert.deepEqual(testBlocks(10, 4, 4), [
    [4, 6],
    [6, 8],
    [8, 9],
    [9, 10],
  ]);
  assert.deepEqual(testBlocks(10, 8, 4), [
    [8, 9],
    [9, 10],
  ]);
  assert.deepEqual(testBlocks(3, 3, 2), []);
});

test('a fold trains only on windows whose labels were known when its first test window ended (purged), and tests each later vertex once', async () => {
  // Labels known three days after each window's end: the two windows before a block are left out.
  const windows = syntheticWindows('purge', 20, 6).map((w) => ({
    ...w,
    vertices: w.vertices.map((v) => (v.label ? { ...v, label: { ...v.label, known_at: w.end + 3 * DAY } } : v)),
  }));
  const result = await walkForward(windows, { folds: 3, train: { epochs: 5, seed: 1 }, numFeatures: 3 });
  assert.deepEqual(
    result.folds.map((f) => [f.train_windows, f.test_windows]),
    [
      [
        { first: 0, last: 6, count: 7 },
        { first: 9, last: 12, count: 4 },
      ],
      [
        { first: 0, last: 10, count: 11 },
        { first: 13, last: 15, count: 3 },
      ],
      [
        { first: 0, last: 13, count: 14 },
        { first: 16, last: 18, count: 3 },
      ],
    ],
  );
  assert.equal(result.gcn.total, 10 * 6);
  assert.equal(result.no_graph.total, result.gcn.total);
  assert.equal(result.majority.total, result.gcn.total);
  assert.ok(result.up_rate > 0 && result.up_rate < 1);
});
