/** How many instances the one-machine platform places, by its cores and their idle time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FULL_BELOW_IDLE, place, type MachineRoom } from '../src/scale-placement.ts';

const machine = (idleShare: number | undefined, cores = 2, free = true): MachineRoom => ({ cores, idleShare, free });

test('up to one instance per core is placed at once, whatever the load', () => {
  assert.deepEqual(place(2, 0, machine(0)), { instances: 2 });
  assert.deepEqual(place(1, 1, machine(0.01)), { instances: 1 });
  assert.deepEqual(place(2, 0, machine(undefined)), { instances: 2 });
});

test('past the cores, a busy machine holds a function at one instance per core and says why', () => {
  const held = place(6, 1, machine(0.05));
  assert.equal(held.instances, 2);
  assert.match(held.held ?? '', /held at 2: the machine's 2 cores are 95 % busy/);
  assert.match(place(3, 0, machine(0, 1)).held ?? '', /held at 1: the machine's one core is 100 % busy/);
});

test('past the cores, idle time grows a waiting function one instance a poll, up to what its lag asks', () => {
  const step = place(6, 2, machine(FULL_BELOW_IDLE));
  assert.equal(step.instances, 3);
  assert.match(
    step.held ?? '',
    /3 for now: past the machine's 2 cores, one more instance a poll while they have idle time \(25 % idle\)/,
  );
  assert.deepEqual(place(6, 5, machine(0.8)), { instances: 6 });
});

test('one idle sample grows one function: the others wait for the next poll', () => {
  const held = place(6, 2, machine(0.9, 2, false));
  assert.equal(held.instances, 2);
  assert.match(held.held ?? '', /another function grew past the machine's 2 cores at this poll/);
});

test('a machine whose idle time cannot be read is taken as full', () => {
  assert.deepEqual(place(6, 2, machine(undefined)), {
    instances: 2,
    held: "held at 2: the machine's idle time cannot be read",
  });
});

test("a full machine never takes instances away: scaling down stays the cooldown's decision", () => {
  assert.equal(place(6, 4, machine(0)).instances, 4);
  assert.deepEqual(place(1, 4, machine(0)), { instances: 1 });
});
