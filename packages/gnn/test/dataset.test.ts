import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamForgeError } from '@streamforge/core/errors';
import { loadDataset, validateDataset } from '../src/dataset.ts';
import { fixtureUrl } from './fixtures.ts';

function tiny(): Record<string, unknown> {
  return {
    name: 'tiny',
    numNodes: 4,
    numFeatures: 3,
    numClasses: 2,
    features: [[0], [1, 2], [], [2]],
    labels: [0, 1, -1, 1],
    edges: [
      [0, 1],
      [1, 3],
      [2, 3],
    ],
    train: [0, 1],
    val: [3],
    test: [],
  };
}

/** Asserts that validating `doc` fails with SF_CONTRACT_INVALID and this message. */
function rejects(doc: unknown, message: RegExp): void {
  assert.throws(
    () => validateDataset(doc),
    (error: unknown) => {
      assert.ok(StreamForgeError.is(error), 'a StreamForgeError');
      assert.equal(error.code, 'SF_CONTRACT_INVALID');
      assert.match(error.message, message);
      return true;
    },
  );
}

test('the CiteSeer fixture loads with the standard Planetoid split', async () => {
  const d = await loadDataset(fixtureUrl('citeseer-planetoid.json'));
  assert.equal(d.name, 'citeseer');
  assert.deepEqual([d.numNodes, d.numFeatures, d.numClasses, d.edges.length], [3327, 3703, 6, 4552]);
  assert.equal(
    d.features?.reduce((s, row) => s + row.length, 0),
    105_165,
  );
  assert.deepEqual([d.split?.train.length, d.split?.val.length, d.split?.test.length], [120, 500, 1000]);
  assert.equal(d.labels.filter((l) => l === -1).length, 15); // CiteSeer's isolated padding nodes
});

test('the karate-club fixture loads as featureless and without a split', async () => {
  const d = await loadDataset(fixtureUrl('karate-club.json'));
  assert.deepEqual([d.numNodes, d.numFeatures, d.numClasses, d.edges.length], [34, 34, 2, 78]);
  assert.equal(d.features, null);
  assert.equal(d.split, null);
});

test('a valid document comes back typed, with extra fields ignored', () => {
  const d = validateDataset({ ...tiny(), source: 'hand-made', edgeWeights: [1, 0.5, 2] });
  assert.deepEqual(Array.from(d.labels), [0, 1, -1, 1]);
  assert.deepEqual(Array.from(d.edgeWeights ?? []), [1, 0.5, 2]);
  assert.deepEqual(Array.from(d.split?.train ?? []), [0, 1]);
});

test('dataset errors name the field and the reason', () => {
  rejects([], /^\(root\): must be an object, got an array/);
  rejects({ ...tiny(), name: '' }, /^name: must be a non-empty string/);
  rejects({ ...tiny(), numNodes: 2.5 }, /^numNodes: must be an integer ≥ 1, got 2.5/);
  rejects({ ...tiny(), numClasses: 1 }, /^numClasses: must be an integer ≥ 2, got 1/);
  rejects({ ...tiny(), numFeatures: undefined }, /^numFeatures: must be an integer ≥ 1, got undefined/);
  rejects({ ...tiny(), features: [[0], [1]] }, /^features: must have 4 entries, got 2/);
  rejects(
    { ...tiny(), features: [[0], [1, 3], [], [2]] },
    /^features\[1\]\[1\]: must be an integer in \[0, 2\], got 3/,
  );
  rejects(
    { ...tiny(), features: [[0], [2, 1], [], [2]] },
    /^features\[1\]\[1\]: feature indices must be strictly increasing, 1 follows 2/,
  );
  rejects({ ...tiny(), features: [[0], 'x', [], [2]] }, /^features\[1\]: must be an array, got "x"/);
  rejects({ ...tiny(), labels: [0, 1, 2, 1] }, /^labels\[2\]: must be an integer in \[-1, 1\], got 2/);
  rejects({ ...tiny(), labels: [0, 1] }, /^labels: must have 4 entries, got 2/);
  rejects(
    {
      ...tiny(),
      edges: [
        [0, 1],
        [3, 1],
      ],
    },
    /^edges\[1\]: u 3 is not less than v 1/,
  );
  rejects(
    {
      ...tiny(),
      edges: [
        [0, 1],
        [0, 1],
      ],
    },
    /^edges\[1\]: duplicate edge \[0, 1\]/,
  );
  rejects({ ...tiny(), edges: [[0, 4]] }, /^edges\[0\]\[1\]: must be an integer in \[0, 3\], got 4/);
  rejects({ ...tiny(), edges: [[0, 1, 2]] }, /^edges\[0\]: must have 2 entries, got 3/);
  rejects({ ...tiny(), edgeWeights: [1, 0, 1] }, /^edgeWeights\[1\]: must be a finite number > 0, got 0/);
  rejects({ ...tiny(), train: [0, 2] }, /^train\[1\]: node 2 has no label \(labels\[2\] is -1\)/);
  rejects({ ...tiny(), val: [1] }, /^val\[0\]: node 1 is already in train/);
  rejects({ ...tiny(), test: undefined }, /^test: missing while train, val are given/);
  rejects({ ...tiny(), train: [] }, /^train: must list at least one node/);
});

test('loading names the file when it is missing, not JSON, or invalid', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gnn-dataset-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await assert.rejects(
    loadDataset(join(dir, 'absent.json')),
    (e: unknown) => StreamForgeError.is(e) && e.code === 'SF_NOT_FOUND' && /absent\.json: no such file/.test(e.message),
  );
  writeFileSync(join(dir, 'broken.json'), '{"name": ');
  await assert.rejects(loadDataset(join(dir, 'broken.json')), /broken\.json: not valid JSON/);
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...tiny(), labels: [0, 1, 5, 1] }));
  await assert.rejects(
    loadDataset(join(dir, 'bad.json')),
    (e: unknown) =>
      StreamForgeError.is(e) &&
      /bad\.json: labels\[2\]: must be an integer in \[-1, 1\], got 5/.test(e.message) &&
      e.details?.field === 'labels[2]',
  );
});
