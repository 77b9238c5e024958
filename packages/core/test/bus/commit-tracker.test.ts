/**
 * The commit tracker of one partition: which offset its group may commit while records reach
 * their outcome out of order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommitTracker } from '../../src/bus/commit-tracker.ts';

test('the next committable offset never passes a record without an outcome, whatever order they finish in', () => {
  const offsets = new CommitTracker(5n);
  for (const offset of [5n, 6n, 7n]) offsets.take(offset);

  assert.equal(offsets.done(6n), 5n, '5 still runs: the commit stays before it');
  assert.equal(offsets.done(5n), 7n, '5 and 6 are done: 7 is next');
  assert.equal(offsets.done(7n), 8n, 'all done: past the highest taken in');
  assert.equal(offsets.position, 8n);
});

test('a record read again after a rebalance is not new, and nothing below where the member started is committed', () => {
  const offsets = new CommitTracker(10n);
  offsets.take(10n);

  assert.equal(offsets.isNew(10n), false);
  assert.equal(offsets.isNew(11n), true);
  assert.equal(offsets.committable(10n), false, 'the group already stands at 10');
  assert.equal(offsets.committable(11n), true);
});

test('records given back count as never taken in: they are new again, and the commit can reach them', () => {
  const offsets = new CommitTracker(0n);
  for (const offset of [0n, 1n, 2n, 3n]) offsets.take(offset);

  offsets.giveBack(2n);

  assert.equal(offsets.isNew(2n), true);
  assert.equal(offsets.done(1n), 0n);
  assert.equal(offsets.done(0n), 2n, 'not past 2: it is to be read again');
});
