import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGate } from '../src/page-gate.ts';

test('a gate runs at most its limit at once, the others in the order they came, and a failure frees its place', async () => {
  const gate = createGate(2);
  let active = 0;
  let most = 0;
  const started: number[] = [];
  const releases = new Map<number, () => void>();
  const runs = [0, 1, 2, 3, 4].map((n) =>
    gate(async () => {
      started.push(n);
      active++;
      most = Math.max(most, active);
      await new Promise<void>((resolve) => releases.set(n, resolve));
      active--;
      if (n === 1) throw new Error('page 1 failed');
      return n;
    }),
  );
  const settled = Promise.allSettled(runs);
  const release = async (n: number) => {
    while (!releases.has(n)) await new Promise((r) => setImmediate(r));
    releases.get(n)!();
  };
  for (const n of [1, 0, 2, 3, 4]) await release(n);
  const outcomes = await settled;
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'],
  );
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.equal(most, 2);
});
