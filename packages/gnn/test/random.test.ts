import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng, keepThreshold } from '../src/random.ts';

test('one seed gives one sequence, another seed another', () => {
  const a = createRng(42);
  const b = createRng(42);
  const c = createRng(43);
  const seqA = Array.from({ length: 8 }, () => a.nextU32());
  assert.deepEqual(
    Array.from({ length: 8 }, () => b.nextU32()),
    seqA,
  );
  assert.notDeepEqual(
    Array.from({ length: 8 }, () => c.nextU32()),
    seqA,
  );
});

test('fillU32 continues the same stream as nextU32', () => {
  const a = createRng(7);
  const b = createRng(7);
  const filled = new Uint32Array(5);
  a.fillU32(filled, 3);
  assert.deepEqual(Array.from(filled.subarray(0, 3)), [b.nextU32(), b.nextU32(), b.nextU32()]);
  assert.equal(a.nextU32(), b.nextU32());
});

test('seed 0 works and uniform draws look uniform', () => {
  const rng = createRng(0);
  const buckets = new Array<number>(10).fill(0);
  for (let i = 0; i < 100_000; i++) buckets[Math.floor(rng.next() * 10)]++;
  for (const count of buckets) assert.ok(Math.abs(count - 10_000) < 500, `bucket count ${count}`);
});

test('a dropout threshold keeps about 1 - rate of the draws', () => {
  const rng = createRng(5);
  const draws = new Uint32Array(100_000);
  rng.fillU32(draws);
  const threshold = keepThreshold(0.5);
  const kept = draws.filter((d) => d < threshold).length;
  assert.ok(Math.abs(kept - 50_000) < 800, `kept ${kept}`);
  assert.equal(keepThreshold(0), 2 ** 32);
});
