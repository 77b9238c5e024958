import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSplit, stratifiedSplit } from '../src/split.ts';

const labels = Int32Array.from([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, -1]);

test('a stratified split takes the same number of training nodes from every class', () => {
  const split = stratifiedSplit(labels, 2, { trainPerClass: 2, valPerClass: 1, seed: 3 });
  assert.deepEqual(Array.from(split.train, (i) => labels[i]).sort(), [0, 0, 1, 1]);
  assert.equal(split.val.length, 2);
  assert.equal(split.test.length, 11 - 6); // the unlabelled node is in no split
  const all = [...split.train, ...split.val, ...split.test];
  assert.equal(new Set(all).size, all.length);
  assert.deepEqual(stratifiedSplit(labels, 2, { trainPerClass: 2, valPerClass: 1, seed: 3 }), split);
});

test('a class too small for the split is refused', () => {
  assert.throws(
    () => stratifiedSplit(labels, 2, { trainPerClass: 4, valPerClass: 2, seed: 1 }),
    /labels: class 0 has 5 labelled nodes, fewer than 4 train \+ 2 val/,
  );
});

test('the default split shrinks to a fifth of the smallest class on small graphs', () => {
  const karateLike = Int32Array.from({ length: 34 }, (_, i) => (i < 17 ? 0 : 1));
  const split = defaultSplit(karateLike, 2, 1);
  assert.deepEqual([split.train.length, split.val.length, split.test.length], [6, 6, 22]);
});
