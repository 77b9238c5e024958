/** How many instances the one-machine platform places, by its cores and their idle time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FULL_BELOW_IDLE, place } from '../src/scale-placement.ts';

test('up to one instance per core is placed whatever the load', () => {
  assert.deepEqual(place(2, 0, 2, 0), { instances: 2 });
  assert.deepEqual(place(1, 1, 2, 0.01), { instances: 1 });
});

test('past the cores, a busy machine holds a function at one instance per core and says why', () => {
  const held = place(6, 1, 2, 0.05);
  assert.equal(held.instances, 2);
  assert.match(held.held ?? '', /held at 2: the machine's 2 cores are 95 % busy/);
});

test('past the cores, idle time lets a waiting function grow as far as its lag asks', () => {
  assert.deepEqual(place(6, 2, 2, FULL_BELOW_IDLE), { instances: 6 });
  assert.deepEqual(place(6, 2, 2, 0.8), { instances: 6 });
});

test("a full machine never takes instances away: scaling down stays the cooldown's decision", () => {
  assert.deepEqual(place(6, 4, 2, 0), {
    instances: 4,
    held: "held at 4: the machine's 2 cores are 100 % busy, so another instance would only share them",
  });
  assert.deepEqual(place(1, 4, 2, 0), { instances: 1 });
});
